// Shard writing (temporary file, then rename) and validated block reads.
#include "core/shard.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/checksum.h"
#include "core/error.h"
#include "core/fs.h"

namespace strike::core {

namespace {
// Values per chunk of a ragged field's dataset: large enough for few chunk lookups per block read,
// small enough that a short shard does not carry much slack.
constexpr int64_t kRaggedChunk = int64_t{1} << 16;

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
      values_written_(fields_.size(), 0),
      rows_(rows),
      file_(h5::File::create(tmp_path_)) {
  for (const auto& f : fields_) {
    if (!f.ragged()) {
      file_.create_dataset(f.name, h5::dtype_from_string(f.dtype), with_rows(rows_, f.shape));
      continue;
    }
    file_.create_growable(f.name, h5::dtype_from_string(f.dtype), kRaggedChunk);
    file_.create_dataset(f.name + kOffsetsSuffix, h5::DType::kInt64, {rows_ + 1});
    const int64_t zero = 0;
    file_.write_rows(f.name + kOffsetsSuffix, 0, 1, &zero);
  }
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
    if (fields_[i].ragged()) throw Error("field '" + field + "' is ragged", path_, "this is a bug: use append_ragged");
    if (written_[i] + count > rows_) {
      throw Error("too many rows appended to field '" + field + "'", path_, "this is a bug in the converter");
    }
    file_.write_rows(field, written_[i], count, data);
    written_[i] += count;
    return;
  }
  throw Error("shard has no field '" + field + "'", path_);
}

void ShardWriter::append_ragged(const std::string& field, const void* values, const int64_t* lengths, int64_t count) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name != field) continue;
    if (!fields_[i].ragged()) throw Error("field '" + field + "' is not ragged", path_, "this is a bug: use append");
    if (written_[i] + count > rows_) {
      throw Error("too many rows appended to field '" + field + "'", path_, "this is a bug in the converter");
    }
    std::vector<int64_t> ends(static_cast<size_t>(count));
    int64_t end = values_written_[i];
    for (int64_t r = 0; r < count; ++r) {
      if (lengths[r] < 0) throw Error("negative row length appended to '" + field + "'", path_, "this is a bug");
      ends[r] = end += lengths[r];
    }
    file_.append_rows(field, end - values_written_[i], values);
    file_.write_rows(field + kOffsetsSuffix, written_[i] + 1, count, ends.data());
    values_written_[i] = end;
    written_[i] += count;
    return;
  }
  throw Error("shard has no field '" + field + "'", path_);
}

ShardInfo ShardWriter::finish() {
  close();
  ShardInfo info = commit();
  info.checksum = file_checksum(path_);
  return info;
}

void ShardWriter::close() {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (written_[i] != rows_) {
      throw Error("field '" + fields_[i].name + "' has " + std::to_string(written_[i]) + " of " + std::to_string(rows_) +
                      " rows",
                  path_, "this is a bug in the converter");
    }
  }
  file_.flush();
  file_.close();
}

ShardInfo ShardWriter::commit() {
  commit_file(tmp_path_, path_);
  finished_ = true;
  ShardInfo info;
  info.file = std::filesystem::path(path_).filename().string();
  info.samples = rows_;
  info.bytes = static_cast<int64_t>(std::filesystem::file_size(path_));
  return info;
}

