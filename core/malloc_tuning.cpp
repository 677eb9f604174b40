// glibc mallopt settings; a no-op on other C libraries.
#include "core/malloc_tuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace strike::core {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // 32 MiB is the largest mmap threshold glibc accepts on 64-bit; allocations below it come from the
  // heap, and a trim threshold of 1 GiB stops the heap from shrinking after every step.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
}

void return_freed_batches_to_the_kernel() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);  // a fixed threshold is never raised
#endif
}

}  // namespace strike::core
