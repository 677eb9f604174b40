// Image-folder scanning and header probing; pixels are decoded only when the converter asks.
#include "dataset_tools/image_folder_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>

#include "core/error.h"
#include "dataset_tools/parallel.h"

namespace strike::data {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

bool image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".jpe" || ext == ".jfif";
}

std::vector<std::string> sorted_subdirs(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && !hidden(entry.path())) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Sorted so the sample order, and thus the converted dataset, never depends on the file system.
std::vector<std::string> image_files(const fs::path& dir, int64_t& skipped) {
  std::vector<std::string> files;
  auto options = fs::directory_options::follow_directory_symlink | fs::directory_options::skip_permission_denied;
  for (auto it = fs::recursive_directory_iterator(dir, options); it != fs::recursive_directory_iterator(); ++it) {
    if (hidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    if (image_extension(it->path())) {
      files.push_back(it->path().string());
    } else {
      ++skipped;
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ImageFolderSource : public ImageSource {
 public:
  explicit ImageFolderSource(const std::string& dir) {
    if (!fs::is_directory(dir)) throw Error("input directory does not exist", dir, "check the --input path");
    std::vector<std::string> top = sorted_subdirs(dir);
    const bool split_layout = std::find(top.begin(), top.end(), "train") != top.end() &&
                              std::all_of(top.begin(), top.end(), [](const std::string& n) {
                                return n == "train" || n == "val" || n == "test";
                              });
    if (split_layout) {
      class_names_ = sorted_subdirs(fs::path(dir) / "train");
      for (Part part : {Part::kTrain, Part::kVal, Part::kTest}) {
        fs::path part_dir = fs::path(dir) / part_name(part);
        if (fs::is_directory(part_dir)) scan(part, part_dir);
      }
    } else {
      class_names_ = top;
      scan(Part::kTrain, dir);
    }
    if (skipped_ > 0) spdlog::warn("{}: skipped {} file(s) without an image extension", dir, skipped_);
    probe_all();
  }

  std::string kind() const override { return "image_folder"; }
  const std::vector<std::string>& class_names() const override { return class_names_; }
  bool has(Part part) const override { return present_[index(part)]; }
  const std::vector<int64_t>& labels(Part part) const override { return parts_[index(part)].labels; }
  bool in_memory() const override { return false; }

  int64_t native_channels() const override {
    for (const auto& p : parts_) {
      for (const auto& info : p.info) {
        if (info.channels != 1) return 3;
      }
    }
    return 1;
  }

  std::pair<int64_t, int64_t> uniform_size() const override {
    const Entry& first = parts_[0].info.front();
    for (const auto& p : parts_) {
      for (size_t i = 0; i < p.info.size(); ++i) {
        if (p.info[i].height != first.height || p.info[i].width != first.width) {
          throw Error("image is " + size_string(p.info[i]) + " but " + parts_[0].files.front() + " is " +
                          size_string(first),
                      p.files[i], "pass --image-size N to resize every image to NxN");
        }
      }
    }
    return {first.height, first.width};
  }

  core::Image load(Part part, int64_t i) const override { return core::decode_image(parts_[index(part)].files[i]); }
  std::string describe(Part part, int64_t i) const override { return parts_[index(part)].files[i]; }

 private:
  struct Entry {
    int32_t channels = 0, height = 0, width = 0;
  };
  struct PartData {
    std::vector<std::string> files;
    std::vector<int64_t> labels;
    std::vector<Entry> info;
  };
  static size_t index(Part part) { return static_cast<size_t>(part); }
  static std::string size_string(const Entry& e) { return std::to_string(e.height) + "x" + std::to_string(e.width); }

  void scan(Part part, const fs::path& part_dir) {
    if (part == Part::kTrain && class_names_.empty()) {
      throw Error("no class sub-folders", part_dir.string(), "an image folder holds one sub-folder of images per class");
    }
    PartData& p = parts_[index(part)];
    for (const std::string& name : sorted_subdirs(part_dir)) {
      auto it = std::find(class_names_.begin(), class_names_.end(), name);
      fs::path class_dir = part_dir / name;
      if (it == class_names_.end()) {
        throw Error("class folder has no counterpart in the train folder", class_dir.string(),
                    "val and test may only use the classes of train");
      }
      std::vector<std::string> files = image_files(class_dir, skipped_);
      if (files.empty()) {
        throw Error("class folder holds no PNG or JPEG images", class_dir.string(), "add images or remove the folder");
      }
      for (auto& file : files) {
        p.files.push_back(std::move(file));
        p.labels.push_back(it - class_names_.begin());
      }
    }
    present_[index(part)] = true;
  }

  void probe_all() {
    for (auto& p : parts_) {
      p.info.resize(p.files.size());
      parallel_for(static_cast<int64_t>(p.files.size()), decode_threads(), [&p](int64_t i) {
        core::Image header = core::probe_image(p.files[i]);
        p.info[i] = {static_cast<int32_t>(header.channels), static_cast<int32_t>(header.height),
                     static_cast<int32_t>(header.width)};
      });
    }
  }

  std::vector<std::string> class_names_;
  std::array<PartData, 3> parts_;
  std::array<bool, 3> present_{false, false, false};
  int64_t skipped_ = 0;
};

}  // namespace

std::unique_ptr<ImageSource> open_image_folder_source(const std::string& dir) {
  return std::make_unique<ImageFolderSource>(dir);
}

}  // namespace strike::data
