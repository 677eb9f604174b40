// The files `strike predict` reads: named ones as they are, folders searched recursively.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace strike::worker {

// A file input is kept as it is; a folder gives every regular file below it that `keep` accepts, sorted,
// hidden files and folders (names starting with '.') skipped. `what` names the files expected (e.g.
// "PNG or JPEG files") in the UsageError for an input that does not exist or a folder with none of them.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs,
                                       const std::function<bool(const std::filesystem::path&)>& keep,
                                       const std::string& what);

}  // namespace strike::worker
