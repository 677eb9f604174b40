// HDF5 shards: one file per slice of a split, one contiguous dataset per field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/h5.h"
#include "core/manifest.h"

namespace strike::core {

// Writes one shard: datasets sized up front, rows appended in order, renamed into place on finish().
// A shard that was not finished is never left under its final name.
class ShardWriter {
 public:
  ShardWriter(std::string path, std::vector<FieldSpec> fields, int64_t rows);
  ~ShardWriter();  // removes the temporary file if finish() (or commit()) was not called
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Appends `count` rows of one fixed-shape field; fields advance independently and must all reach `rows`.
  void append(const std::string& field, const void* data, int64_t count);
  // Appends `count` rows of a ragged field: row i has lengths[i] values, all rows' values
  // concatenated in `values` (sum(lengths) elements of the field's dtype).
  void append_ragged(const std::string& field, const void* values, const int64_t* lengths, int64_t count);
  // Checks every field is full, closes, renames into place; returns the shard's ShardInfo
  // (file name relative to the shard's directory, size, checksum).
  ShardInfo finish();
  // finish() in two steps, for a converter that writes several shards: close() checks and closes the
  // HDF5 file (on the thread that writes HDF5); commit() syncs it to disk and renames it into place, and
  // returns its ShardInfo without the checksum (core::file_checksum reads the file back). Neither
  // commit() nor the checksum calls HDF5, so both may run on another thread while the next shard is
  // written.
  void close();
  ShardInfo commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string tmp_path_;
  std::vector<FieldSpec> fields_;
  std::vector<int64_t> written_;
  std::vector<int64_t> values_written_;  // ragged fields: values so far (the next row's start offset)
  int64_t rows_;
  h5::File file_;
  bool finished_ = false;
};

// Reads rows of a shard in large blocks. Opening checks that every manifest field is present
// with the right type and per-sample shape, and that every field has the same row count.
class ShardReader {
 public:
  ShardReader(const std::string& path, const std::vector<FieldSpec>& fields);
  int64_t rows() const { return rows_; }
  const std::string& path() const { return file_.path(); }
  // Reads rows [start, start+count) of a fixed-shape `field` into `out` (count * sample_bytes bytes).
  void read(const FieldSpec& field, int64_t start, int64_t count, void* out) const;
  // Reads rows [start, start+count) of a ragged `field`: `offsets` gets count + 1 entries rebased to
  // start at 0, `values` the rows' values as raw bytes of the field's dtype (offsets[count] elements).
  // Throws Error naming the shard when the offsets of those rows are decreasing or out of range.
  void read_ragged(const FieldSpec& field, int64_t start, int64_t count, std::vector<int64_t>& offsets,
                   std::vector<uint8_t>& values) const;
  // Raw offsets of a ragged field: entries [start, start+count) of `field`_offsets (rows + 1 in all).
  void read_offsets(const FieldSpec& field, int64_t start, int64_t count, int64_t* out) const;
  // Checks every offset of a ragged field (in blocks); throws Error naming the shard and the row.
  void check_offsets(const FieldSpec& field) const;

 private:
  void open_ragged(const FieldSpec& field, const std::string& path, int64_t& rows);

  h5::File file_;
  int64_t rows_ = 0;
};

}  // namespace strike::core
