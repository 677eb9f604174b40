// Process-wide allocator settings: training keeps freed memory, conversion gives it back.
#pragma once

namespace strike::core {

// Keeps memory that training frees inside the process for the next step. With glibc's defaults every
// step's large activations are returned to the kernel (heap trim, munmap) and faulted back in on the
// next step: on the 2-core CI machine that cost a fifth of a small CNN's training time in kernel
// page-fault handling. Call once at the start of main().
void keep_freed_memory_for_reuse();

// Gives blocks of a megabyte or more back to the kernel when they are freed. A conversion streams
// batches of that size through memory; glibc raises its mmap threshold each time such a block is
// freed, after which later batches are carved from the heap and their pages kept, so peak memory
// crept up with the input's length (+17% over a text corpus repeated 10 times, +4% with this).
// Call once at the start of main().
void return_freed_batches_to_the_kernel();

}  // namespace strike::core
