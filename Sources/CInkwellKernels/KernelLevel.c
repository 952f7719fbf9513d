// Which instruction set the kernels use: the CPU's best of AVX-512F, AVX2 + FMA and portable C,
// read once, unless a test caps it.
#include "InkwellKernels.h"

static int detected = -1;
static int cap = INKWELL_KERNELS_AVX512;

static int detect(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return INKWELL_KERNELS_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return INKWELL_KERNELS_AVX2;
#endif
    return INKWELL_KERNELS_PORTABLE;
}

int inkwell_kernels_cpu_level(void) {
    if (detected < 0) detected = detect();
    return detected;
}

int inkwell_kernels_level(void) {
    int level = inkwell_kernels_cpu_level();
    return level < cap ? level : cap;
}

void inkwell_kernels_set_max_level(int level) { cap = level; }
