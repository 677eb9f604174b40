// Reading raw text files for prediction, a batch at a time, with the same decoding, tokenizer and truncation as conversion.
#include "worker/text_documents.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/fs.h"
#include "dataset_tools/csv_reader.h"
#include "dataset_tools/csv_source.h"  // is_csv_input
#include "dataset_tools/parallel.h"
#include "dataset_tools/text_source.h"
#include "worker/input_files.h"

namespace strike::worker {

namespace fs = std::filesystem;

namespace {

// Folder name -> class index: the class names themselves, then the conversion's FOLDER=CLASS entries.
std::map<std::string, int64_t> folder_classes(const core::Manifest& manifest) {
  std::map<std::string, int64_t> classes;
  for (size_t k = 0; k < manifest.class_names.size(); ++k) classes[manifest.class_names[k]] = static_cast<int64_t>(k);
  for (const auto& entry : manifest.extra.value("label_map", nlohmann::json::array())) {
    const std::string text = entry.get<std::string>();
    const size_t eq = text.find('=');
    if (eq == std::string::npos) continue;
    auto it = classes.find(text.substr(eq + 1));
    if (it != classes.end()) classes[text.substr(0, eq)] = it->second;
  }
  return classes;
}

// Column `name` of a CSV header; -1 when absent.
int64_t column_of(const std::vector<std::string>& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int64_t>(it - header.begin());
}

// Collects documents and hands them on a batch at a time, tokenized on several threads.
class Batcher {
 public:
  Batcher(const data::Tokenizer& tokenizer, int64_t max_tokens, int64_t limit, int64_t batch_size,
          const std::function<void(const TextDocuments&)>& on_batch)
      : tokenizer_(tokenizer), max_tokens_(max_tokens), limit_(limit), batch_size_(std::max<int64_t>(batch_size, 1)),
        on_batch_(on_batch) {}

  bool full() const { return limit_ > 0 && taken_ >= limit_; }
  TextDocuments& docs() { return docs_; }

  // `text` must be non-empty; it is decoded leniently here.
  void add(std::string id, std::string text, int64_t label) {
    if (data::repair_utf8(text)) ++docs_.repaired;
    docs_.ids.push_back(std::move(id));
    texts_.push_back(std::move(text));
    docs_.labels.push_back(label);
    ++taken_;
    if (static_cast<int64_t>(texts_.size()) == batch_size_) flush();
  }

  void flush() {
    if (texts_.empty()) return;
    docs_.tokens.resize(texts_.size());
    data::parallel_for(static_cast<int64_t>(texts_.size()), data::decode_threads(),
                       [&](int64_t i) { docs_.tokens[i] = tokenizer_.encode(texts_[i], max_tokens_); });
    on_batch_(docs_);
    texts_.clear();
    docs_.ids.clear();
    docs_.tokens.clear();
    docs_.labels.clear();
  }

 private:
  const data::Tokenizer& tokenizer_;
  int64_t max_tokens_, limit_, batch_size_, taken_ = 0;
  const std::function<void(const TextDocuments&)>& on_batch_;
  std::vector<std::string> texts_;
  TextDocuments docs_;
};

// A CSV of texts for a model trained on `--source text_csv`: the same text column, and the target
// column, when present, as true labels.
void read_csv_documents(const std::string& path, const core::Manifest& manifest, Batcher& out) {
  const std::string text_name = manifest.extra.value("text_column", "text");
  const std::string target_name = manifest.extra.value("target", "label");
  data::CsvReader reader(path);
  std::vector<std::string> header, fields;
  if (!reader.next(header)) throw Error("the CSV file is empty", path, "give a header row and one text per row");
  const int64_t text = column_of(header, text_name), target = column_of(header, target_name);
  if (text < 0) {
    throw Error("the CSV has no column '" + text_name + "', the model's text column", path,
                "name the text column as in the training CSV");
  }
  while (!out.full() && reader.next(fields)) {
    if (fields.size() != header.size()) {
      throw Error("the row has " + std::to_string(fields.size()) + " fields, the header " +
                      std::to_string(header.size()),
                  reader.where(), "quote fields that hold commas or line breaks");
    }
    std::string& body = fields[static_cast<size_t>(text)];
    if (body.empty()) {
      if (!out.docs().empty++) out.docs().empty_example = reader.where();
      continue;
    }
    int64_t label = -1;
    if (target >= 0) {
      const auto& classes = manifest.class_names;
      auto it = std::find(classes.begin(), classes.end(), fields[static_cast<size_t>(target)]);
      if (it == classes.end()) {
        throw Error("'" + fields[static_cast<size_t>(target)] + "' in column '" + target_name +
                        "' is not one of the model's classes",
                    reader.where(), "drop the column, or predict rows of the training classes only");
      }
      label = static_cast<int64_t>(it - classes.begin());
    }
    out.add(reader.where(), std::move(body), label);
  }
}

}  // namespace

bool TextDocuments::every_label_known() const {
  return std::none_of(labels.begin(), labels.end(), [](int64_t l) { return l < 0; });
}

TextDocuments read_text_documents(const std::vector<std::string>& inputs, const data::Tokenizer& tokenizer,
                                  const core::Manifest& manifest, int64_t limit, int64_t batch_size,
                                  const std::function<void(const TextDocuments&)>& on_batch) {
  const int64_t max_tokens = manifest.extra.value("max_tokens", int64_t{0});
  const auto classes = folder_classes(manifest);
  Batcher out(tokenizer, max_tokens, limit, batch_size, on_batch);
  const bool csv_model = manifest.source == "text_csv";
  for (const auto& file : expand_inputs(inputs, [](const fs::path&) { return true; }, "text files")) {
    if (out.full()) break;
    if (csv_model && data::is_csv_input("auto", file)) {
      read_csv_documents(file, manifest, out);
      continue;
    }
    std::string text = core::read_file(file);
    if (text.empty()) {
      if (!out.docs().empty++) out.docs().empty_example = file;
      continue;
    }
    auto it = classes.find(fs::path(file).parent_path().filename().string());
    out.add(file, std::move(text), it == classes.end() ? -1 : it->second);
  }
  out.flush();
  return out.docs();
}

tasks::TensorMap pad_token_batch(const std::vector<std::vector<int32_t>>& tokens, size_t begin, size_t end,
                                 int64_t pad_id) {
  const int64_t b = static_cast<int64_t>(end - begin);
  size_t longest = 1;
  for (size_t i = begin; i < end; ++i) longest = std::max(longest, tokens[i].size());
  auto ids = torch::full({b, static_cast<int64_t>(longest)}, pad_id, torch::kInt64);
  auto lengths = torch::empty({b}, torch::kInt64);
  int64_t* out = ids.data_ptr<int64_t>();
  for (int64_t r = 0; r < b; ++r) {
    const auto& row = tokens[begin + static_cast<size_t>(r)];
    std::copy(row.begin(), row.end(), out + r * static_cast<int64_t>(longest));
    lengths.data_ptr<int64_t>()[r] = static_cast<int64_t>(row.size());
  }
  return {{"tokens", ids}, {"tokens_length", lengths}};
}

}  // namespace strike::worker
