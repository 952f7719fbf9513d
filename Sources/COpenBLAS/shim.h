#ifndef INKWELL_COPENBLAS_SHIM_H
#define INKWELL_COPENBLAS_SHIM_H
#include <cblas.h>
// Declared by OpenBLAS (openblas_config.h / cblas.h); repeated so the shim does not depend on
// which of them a given Debian build exposes.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
// LAPACK's symmetric eigensolver (divide and conquer), which Debian's libopenblas exports.
void dsyevd_(char *jobz, char *uplo, int *n, double *a, int *lda, double *w, double *work, int *lwork,
             int *iwork, int *liwork, int *info);
#endif
