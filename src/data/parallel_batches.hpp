// Batches for the encoder-decoder task: the segment pairs of a parallel corpus part
// (`prepare-parallel`'s X.src.bin / X.tgt.bin) packed under a token budget with length bucketing,
// in the manner of fairseq's batch_by_size (Ott et al. 2019). The batch list of an epoch depends
// only on (seed, epoch) and the number of batches per epoch is fixed, so training batch k is
// computed directly from k on resume (docs/parallel-corpus.md, "Batches").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace normlab {

// One part of a parallel corpus. Segment i is src[src_start[i] .. src_start[i+1]) paired with
// tgt[tgt_start[i] .. tgt_start[i+1]); both end with EOS, which is part of the segment.
struct ParallelData {
  std::string src_path, tgt_path;
  std::string tokenizer_identity;
  std::vector<int32_t> src, tgt;
  std::vector<size_t> src_start, tgt_start;  // size() + 1 entries each
  size_t size() const { return src_start.empty() ? 0 : src_start.size() - 1; }
  // Lengths including the segment's EOS: the encoder sees src_len(i) positions, the decoder
  // tgt_len(i) (start token + target ids as input, target ids + EOS as labels).
  int src_len(size_t i) const { return static_cast<int>(src_start[i + 1] - src_start[i]); }
  int tgt_len(size_t i) const { return static_cast<int>(tgt_start[i + 1] - tgt_start[i]); }
};

// Reads and checks a pair of token files. Throws UserError("PATH: ...") for a missing, corrupt or
// truncated file (token_file.hpp), an empty file, a stream not ending with EOS, an id outside
// [0, vocab_size), files made by different tokenizers (or not by `tokenizer_identity` when that is
// non-empty), and differing segment counts.
ParallelData load_parallel_data(const std::string& src_path, const std::string& tgt_path,
                                int vocab_size, int32_t eos_id,
                                const std::string& tokenizer_identity = "");

struct ParallelBatchOptions {
  // Padded token budget: B*S <= max_tokens and B*T <= max_tokens. Buffers of max_tokens ids
  // therefore hold any batch's src, tgt_in and tgt_out.
  long max_tokens = 4096;
  int max_sentences = 0;  // upper bound on B; 0 = only the token budget limits it
  // Pairs with src_len > max_src_len or tgt_len > max_tgt_len (lengths as in ParallelData, EOS
  // included) are dropped, never truncated; so are pairs longer than max_tokens (no batch holds
  // them).
  int max_src_len = 256, max_tgt_len = 256;
  uint64_t seed = 1;
  int32_t eos_id = 2;  // appended to sources and targets, and the decoder's start token
};

// What the model consumes. Row r is segment ids[r].
struct ParallelBatch {
  int B = 0;
  int S = 0;                     // max src_len in the batch (source ids + EOS)
  int T = 0;                     // max tgt_len in the batch (target ids + 1)
  std::vector<int32_t> src;      // [B*S]: source ids, EOS, then pad id 0 (mask with src_len)
  std::vector<int32_t> src_len;  // [B]
  std::vector<int32_t> tgt_in;   // [B*T]: start token (EOS), target ids, then 0
  std::vector<int32_t> tgt_out;  // [B*T]: target ids, EOS, then -1 (ignored by the loss)
  std::vector<int32_t> tgt_len;  // [B]: real decoder positions per row
  std::vector<uint32_t> ids;     // [B]: segment index in ParallelData (restores corpus order)
  long n_tokens = 0;             // real target labels = sum of tgt_len = entries != -1
  long src_tokens = 0;           // sum of src_len
};

// Sizes that do not change from epoch to epoch (the batch boundaries are fixed, see the .cpp).
struct ParallelBatchStats {
  size_t segments = 0, kept = 0, dropped_too_long = 0;
  uint64_t batches = 0;  // per epoch, = num_eval_batches()
  int max_B = 0, max_S = 0, max_T = 0;
  long max_src_cells = 0, max_tgt_cells = 0;  // max over batches of B*S and B*T
  // Per epoch: real tokens, and cells (B*S, B*T summed over batches) including padding.
  uint64_t src_tokens = 0, tgt_tokens = 0, src_cells = 0, tgt_cells = 0;
};

class ParallelBatcher {
 public:
  // Keeps a reference to `data`. Throws UserError("SRC_PATH: ...") if an option is invalid
  // or no pair survives the length limits.
  ParallelBatcher(const ParallelData& data, const ParallelBatchOptions& options);

  // Training batch k of the run: epoch k / batches_per_epoch(), its position k %
  // batches_per_epoch() in that epoch's shuffled order. Caches the current epoch's order (not
  // thread-safe).
  void train_batch(uint64_t k, ParallelBatch& out);
  uint64_t batches_per_epoch() const { return stats_.batches; }

  // The fixed evaluation order: every kept pair exactly once, length-sorted (ties by index),
  // independent of the seed.
  void eval_batch(uint64_t j, ParallelBatch& out) const;
  uint64_t num_eval_batches() const { return stats_.batches; }

  const ParallelBatchStats& stats() const { return stats_; }
  const ParallelBatchOptions& options() const { return options_; }

  // Segment indices of one epoch in batch order: batch p of the epoch is
  // order[begin[p] .. begin[p+1]). For tests and inspection.
  struct EpochPlan {
    std::vector<uint32_t> order;
    std::vector<uint32_t> begin;
  };
  EpochPlan epoch_plan(uint64_t epoch) const;

 private:
  void sorted_order(uint64_t epoch, bool shuffle_ties, std::vector<uint32_t>& order) const;
  void fill(const uint32_t* seg, int n, ParallelBatch& out) const;

  const ParallelData& data_;
  ParallelBatchOptions options_;
  ParallelBatchStats stats_;
  std::vector<uint32_t> kept_;          // kept segment indices
  std::vector<uint32_t> bounds_;        // batch b = sorted positions [bounds_[b], bounds_[b+1])
  std::vector<uint32_t> eval_order_;    // kept, sorted by (src_len, tgt_len, index)
  uint64_t cached_epoch_ = UINT64_MAX;  // epoch whose order is in cached_order_ / cached_perm_
  std::vector<uint32_t> cached_order_, cached_perm_;
};

}  // namespace normlab
