// Expanding predict's file and folder arguments into files.
#include "worker/input_files.h"

#include <algorithm>

#include "core/error.h"

namespace strike::worker {

namespace fs = std::filesystem;

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs,
                                       const std::function<bool(const fs::path&)>& keep, const std::string& what) {
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    if (fs::is_directory(input)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(input); it != fs::recursive_directory_iterator(); ++it) {
        if (it->path().filename().string().rfind('.', 0) == 0) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && keep(it->path())) found.push_back(it->path().string());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) throw UsageError("no " + what + " in folder", input);
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(input)) {
      files.push_back(input);
    } else {
      throw UsageError("input does not exist", input, "pass " + what + ", folders of them, or --data DIR --split NAME");
    }
  }
  return files;
}

}  // namespace strike::worker
