// The conversion of a CSV file (read by CsvReader) into a tabular classification dataset.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/csv_reader.h"
#include "dataset_tools/split.h"
#include "dataset_tools/tabular_schema.h"

namespace strike::data {

// A CSV file read, split and encoded with the schema fitted on its train split; every check that
// can fail on the input has run once this exists, so writing it only fails on the output side.
struct TabularData {
  TabularSchema schema;
  std::vector<std::string> class_names;  // the target's sorted distinct values
  std::vector<int64_t> labels;           // per data row, in file order
  SplitIndices split;                    // data-row indices of train/val/test
  std::vector<float> numeric;            // rows x schema.numeric_width()
  std::vector<int64_t> categorical;      // rows x schema.categorical_width()
};

// True when `kind` is "csv", or "auto" and `input` is a regular file named *.csv.
bool is_csv_input(const std::string& kind, const std::string& input);

// Reads options.input twice (schema inference, then values), so memory holds the encoded rows
// but never the text. Throws Error naming file:line for malformed rows and unusable columns.
TabularData read_tabular_csv(const ConvertOptions& options);

// Writes the shards of every non-empty split into options.output (paths appended to `written`
// as they are created) and returns the manifest; the caller saves it.
core::Manifest write_tabular(const TabularData& data, const ConvertOptions& options, std::vector<std::string>& written);

}  // namespace strike::data
