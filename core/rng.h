// Counter-based seeding: every random stream is a pure function of its coordinates.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace strike::core {

// SplitMix64 finalizer: a high-quality 64-bit mix.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Derives one seed from a list of coordinates, e.g. {seed, epoch, rank, stream}.
inline uint64_t derive_seed(std::initializer_list<uint64_t> coords) {
  uint64_t h = 0x5472696b65ULL;  // "strike"
  for (uint64_t c : coords) h = mix64(h ^ mix64(c));
  return h;
}

// A small, fast, portable generator (SplitMix64 stream); identical on every platform,
// unlike std::shuffle or std::uniform_int_distribution.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return mix64(state_++); }
  // Uniform integer in [0, n) (n > 0), via 128-bit multiply (Lemire).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  // Uniform double in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// Fisher-Yates shuffle with Rng, portable across standard libraries.
template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

}  // namespace strike::core
