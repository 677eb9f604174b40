// Raw text documents for text classification: folders of files (one per class) or a CSV file's text column.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataset_tools/converter.h"

namespace strike::data {

// Replaces every byte sequence that is not valid UTF-8 by the Latin-1 reading of its bytes (so
// "caf\xe9" becomes "café"); valid UTF-8 is left alone. Returns true when anything was replaced.
bool repair_utf8(std::string& text);

// Documents read in one go: positions in the source's order, their text as valid UTF-8, and
// whether the text needed repair_utf8.
struct TextBatch {
  std::vector<int64_t> index;
  std::vector<std::string> text;
  std::vector<char> repaired;
  void clear() {
    index.clear();
    text.clear();
    repaired.clear();
  }
};

// Documents the source skipped while opening, with one example each for the report.
struct SkippedDocuments {
  int64_t empty = 0;
  std::string empty_example;  // a file, or file:line for CSV
  int64_t unreadable = 0;
  std::string unreadable_example;
};

class TextSource {
 public:
  virtual ~TextSource() = default;
  virtual std::string kind() const = 0;  // the manifest's "source": "text_folder", "text_csv"
  virtual const std::vector<std::string>& class_names() const = 0;
  // Label of every usable document in the source's order; read() and describe() index into it.
  virtual const std::vector<int64_t>& labels() const = 0;
  // Raw size of every usable document in bytes (before decoding), known without reading it.
  virtual const std::vector<int64_t>& sizes() const = 0;
  virtual const SkippedDocuments& skipped() const = 0;
  // Streams the documents i with keep(i), in source order, in batches of about `batch_bytes`; only
  // one batch is in memory at a time. Stops early when on_batch returns false.
  virtual void read(const std::function<bool(int64_t)>& keep, int64_t batch_bytes,
                    const std::function<bool(TextBatch&)>& on_batch) const = 0;
  // Names one document in messages: its file, or file:line.
  virtual std::string describe(int64_t index) const = 0;
};

// True for the text sources ("text_folder", "text_csv").
bool is_text_source(const std::string& kind);

// Opens options.input as options.source. Throws Error when no document is usable, when fewer than
// two classes remain, or when a class has no usable document; UsageError for a bad --label-map.
std::unique_ptr<TextSource> open_text_source(const ConvertOptions& options);

}  // namespace strike::data
