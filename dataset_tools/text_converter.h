// Text classification datasets: split, tokenizer training on the train split, token ids sharded as a ragged field.
#pragma once
#include <string>
#include <vector>

#include "core/manifest.h"
#include "dataset_tools/converter.h"
#include "dataset_tools/text_source.h"

namespace strike::data {

constexpr const char* kTokenizerFile = "tokenizer.model";

// Writes OUTPUT/tokenizer.model and the shards of every non-empty split (paths appended to
// `written` as they are created) and returns the manifest; the caller saves it. The source is read
// twice (a bounded tokenizer sample of train documents, then every document), never held whole, and
// nothing is kept per document: ids wait in staging files in the output directory.
core::Manifest write_text_dataset(const TextSource& source, const ConvertOptions& options,
                                  std::vector<std::string>& written);

}  // namespace strike::data
