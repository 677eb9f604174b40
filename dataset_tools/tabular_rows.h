// Raw CSV rows encoded with a dataset's fitted schema: what `strike predict` feeds a tabular model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dataset_tools/tabular_schema.h"

namespace strike::data {

struct EncodedRows {
  std::vector<std::string> ids;      // "file:line" of each row
  std::vector<float> numeric;        // rows x schema.numeric_width()
  std::vector<int64_t> categorical;  // rows x schema.categorical_width()
  std::vector<int64_t> labels;       // class index per row when the file has the target column, else empty
  int64_t unseen_values = 0;         // categorical values not in the train vocabulary (encoded as <unknown>)
  int64_t rows() const { return static_cast<int64_t>(ids.size()); }
};

// Reads `path` (a header naming every schema column, in any order, plus optionally the target) and
// encodes each row exactly as `strike data convert` encoded the training rows. A missing or unknown
// column, a wrong field count, a value that is not a number in a numeric column, or a target value that
// is not one of `class_names` throws Error naming file:line and what to do.
EncodedRows encode_csv_rows(const TabularSchema& schema, const std::vector<std::string>& class_names,
                            const std::string& path);

}  // namespace strike::data
