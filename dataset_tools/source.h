// What the converter needs from a raw data source (IDX files, image folders), whatever its format.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/image.h"
#include "dataset_tools/split.h"  // Part

namespace strike::data {

// A source may define any Part itself; the converter carves missing val/test parts out of train.

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual std::string kind() const = 0;  // the manifest's "source": "idx", "image_folder"
  virtual const std::vector<std::string>& class_names() const = 0;
  // Whether the source defines `part` itself (train always does).
  virtual bool has(Part part) const = 0;
  // Label of every sample of `part`, in the source's own order; load() takes an index into it.
  virtual const std::vector<int64_t>& labels(Part part) const = 0;
  // 1 if every image is stored as gray, else 3.
  virtual int64_t native_channels() const = 0;
  // The height and width every image shares; throws Error naming a differing image if they differ.
  virtual std::pair<int64_t, int64_t> uniform_size() const = 0;
  // Decodes one sample as stored (1 or 3 channels). Must be safe to call from several threads.
  virtual core::Image load(Part part, int64_t index) const = 0;
  // Names one sample in error messages: its file, or the IDX file and record number.
  virtual std::string describe(Part part, int64_t index) const = 0;
  // True when load() is a memory copy, so decoding threads would only add overhead.
  virtual bool in_memory() const = 0;
};

// "idx" when `input` holds train-images-idx3-ubyte[.gz], else "image_folder".
std::string detect_source_kind(const std::string& input);

// Opens `input` as `kind` ("idx", "image_folder" or "auto"); throws Error naming what is wrong.
std::unique_ptr<ImageSource> open_source(const std::string& kind, const std::string& input);

}  // namespace strike::data
