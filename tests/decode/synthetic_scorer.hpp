// A stand-in for an encoder-decoder: next-token log-probs are a log-softmax of pseudo-random
// logits hashed from (seed, source id, the whole target history). Because the distribution
// depends on every earlier token, the incremental scorer must carry each row's history in its
// cache, and a search that gathers caches wrongly (bad reorder parents) gets different numbers.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.hpp"
#include "decode/incremental_scorer.hpp"

namespace normlab::testing {

struct SyntheticModel {
  uint64_t seed = 1;
  int vocab = 5;
  int32_t eos = 3;
  float eos_bias = 0.0f;  // added to EOS's logit: < 0 makes long outputs, > 0 short ones
  int levels = 0;         // > 0: logits take only this many values, so scores tie exactly

  // log p(next | source, history), history = [start, t1, ..., t_pos].
  std::vector<float> log_probs(int source, const std::vector<int32_t>& history) const {
    uint64_t h = splitmix64(seed ^ (static_cast<uint64_t>(source) << 32));
    for (int32_t t : history) h = splitmix64(h ^ static_cast<uint64_t>(t + 1));
    std::vector<double> logits(static_cast<size_t>(vocab));
    double max_logit = -1e300;
    for (int t = 0; t < vocab; ++t) {
      const double u = uniform01(h, 7, static_cast<uint64_t>(t));
      logits[static_cast<size_t>(t)] =
          (levels > 0 ? std::floor(u * levels) : 4.0 * u) + (t == eos ? eos_bias : 0.0f);
      max_logit = std::max(max_logit, logits[static_cast<size_t>(t)]);
    }
    double sum = 0;
    for (double l : logits) sum += std::exp(l - max_logit);
    std::vector<float> out(static_cast<size_t>(vocab));
    for (int t = 0; t < vocab; ++t)
      out[static_cast<size_t>(t)] =
          static_cast<float>(logits[static_cast<size_t>(t)] - max_logit - std::log(sum));
    return out;
  }
};

// Row r's cache is its token history; reorder gathers histories and sources. Contract
// violations throw so that a search misusing the interface fails loudly.
class SyntheticScorer : public IncrementalScorer {
 public:
  // Batch source k is the model's source `source_ids[k]`.
  SyntheticScorer(const SyntheticModel& model, std::vector<int> source_ids, int max_positions = 64)
      : model_(model), source_ids_(std::move(source_ids)), max_positions_(max_positions) {}

  int vocab() const override { return model_.vocab; }
  int max_positions() const override { return max_positions_; }

  void start(const int32_t* source_of_row, int rows) override {
    capacity_ = rows;
    rows_.clear();
    for (int r = 0; r < rows; ++r) {
      if (source_of_row[r] < 0 || source_of_row[r] >= static_cast<int>(source_ids_.size()))
        throw std::logic_error("start: bad source");
      rows_.push_back({source_of_row[r], {}});
    }
  }

  void step(const int32_t* last, int rows, int pos, float* log_probs) override {
    if (rows != static_cast<int>(rows_.size())) throw std::logic_error("step: row count");
    if (pos >= max_positions_) throw std::logic_error("step: position beyond max_positions");
    rows_per_step.push_back(rows);
    for (int r = 0; r < rows; ++r) {
      Row& row = rows_[static_cast<size_t>(r)];
      if (static_cast<int>(row.history.size()) != pos)
        throw std::logic_error("step: position " + std::to_string(pos) + " but cache holds " +
                               std::to_string(row.history.size()));
      row.history.push_back(last[r]);
      std::vector<float> lp =
          model_.log_probs(source_ids_[static_cast<size_t>(row.source)], row.history);
      std::copy(lp.begin(), lp.end(), log_probs + static_cast<size_t>(r) * model_.vocab);
    }
  }

  void reorder(const int32_t* parent, int rows) override {
    if (rows > capacity_) throw std::logic_error("reorder: more rows than start()");
    std::vector<Row> next;
    for (int r = 0; r < rows; ++r) {
      if (parent[r] < 0 || parent[r] >= static_cast<int>(rows_.size()))
        throw std::logic_error("reorder: bad parent");
      if (parent[r] != r) ++moved_rows;
      next.push_back(rows_[static_cast<size_t>(parent[r])]);
    }
    rows_.swap(next);
  }

  std::vector<int> rows_per_step;
  int moved_rows = 0;  // rows whose cache came from another row

 private:
  struct Row {
    int source;
    std::vector<int32_t> history;
  };
  SyntheticModel model_;
  std::vector<int> source_ids_;
  int max_positions_;
  int capacity_ = 0;
  std::vector<Row> rows_;
};

}  // namespace normlab::testing
