// Shard writing (temporary file, then rename) and validated block reads.
#include "core/shard.h"

#include <cstdio>
#include <filesystem>

#include "core/checksum.h"
#include "core/error.h"
#include "core/fs.h"

namespace strike::core {

namespace {
std::vector<int64_t> with_rows(int64_t rows, const std::vector<int64_t>& shape) {
  std::vector<int64_t> dims{rows};
  dims.insert(dims.end(), shape.begin(), shape.end());
  return dims;
}
std::string dims_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}
}  // namespace

ShardWriter::ShardWriter(std::string path, std::vector<FieldSpec> fields, int64_t rows)
    : path_(std::move(path)),
      tmp_path_(temporary_name(path_)),
      fields_(std::move(fields)),
      written_(fields_.size(), 0),
      rows_(rows),
      file_(h5::File::create(tmp_path_)) {
  for (const auto& f : fields_) file_.create_dataset(f.name, h5::dtype_from_string(f.dtype), with_rows(rows_, f.shape));
  file_.set_attr("/", "strike_shard_format", int64_t{kDatasetFormatVersion});
  file_.set_attr("/", "rows", rows_);
}

ShardWriter::~ShardWriter() {
  if (!finished_) {
    file_.close();
    std::remove(tmp_path_.c_str());
  }
}

void ShardWriter::append(const std::string& field, const void* data, int64_t count) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name != field) continue;
    if (written_[i] + count > rows_) {
      throw Error("too many rows appended to field '" + field + "'", path_, "this is a bug in the converter");
    }
    file_.write_rows(field, written_[i], count, data);
    written_[i] += count;
    return;
  }
  throw Error("shard has no field '" + field + "'", path_);
}

ShardInfo ShardWriter::finish() {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (written_[i] != rows_) {
      throw Error("field '" + fields_[i].name + "' has " + std::to_string(written_[i]) + " of " + std::to_string(rows_) +
                      " rows",
                  path_, "this is a bug in the converter");
    }
  }
  file_.flush();
  file_.close();
  commit_file(tmp_path_, path_);
  finished_ = true;
  ShardInfo info;
  info.file = std::filesystem::path(path_).filename().string();
  info.samples = rows_;
  info.bytes = static_cast<int64_t>(std::filesystem::file_size(path_));
  info.checksum = file_checksum(path_);
  return info;
}

ShardReader::ShardReader(const std::string& path, const std::vector<FieldSpec>& fields) : file_(h5::File::open(path)) {
  bool first = true;
  for (const auto& f : fields) {
    if (!file_.exists(f.name)) {
      throw Error("shard has no dataset '" + f.name + "'", path, "the shard is damaged; re-convert the dataset");
    }
    auto dims = file_.dims(f.name);
    std::vector<int64_t> shape(dims.begin() + (dims.empty() ? 0 : 1), dims.end());
    if (dims.empty() || shape != f.shape) {
      throw Error("dataset '" + f.name + "' has shape " + dims_string(dims) + ", expected [rows] + " +
                      dims_string(f.shape),
                  path, "the shard does not match manifest.json; re-convert the dataset");
    }
    if (file_.dtype(f.name) != h5::dtype_from_string(f.dtype)) {
      throw Error("dataset '" + f.name + "' is " + h5::to_string(file_.dtype(f.name)) + ", expected " + f.dtype, path,
                  "the shard does not match manifest.json; re-convert the dataset");
    }
    if (first) rows_ = dims[0];
    if (dims[0] != rows_) throw Error("fields have different row counts", path, "the shard is damaged; re-convert");
    first = false;
  }
}

void ShardReader::read(const FieldSpec& field, int64_t start, int64_t count, void* out) const {
  file_.read_rows(field.name, h5::dtype_from_string(field.dtype), start, count, out);
}

}  // namespace strike::core
