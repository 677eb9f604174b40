// Raw text files for `strike predict`: found, decoded and tokenized exactly as conversion did, then padded into batches.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "dataset_tools/tokenizer.h"
#include "tasks/task.h"

namespace strike::worker {

// A batch of documents, and counts over everything read so far.
struct TextDocuments {
  std::vector<std::string> ids;               // file paths (CSV rows: file:line), in input order (folders:
                                              // sorted, recursive)
  std::vector<std::vector<int32_t>> tokens;   // at most the manifest's max_tokens ids each
  std::vector<int64_t> labels;                // class from the file's folder (label_map applied); -1 unknown
  int64_t empty = 0;                          // empty files skipped
  std::string empty_example;
  int64_t repaired = 0;                       // files that were not valid UTF-8 (read as Latin-1 where not)
  bool every_label_known() const;
};

// Files and folders (every non-hidden regular file below them) as documents of the dataset `manifest`
// describes, handed to `on_batch` `batch_size` at a time (the last batch may be smaller), so memory holds
// one batch whatever the input's size; documents are tokenized on several threads. A file's label is
// known when its parent folder names a class, directly or through the conversion's --label-map. For a
// model trained on a CSV (`--source text_csv`), a .csv input holds one document per row in the training
// text column (ids "file:line"); its target column, when present, gives the labels. Returns the counts
// (empty, repaired). Throws UsageError for an input that does not exist, Error with file:line for a
// malformed row, a missing text column or a target value that is no class; `limit` > 0 stops early.
TextDocuments read_text_documents(const std::vector<std::string>& inputs, const data::Tokenizer& tokenizer,
                                  const core::Manifest& manifest, int64_t limit, int64_t batch_size,
                                  const std::function<void(const TextDocuments&)>& on_batch);

// Documents [begin, end) as a batch like the loader's: "tokens" int64 [B, L] padded with pad_id to the
// longest (L >= 1) and "tokens_length" int64 [B].
tasks::TensorMap pad_token_batch(const std::vector<std::vector<int32_t>>& tokens, size_t begin, size_t end,
                                 int64_t pad_id);

}  // namespace strike::worker
