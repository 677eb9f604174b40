// strike's Tokenizer over sentencepiece, reached through the separately loaded module (sentencepiece_api.h).
#include "dataset_tools/tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "dataset_tools/sentencepiece_api.h"

namespace strike::data {

namespace {

constexpr const char* kModuleName = "libstrike_sentencepiece.so";

// Next to the executable (build/bin, or an installed bin/), then ../lib, then where this build put it.
std::vector<std::string> module_candidates() {
  std::vector<std::string> paths;
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    const std::filesystem::path dir = std::filesystem::path(std::string(exe, static_cast<size_t>(n))).parent_path();
    paths.push_back((dir / kModuleName).string());
    paths.push_back((dir.parent_path() / "lib" / kModuleName).string());
  }
#ifdef STRIKE_SENTENCEPIECE_MODULE
  paths.push_back(STRIKE_SENTENCEPIECE_MODULE);
#endif
  return paths;
}

SentencePieceApi* open_module() {
  std::string tried, last_error;
  for (const auto& path : module_candidates()) {
    if (!std::filesystem::exists(path)) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    // DEEPBIND: sentencepiece resolves its bundled protobuf-lite to itself, not to LibTorch's libprotobuf.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle) {
      last_error = ::dlerror();
      tried += (tried.empty() ? "" : ", ") + path + " (" + last_error + ")";
      continue;
    }
    auto* entry = reinterpret_cast<SentencePieceApi* (*)()>(::dlsym(handle, "strike_sentencepiece_api"));
    if (entry) return entry();
    tried += (tried.empty() ? "" : ", ") + path + " (no strike_sentencepiece_api)";
  }
  throw Error("cannot load the sentencepiece module " + std::string(kModuleName), tried,
              "build the strike_sentencepiece target (it belongs next to the strike executable) and install "
              "libsentencepiece0 (scripts/setup.sh)");
}

// Loaded once per process and never unloaded: it holds no state of its own.
SentencePieceApi& api() {
  static SentencePieceApi* const loaded = open_module();
  return *loaded;
}

// Bytes a token covers at most, for a first guess of how much text max_tokens tokens need.
constexpr size_t kPrefixBytesPerToken = 8;

}  // namespace

std::string train_tokenizer(const std::vector<WordCount>& words, const TokenizerSpec& spec) {
  if (words.empty()) throw Error("no text to train the tokenizer on", "", "the train split holds only blank lines");
  std::vector<std::string> rows;
  rows.reserve(words.size());
  for (const auto& w : words) rows.push_back(w.word + '\t' + std::to_string(w.count));
  const std::vector<std::pair<std::string, std::string>> args = {
      {"input_format", "tsv"},  // word <tab> count
      {"model_type", spec.type},
      {"vocab_size", std::to_string(spec.vocab_size)},
      // A soft limit: a small corpus (tests, tiny data sets) gets the pieces it can support.
      {"hard_vocab_limit", "false"},
      {"num_threads", std::to_string(std::max(1, spec.threads))},
      // A word of base64 or HTML can be long; the default 4192 would drop it from training.
      {"max_sentence_length", "65536"},
      {"input_sentence_size", "0"},  // the caller already bounded the sample
      {"pad_id", std::to_string(kPadId)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"minloglevel", "2"},  // sentencepiece's progress lines would drown strike's own
  };
  std::string model;
  const std::string error = api().train(rows, args, model);
  if (!error.empty()) {
    throw Error("sentencepiece could not train the tokenizer: " + error, "",
                "check --vocab-size and --tokenizer-sample (the train text may be too small)");
  }
  return model;
}

Tokenizer::Tokenizer(Tokenizer&& other) noexcept : api_(other.api_), processor_(other.processor_) {
  other.processor_ = nullptr;
}

Tokenizer& Tokenizer::operator=(Tokenizer&& other) noexcept {
  std::swap(api_, other.api_);
  std::swap(processor_, other.processor_);
  return *this;
}

Tokenizer::~Tokenizer() {
  if (processor_) api_->release(processor_);
}

Tokenizer Tokenizer::from_model(const std::string& serialized) {
  Tokenizer t;
  t.api_ = &api();
  const std::string error = t.api_->load(serialized, t.processor_);
  if (!error.empty()) throw Error("not a sentencepiece model: " + error, "", "re-convert the dataset to write a new tokenizer");
  return t;
}

Tokenizer Tokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the tokenizer model", path, "re-convert the dataset to write a new tokenizer");
  std::stringstream bytes;
  bytes << in.rdbuf();
  try {
    return from_model(bytes.str());
  } catch (const Error& e) {
    throw Error(e.what(), path, e.hint());
  }
}

std::vector<int32_t> Tokenizer::encode(const std::string& text, int64_t max_tokens) const {
  // Only a prefix is encoded when max_tokens is set: pieces never cross whitespace, so cutting at
  // whitespace leaves the tokens before the cut unchanged, and a long document (a mail with an
  // attachment) costs no more than its first max_tokens tokens. The prefix grows until it suffices.
  size_t prefix = max_tokens > 0 ? static_cast<size_t>(max_tokens) * kPrefixBytesPerToken : text.size();
  std::vector<int> ids;
  while (true) {
    size_t cut = text.size();
    if (prefix < text.size()) {
      cut = text.find_last_of(" \t\r\n", prefix);
      if (cut == std::string::npos || cut == 0) cut = text.find_first_of(" \t\r\n", prefix);
      if (cut == std::string::npos) cut = text.size();
    }
    ids.clear();
    const std::string error = api_->encode(processor_, text.data(), cut, ids);
    if (!error.empty()) throw Error("sentencepiece could not encode a text: " + error);
    if (cut == text.size() || static_cast<int64_t>(ids.size()) > max_tokens) break;
    prefix = std::max(prefix * 2, cut + 1);
  }
  if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<size_t>(max_tokens));
  return {ids.begin(), ids.end()};
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string text;
  const std::string error = api_->decode(processor_, std::vector<int>(ids.begin(), ids.end()), text);
  if (!error.empty()) throw Error("sentencepiece could not decode ids: " + error);
  return text;
}

std::string Tokenizer::piece(int32_t id) const { return api_->piece(processor_, id); }

int64_t Tokenizer::size() const { return api_->size(processor_); }

}  // namespace strike::data