ShardReader::ShardReader(const std::string& path, const std::vector<FieldSpec>& fields) : file_(h5::File::open(path)) {
  bool first = true;
  for (const auto& f : fields) {
    if (f.ragged()) {
      int64_t rows = 0;
      open_ragged(f, path, rows);
      if (first) rows_ = rows;
      if (rows != rows_) throw Error("fields have different row counts", path, "the shard is damaged; re-convert");
      first = false;
      continue;
    }
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

// Cheap checks only (two offsets read): the offsets in between are checked as rows are read, and
// all of them by check_offsets (`strike data verify`).
void ShardReader::open_ragged(const FieldSpec& f, const std::string& path, int64_t& rows) {
  const std::string offsets = f.name + kOffsetsSuffix;
  for (const std::string& name : {f.name, offsets}) {
    if (!file_.exists(name)) {
      throw Error("shard has no dataset '" + name + "' (ragged field '" + f.name + "')", path,
                  "the shard is damaged; re-convert the dataset");
    }
    if (file_.dims(name).size() != 1) {
      throw Error("dataset '" + name + "' has shape " + dims_string(file_.dims(name)) + ", expected one dimension", path,
                  "the shard does not match manifest.json; re-convert the dataset");
    }
  }
  if (file_.dtype(f.name) != h5::dtype_from_string(f.dtype)) {
    throw Error("dataset '" + f.name + "' is " + h5::to_string(file_.dtype(f.name)) + ", expected " + f.dtype, path,
                "the shard does not match manifest.json; re-convert the dataset");
  }
  if (file_.dtype(offsets) != h5::DType::kInt64) {
    throw Error("dataset '" + offsets + "' is " + h5::to_string(file_.dtype(offsets)) + ", expected int64", path,
                "the shard does not match manifest.json; re-convert the dataset");
  }
  const int64_t entries = file_.dims(offsets)[0], values = file_.dims(f.name)[0];
  if (entries < 1) throw Error("dataset '" + offsets + "' is empty; it needs rows + 1 entries", path, "re-convert the dataset");
  rows = entries - 1;
  int64_t first = 0, last = 0;
  file_.read_rows(offsets, h5::DType::kInt64, 0, 1, &first);
  file_.read_rows(offsets, h5::DType::kInt64, entries - 1, 1, &last);
  if (first != 0) {
    throw Error("'" + offsets + "' starts at " + std::to_string(first) + ", not 0", path, "the shard is damaged; re-convert");
  }
  if (last != values) {
    throw Error("'" + offsets + "' ends at " + std::to_string(last) + " but '" + f.name + "' holds " +
                    std::to_string(values) + " values",
                path, "the shard is truncated or damaged; re-convert the dataset");
  }
}

void ShardReader::read(const FieldSpec& field, int64_t start, int64_t count, void* out) const {
  if (field.ragged()) throw Error("field '" + field.name + "' is ragged", path(), "this is a bug: use read_ragged");
  file_.read_rows(field.name, h5::dtype_from_string(field.dtype), start, count, out);
}

void ShardReader::read_offsets(const FieldSpec& field, int64_t start, int64_t count, int64_t* out) const {
  file_.read_rows(field.name + kOffsetsSuffix, h5::DType::kInt64, start, count, out);
}

void ShardReader::read_ragged(const FieldSpec& field, int64_t start, int64_t count, std::vector<int64_t>& offsets,
                              std::vector<uint8_t>& values) const {
  if (!field.ragged()) throw Error("field '" + field.name + "' is not ragged", path(), "this is a bug: use read");
  if (start < 0 || count < 0 || start + count > rows_) {
    throw Error("rows [" + std::to_string(start) + ", " + std::to_string(start + count) + ") out of range for '" +
                    field.name + "' with " + std::to_string(rows_) + " rows",
                path());
  }
  offsets.resize(static_cast<size_t>(count + 1));
  read_offsets(field, start, count + 1, offsets.data());
  const int64_t base = offsets[0], total = file_.dims(field.name)[0];
  // All checks on the stored offsets before any is rebased: comparing a stored offset with a
  // rebased one would let a decrease through whenever the rows do not start at value 0.
  for (int64_t i = 0; i <= count; ++i) {
    if ((i > 0 && offsets[i] < offsets[i - 1]) || offsets[i] < 0 || offsets[i] > total) {
      throw Error("'" + field.name + kOffsetsSuffix + "' entry " + std::to_string(start + i) + " is " +
                      std::to_string(offsets[i]) + (i > 0 ? ", after " + std::to_string(offsets[i - 1]) : std::string()) +
                      " (offsets must be non-decreasing and within the " + std::to_string(total) + " values)",
                  path(), "the shard is damaged; re-convert the dataset");
    }
  }
  for (int64_t& offset : offsets) offset -= base;
  values.resize(static_cast<size_t>(offsets[count] * field.element_bytes()));
  file_.read_rows(field.name, h5::dtype_from_string(field.dtype), base, offsets[count], values.data());
}

void ShardReader::check_offsets(const FieldSpec& field) const {
  constexpr int64_t kBlock = 1 << 20;
  const int64_t total = file_.dims(field.name)[0];
  std::vector<int64_t> block;
  int64_t previous = 0;
  for (int64_t start = 0; start <= rows_; start += kBlock) {
    const int64_t count = std::min(kBlock, rows_ + 1 - start);
    block.resize(static_cast<size_t>(count));
    read_offsets(field, start, count, block.data());
    for (int64_t i = 0; i < count; ++i) {
      if (block[i] < previous || block[i] > total) {
        throw Error("'" + field.name + kOffsetsSuffix + "' entry " + std::to_string(start + i) + " is " +
                        std::to_string(block[i]) + ", after " + std::to_string(previous) +
                        " (offsets must be non-decreasing and within the " + std::to_string(total) + " values)",
                    path(), "the shard is damaged; re-convert the dataset");
      }
      previous = block[i];
    }
  }
}

}  // namespace strike::core
