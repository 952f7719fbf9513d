#ifndef INKWELL_TAIL_MASK_H
#define INKWELL_TAIL_MASK_H

// Eight -1s then eight 0s: the 8 ints from (tail_lanes + 8 - n) are an AVX2 mask of the first
// n lanes (0 <= n <= 8), for masked loads and stores of a row's last few floats.
static const int tail_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#endif
