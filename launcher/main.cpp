// strike-app: the strike command tree (the `strike` front runs it for every command but `strike data`).
#include "core/malloc_tuning.h"
#include "launcher/app.h"

int main(int argc, char** argv) {
  strike::core::keep_freed_memory_for_reuse();  // eval and predict run in this process
  return strike::launcher::run_strike(argc, argv);
}
