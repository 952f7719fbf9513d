#ifndef INKWELL_KERNEL_DISPATCH_H
#define INKWELL_KERNEL_DISPATCH_H

#include "InkwellKernels.h"

// DISPATCH(name, args...) runs name_avx512(args) or name_avx2(args), and returns, where the
// kernels run at that level (inkwell_kernels_level()); elsewhere it does nothing, and the code
// after it (the portable version) runs. Both copies are defined under KERNELS_X86.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define KERNELS_X86 1
#define DISPATCH(name, ...) do { \
    const int level = inkwell_kernels_level(); \
    if (level == INKWELL_KERNELS_AVX512) { name##_avx512(__VA_ARGS__); return; } \
    if (level == INKWELL_KERNELS_AVX2) { name##_avx2(__VA_ARGS__); return; } \
} while (0)
#else
#define DISPATCH(name, ...) do { } while (0)
#endif

#endif
