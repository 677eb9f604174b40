// The conversion of a CSV file into a tabular classification dataset: one pass over the text, the rest over binary rows.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/csv_reader.h"  // CsvReader, which this header used to declare
#include "dataset_tools/tabular_schema.h"

namespace strike::data {

// Memory bounds and parallelism of a CSV conversion: no memory grows with the rows. The defaults suit
// any table; tests lower them to make small tables cross the bounds.
struct TabularLimits {
  int64_t chunk_bytes = int64_t{8} << 20;    // staged rows held at once while the shards are gathered (more
                                             // is slower: a larger first gather holds up the writing)
  int64_t median_values = int64_t{1} << 21;  // train values held at once for exact medians, all numeric columns together
  int threads = 0;                           // ranges of the text read side by side; 0: available_cores(), at most 8
  int64_t min_range_bytes = int64_t{8} << 20;  // the least text a range is given
};

struct StagedTable;  // the rows, encoded and staged in their shard order in a temporary directory

// What reading a CSV file gave: every check on the input has passed once this exists, so writing it
// only fails on the output side.
struct TabularPlan {
  std::vector<std::string> class_names;  // the target's sorted distinct values
  TabularSchema schema;                  // fitted on the train split
  std::shared_ptr<StagedTable> staged;
};

// True when `kind` is "csv", or "auto" and `input` is a regular file named *.csv.
bool is_csv_input(const std::string& kind, const std::string& input);

// Reads the file's text once (on several threads) into binary rows in a temporary directory ($TMPDIR),
// twice when a column turns out to mix numbers and text (it is categorical: its numbers are read again as
// text); then picks each row's split as the rows stream past (SplitSelector), fits the schema on the train
// rows and stages every row at its place in the shards. Memory holds nothing per row. Throws Error naming
// file:line for malformed rows and unusable columns.
TabularPlan read_tabular_csv(const ConvertOptions& options, const TabularLimits& limits = {});

// Writes the shards of every non-empty split (paths appended to `written` as they are created) in
// bounded chunks. Returns the manifest; the caller saves it.
core::Manifest write_tabular(const TabularPlan& plan, const ConvertOptions& options, std::vector<std::string>& written,
                             const TabularLimits& limits = {});

}  // namespace strike::data
