// The conversion of a CSV file into a tabular classification dataset, streamed in three passes over the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/csv_reader.h"  // CsvReader, which this header used to declare
#include "dataset_tools/numeric_fit.h"
#include "dataset_tools/split.h"
#include "dataset_tools/tabular_schema.h"

namespace strike::data {

// Memory bounds of a CSV conversion: none grows with the rows. The defaults suit any table; tests
// lower them to make small tables cross the bounds.
struct TabularLimits {
  int64_t chunk_bytes = int64_t{32} << 20;   // encoded rows held at once while the shards are gathered
  int64_t median_values = int64_t{1} << 21;  // train values held at once for exact medians, all numeric columns together
};

// What the first two passes over a CSV file learnt. Every check on the input has passed once this
// exists, so writing it only fails on the output side (or when the file changes meanwhile).
struct TabularPlan {
  std::vector<std::string> header;       // the CSV's column names
  size_t target = 0;                     // the target's column in the header
  TabularSchema schema;                  // fitted on train, but for the numeric columns' median and std
  std::vector<size_t> source_column;     // per schema column: its column in the header
  std::vector<NumericFit> numeric_fits;  // per numeric schema column, in schema order: one pass done
  std::vector<std::string> class_names;  // the target's sorted distinct values
  std::vector<int64_t> class_counts;     // rows per class: with the options, all that SplitSelector needs
};

// True when `kind` is "csv", or "auto" and `input` is a regular file named *.csv.
bool is_csv_input(const std::string& kind, const std::string& input);

// Pass 1 counts the classes and tells numeric columns from categorical ones; pass 2 fits the
// vocabularies and the numeric columns' means on the train rows, which a SplitSelector picks as the rows
// stream past. Memory holds nothing per row. Throws Error naming file:line for malformed rows and
// unusable columns.
TabularPlan read_tabular_csv(const ConvertOptions& options, const TabularLimits& limits = {});

// Pass 3 encodes every row into a staging file in options.output, at its place in the shards, while the
// numeric columns' std and exact median are fitted (the median may read the staging file again); then
// the shards of every non-empty split are written (paths appended to `written` as they are created) in
// bounded chunks. Returns the manifest; the caller saves it.
core::Manifest write_tabular(TabularPlan& plan, const ConvertOptions& options, std::vector<std::string>& written,
                             const TabularLimits& limits = {});

}  // namespace strike::data
