// Process-wide allocator settings for training processes.
#pragma once

namespace strike::core {

// Keeps memory that training frees inside the process for the next step. With glibc's defaults every
// step's large activations are returned to the kernel (heap trim, munmap) and faulted back in on the
// next step: on the 2-core CI machine that cost a fifth of a small CNN's training time in kernel
// page-fault handling. Call once at the start of main().
void keep_freed_memory_for_reuse();

}  // namespace strike::core
