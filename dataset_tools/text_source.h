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

// One usable document as the source meets it, before its text is read.
struct DocumentRef {
  int64_t index = 0;  // position among the usable documents, in source order
  int64_t label = 0;  // class id in [0, classes)
  int64_t bytes = 0;  // raw size before decoding
};

// Documents read in one go, in source order: their index and label, their text as valid UTF-8,
// whether the text needed repair_utf8, and where each came from (a file, or file:line) for messages.
struct TextBatch {
  std::vector<int64_t> index, label;
  std::vector<std::string> text, where;
  std::vector<char> repaired;
  void clear() {
    index.clear();
    label.clear();
    text.clear();
    where.clear();
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

// A text source keeps per document at most its file name: labels, sizes and text are met again on
// every read, so a conversion's memory does not grow with the corpus.
class TextSource {
 public:
  virtual ~TextSource() = default;
  virtual std::string kind() const = 0;  // the manifest's "source": "text_folder", "text_csv"
  virtual const std::vector<std::string>& class_names() const = 0;
  // Usable documents per class, and their raw bytes in all.
  virtual const std::vector<int64_t>& class_sizes() const = 0;
  virtual int64_t bytes() const = 0;
  virtual const SkippedDocuments& skipped() const = 0;
  // Streams the documents in source order: keep is called once for every usable document, in order,
  // before its text is read; those it keeps are read in batches of about `batch_bytes` (one batch in
  // memory at a time). Stops early when on_batch returns false. Throws Error when the input changed
  // since it was opened.
  virtual void read(const std::function<bool(const DocumentRef&)>& keep, int64_t batch_bytes,
                    const std::function<bool(TextBatch&)>& on_batch) const = 0;
  int64_t documents() const;  // usable documents
};

// True for the text sources ("text_folder", "text_csv").
bool is_text_source(const std::string& kind);

// Opens options.input as options.source. Throws Error when no document is usable, when fewer than
// two classes remain, or when a class has no usable document; UsageError for a bad --label-map.
std::unique_ptr<TextSource> open_text_source(const ConvertOptions& options);

}  // namespace strike::data
