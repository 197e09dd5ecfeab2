// The decoder side of search (decode/beam_search.hpp): a model that extends many hypotheses
// ("rows") by one token at a time and keeps its own caches (self-attention K/V per row, the
// encoded source per source sentence). Search sees only log-probabilities, so greedy and beam
// search are tested against a synthetic scorer (tests/decode/) and reused by any model.
#pragma once
#include <cstdint>

namespace normlab {

class IncrementalScorer {
 public:
  virtual ~IncrementalScorer() = default;
  virtual int vocab() const = 0;
  // Target positions step() accepts (pos < max_positions()); search clamps lengths to fit.
  virtual int max_positions() const = 0;
  // Prepare `rows` rows with empty caches; row r decodes source `source_of_row[r]` (the scorer
  // has already encoded the sources). No later call uses more rows than this.
  virtual void start(const int32_t* source_of_row, int rows) = 0;
  // Log-probabilities [rows, vocab] of the next token of each row, given each row's newest token
  // `last[r]` at target position `pos` (pos 0 holds the start token; successive steps pass
  // pos 0, 1, 2, ...). Appends position `pos` to each row's cache.
  virtual void step(const int32_t* last, int rows, int pos, float* log_probs) = 0;
  // Row r of the next step continues old row parent[r]: its cache and source become those of
  // parent[r]. An old row may be continued by several new rows or by none, so `rows` may be
  // smaller than before (finished hypotheses dropped) but never exceeds start()'s count.
  virtual void reorder(const int32_t* parent, int rows) = 0;
};

}  // namespace normlab
