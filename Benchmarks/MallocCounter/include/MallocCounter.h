#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>

/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by this
/// process since it started, on every thread.
uint64_t malloc_counter_allocations(void);

#endif
