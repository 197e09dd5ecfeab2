// The tiny model the model tests share: every placement at a size where finite differences and
// exhaustive comparisons are cheap. mixln gets one post block under two pre blocks; pre and peri
// use dt 0.5 so that the residual step is exercised.
#pragma once
#include <string>

#include "core/config.hpp"

namespace normlab {

inline Config tiny_config(const std::string& placement, const std::string& norm, int seq_len) {
  Config c = Config::defaults();
  c.set("vocab_size", "23", "test");
  c.set("d_model", "16", "test");
  c.set("n_heads", "2", "test");
  c.set("n_layers", "3", "test");
  c.set("d_ff", "20", "test");
  c.set("seq_len", std::to_string(seq_len), "test");
  c.set("placement", placement, "test");
  c.set("norm", norm, "test");
  c.set("lower_fraction", "0.4", "test");
  if (placement == "pre" || placement == "peri") c.set("dt", "0.5", "test");
  return c;
}

}  // namespace normlab
