// Counter-based random numbers (SplitMix64 mixing): the value for (seed, stream, index) does not
// depend on thread count or call order, which is what makes runs reproducible bit for bit.
#pragma once
#include <cmath>
#include <cstdint>

namespace normlab {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from 24 random bits.
inline float uniform01(uint64_t seed, uint64_t stream, uint64_t index) {
  uint64_t h = splitmix64(seed ^ splitmix64(stream * 0xD1B54A32D192ED03ull + index));
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

// Sequential generator for initialisation and sampling.
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(splitmix64(seed + 0x1234567ull)) {}
  uint64_t next_u64() { return state = splitmix64(state); }
  double uniform() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {  // Box-Muller
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

}  // namespace normlab
