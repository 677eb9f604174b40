// libstrike_sentencepiece.so: SentencePieceApi over sentencepiece's C++ API (the only file that includes it).
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "dataset_tools/sentencepiece_api.h"

namespace {

using sentencepiece::SentencePieceProcessor;

class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& sentences) : sentences_(sentences) {}
  bool done() const override { return i_ >= sentences_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return sentences_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& sentences_;
  size_t i_ = 0;
};

std::string message(const sentencepiece::util::Status& status) { return status.ok() ? "" : status.ToString(); }

const SentencePieceProcessor& processor(const void* p) { return *static_cast<const SentencePieceProcessor*>(p); }

class Api : public strike::data::SentencePieceApi {
 public:
  std::string train(const std::vector<std::string>& rows,
                    const std::vector<std::pair<std::string, std::string>>& args, std::string& model) override {
    std::unordered_map<std::string, std::string> kwargs(args.begin(), args.end());
    VectorIterator it(rows);
    try {
      return message(sentencepiece::SentencePieceTrainer::Train(kwargs, &it, &model));
    } catch (const std::exception& e) {
      return e.what();
    }
  }
  std::string load(const std::string& model, void*& p) override {
    auto* sp = new SentencePieceProcessor();
    std::string error = message(sp->LoadFromSerializedProto(model));
    if (!error.empty()) {
      delete sp;
      sp = nullptr;
    }
    p = sp;
    return error;
  }
  void release(void* p) override { delete static_cast<SentencePieceProcessor*>(p); }
  std::string encode(const void* p, const char* text, size_t size, std::vector<int>& ids) override {
    return message(processor(p).Encode(absl::string_view(text, size), &ids));
  }
  std::string decode(const void* p, const std::vector<int>& ids, std::string& text) override {
    return message(processor(p).Decode(ids, &text));
  }
  std::string piece(const void* p, int id) override { return processor(p).IdToPiece(id); }
  int size(const void* p) override { return processor(p).GetPieceSize(); }
};

}  // namespace

extern "C" __attribute__((visibility("default"))) strike::data::SentencePieceApi* strike_sentencepiece_api() {
  static Api api;  // stateless: every call works on the processor it is given
  return &api;
}
