#ifndef INKWELL_CMPI_SHIM_H
#define INKWELL_CMPI_SHIM_H
// OpenMPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are macros over the addresses of
// its globals, which Swift does not import: these functions return them.
#include <mpi.h>

static inline MPI_Comm inkwell_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype inkwell_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype inkwell_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype inkwell_mpi_uint64(void) { return MPI_UINT64_T; }
static inline MPI_Datatype inkwell_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op inkwell_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op inkwell_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler inkwell_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *inkwell_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request inkwell_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *inkwell_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
#endif
