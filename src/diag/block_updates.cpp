#include "diag/block_updates.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

namespace normlab {

BlockUpdates::BlockUpdates(const ParamStore& params, const std::string& prefix) {
  const std::string head = prefix + "blocks.";
  for (size_t i = 0; i < params.entries().size(); ++i) {
    const std::string& name = params.entries()[i].name;
    if (name.compare(0, head.size(), head) != 0) continue;
    const size_t l = std::strtoul(name.c_str() + head.size(), nullptr, 10);
    if (entries_.size() <= l) entries_.resize(l + 1);
    entries_[l].push_back(i);
  }
}

void BlockUpdates::snapshot(const ParamStore& params) {
  before_ = params.values();
}

std::vector<double> BlockUpdates::update_ratios(const ParamStore& params) const {
  const std::vector<float>& now = params.values();
  std::vector<double> ratios;
  for (const auto& block : entries_) {
    double delta = 0, base = 0;
    for (size_t i : block) {
      const ParamEntry& e = params.entries()[i];
      for (size_t k = e.offset; k < e.offset + e.numel; ++k) {
        const double d = static_cast<double>(now[k]) - before_[k];
        delta += d * d, base += static_cast<double>(before_[k]) * before_[k];
      }
    }
    ratios.push_back(base > 0 ? std::sqrt(delta / base) : 0.0);
  }
  return ratios;
}

std::vector<double> BlockUpdates::grad_rms(const ParamStore& params) const {
  std::vector<double> rms;
  for (const auto& block : entries_) {
    double sum = 0;
    size_t n = 0;
    for (size_t i : block) {
      const ParamEntry& e = params.entries()[i];
      const float* g = params.grad(i);
      for (size_t k = 0; k < e.numel; ++k) sum += static_cast<double>(g[k]) * g[k];
      n += e.numel;
    }
    rms.push_back(n > 0 ? std::sqrt(sum / static_cast<double>(n)) : 0.0);
  }
  return rms;
}

}  // namespace normlab
