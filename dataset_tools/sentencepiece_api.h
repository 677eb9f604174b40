// The boundary between strike and sentencepiece: an interface the separately loaded module implements.
// Debian's libsentencepiece carries its own copy of protobuf-lite and exports it; loaded next to LibTorch's
// libprotobuf it takes over that library's symbols and crashes the process before main(). So
// sentencepiece lives in its own module (libstrike_sentencepiece.so), opened with dlopen(RTLD_LOCAL |
// RTLD_DEEPBIND) so that each side keeps its own protobuf; only virtual calls cross, never exceptions.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace strike::data {

class SentencePieceApi {
 public:
  virtual ~SentencePieceApi() = default;
  // Each returns "" on success, else sentencepiece's message.
  virtual std::string train(const std::vector<std::string>& rows,
                            const std::vector<std::pair<std::string, std::string>>& args, std::string& model) = 0;
  virtual std::string load(const std::string& model, void*& processor) = 0;
  virtual void release(void* processor) = 0;
  virtual std::string encode(const void* processor, const char* text, size_t size, std::vector<int>& ids) = 0;
  virtual std::string decode(const void* processor, const std::vector<int>& ids, std::string& text) = 0;
  virtual std::string piece(const void* processor, int id) = 0;
  virtual int size(const void* processor) = 0;
};

}  // namespace strike::data

// The module's one exported symbol: a pointer to its (stateless) implementation.
extern "C" strike::data::SentencePieceApi* strike_sentencepiece_api();
