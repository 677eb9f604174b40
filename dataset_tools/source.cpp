// Source-kind detection and dispatch.
#include "dataset_tools/source.h"

#include <filesystem>

#include "core/error.h"
#include "dataset_tools/idx_source.h"
#include "dataset_tools/image_folder_source.h"

namespace strike::data {

std::string detect_source_kind(const std::string& input) {
  return find_idx_file(input, "train-images-idx3-ubyte").empty() ? "image_folder" : "idx";
}

std::unique_ptr<ImageSource> open_source(const std::string& kind, const std::string& input) {
  if (std::filesystem::is_regular_file(input)) {
    throw Error("input is a file, not a directory", input, "for a CSV file name it *.csv or pass --source csv");
  }
  if (!std::filesystem::is_directory(input)) {
    throw Error("input directory does not exist", input, "check the --input path");
  }
  std::string resolved = kind == "auto" ? detect_source_kind(input) : kind;
  if (resolved == "idx") return open_idx_source(input);
  if (resolved == "image_folder") return open_image_folder_source(input);
  throw UsageError("unknown source '" + kind + "'", "", "use --source auto, idx or image_folder");
}

}  // namespace strike::data
