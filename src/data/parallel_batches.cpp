#include "data/parallel_batches.hpp"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "core/config.hpp"
#include "core/rng.hpp"
#include "data/token_file.hpp"

namespace normlab {

namespace {

// Segment starts of an EOS-separated stream: starts[i] is where segment i begins, with a final
// entry one past the last EOS.
std::vector<size_t> segment_starts(const std::vector<int32_t>& tokens, int32_t eos_id) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] == eos_id) starts.push_back(i + 1);
  return starts;
}

void check_stream(const std::string& path, const std::vector<int32_t>& tokens, int vocab_size,
                  int32_t eos_id) {
  if (tokens.empty()) throw UserError(path + ": holds no segments (empty token file)");
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab_size)
      throw UserError(path + ": token " + std::to_string(tokens[i]) + " at index " +
                      std::to_string(i) + " is outside the model's vocabulary of " +
                      std::to_string(vocab_size) + " ids");
  if (tokens.back() != eos_id)
    throw UserError(path + ": truncated: the last segment does not end with EOS (id " +
                    std::to_string(eos_id) + ")");
}

}  // namespace

ParallelData load_parallel_data(const std::string& src_path, const std::string& tgt_path,
                                int vocab_size, int32_t eos_id,
                                const std::string& tokenizer_identity) {
  if (eos_id < 0 || eos_id >= vocab_size)
    throw UserError(src_path + ": EOS id " + std::to_string(eos_id) +
                    " is outside the vocabulary of " + std::to_string(vocab_size) + " ids");
  TokenFile src = read_token_file(src_path);
  TokenFile tgt = read_token_file(tgt_path);
  if (!tokenizer_identity.empty())
    for (const auto& [path, file] : {std::pair{&src_path, &src}, std::pair{&tgt_path, &tgt}})
      if (file->tokenizer_identity != tokenizer_identity)
        throw UserError(*path + ": vocabulary mismatch: made by tokenizer " +
                        file->tokenizer_identity + ", expected " + tokenizer_identity);
  if (src.tokenizer_identity != tgt.tokenizer_identity)
    throw UserError(tgt_path + ": made by tokenizer " + tgt.tokenizer_identity + " but " +
                    src_path + " by " + src.tokenizer_identity +
                    "; both sides must share one tokenizer");
  check_stream(src_path, src.tokens, vocab_size, eos_id);
  check_stream(tgt_path, tgt.tokens, vocab_size, eos_id);

  ParallelData data;
  data.src_path = src_path;
  data.tgt_path = tgt_path;
  data.tokenizer_identity = src.tokenizer_identity;
  data.src_start = segment_starts(src.tokens, eos_id);
  data.tgt_start = segment_starts(tgt.tokens, eos_id);
  const size_t ns = data.src_start.size() - 1, nt = data.tgt_start.size() - 1;
  if (ns != nt)
    throw UserError(tgt_path + ": holds " + std::to_string(nt) + " segments but " + src_path +
                    " holds " + std::to_string(ns) +
                    "; the k-th segments of the two files must be a translation pair");
  if (ns > std::numeric_limits<uint32_t>::max())
    throw UserError(src_path + ": more than 2^32 - 1 segments");
  data.src = std::move(src.tokens);
  data.tgt = std::move(tgt.tokens);
  return data;
}

// Batch boundaries. The kept pairs are sorted by (src_len, tgt_len) and cut greedily: a batch
// grows while (B + 1) * max(S, T) <= max_tokens and B + 1 <= max_sentences, where S and T are
// the largest lengths in it. Each epoch reorders only pairs with equal (src_len, tgt_len) (by a
// hash of (seed, epoch, index)), so the sequence of lengths along the sorted order, and with it
// every boundary, B, S, T and the padding of each batch, is the same in every epoch. Hence the
// number of batches per epoch is a constant and batch k of the run is batch k mod N of epoch
// k / N, with no earlier epoch to replay. Which pairs share a batch still changes every epoch
// among pairs of equal lengths, and the order of the batches is a fresh permutation each epoch.
ParallelBatcher::ParallelBatcher(const ParallelData& data, const ParallelBatchOptions& options)
    : data_(data), options_(options) {
  const std::string& what = data.src_path;
  if (options.max_tokens <= 0 || options.max_src_len <= 0 || options.max_tgt_len <= 0 ||
      options.max_sentences < 0)
    throw UserError(what +
                    ": max_tokens, max_src_len and max_tgt_len must be positive and "
                    "max_sentences non-negative");
  // A pair longer than the budget fits no batch, so the budget caps both limits.
  const long src_cap = std::min<long>(options.max_src_len, options.max_tokens),
             tgt_cap = std::min<long>(options.max_tgt_len, options.max_tokens);
  stats_.segments = data.size();
  for (size_t i = 0; i < data.size(); ++i) {
    if (data.src_len(i) > src_cap || data.tgt_len(i) > tgt_cap) {
      ++stats_.dropped_too_long;
      continue;
    }
    kept_.push_back(static_cast<uint32_t>(i));
  }
  stats_.kept = kept_.size();
  if (kept_.empty())
    throw UserError(what + ": no pair fits max_src_len " + std::to_string(src_cap) +
                    " and max_tgt_len " + std::to_string(tgt_cap) + " (of " +
                    std::to_string(data.size()) + " pairs)");

  sorted_order(0, false, eval_order_);
  const long budget = options.max_tokens;
  const int max_b =
      options.max_sentences > 0 ? options.max_sentences : std::numeric_limits<int>::max();
  int B = 0, S = 0, T = 0;
  auto close = [&](uint32_t end) {
    bounds_.push_back(end);
    stats_.max_B = std::max(stats_.max_B, B);
    stats_.max_S = std::max(stats_.max_S, S);
    stats_.max_T = std::max(stats_.max_T, T);
    stats_.max_src_cells = std::max(stats_.max_src_cells, static_cast<long>(B) * S);
    stats_.max_tgt_cells = std::max(stats_.max_tgt_cells, static_cast<long>(B) * T);
    stats_.src_cells += static_cast<uint64_t>(B) * static_cast<uint64_t>(S);
    stats_.tgt_cells += static_cast<uint64_t>(B) * static_cast<uint64_t>(T);
  };
  bounds_.push_back(0);
  for (uint32_t p = 0; p < eval_order_.size(); ++p) {
    const int s = data.src_len(eval_order_[p]), t = data.tgt_len(eval_order_[p]);
    const int s2 = std::max(S, s), t2 = std::max(T, t);
    if (B > 0 && (B + 1 > max_b || static_cast<long>(B + 1) * std::max(s2, t2) > budget)) {
      close(p);
      B = S = T = 0;
    }
    ++B;
    S = std::max(S, s);
    T = std::max(T, t);
    stats_.src_tokens += static_cast<uint64_t>(s);
    stats_.tgt_tokens += static_cast<uint64_t>(t);
  }
  close(static_cast<uint32_t>(eval_order_.size()));
  stats_.batches = bounds_.size() - 1;
}

// Kept pairs sorted by (src_len, tgt_len, tie): the tie is the index for the fixed evaluation
// order, and splitmix64(key(seed, epoch) + index) for a training epoch.
void ParallelBatcher::sorted_order(uint64_t epoch, bool shuffle_ties,
                                   std::vector<uint32_t>& order) const {
  const uint64_t key = splitmix64(options_.seed ^ splitmix64(epoch ^ 0x6A09E667F3BCC909ull));
  std::vector<std::tuple<int, int, uint64_t, uint32_t>> keyed;
  keyed.reserve(kept_.size());
  for (uint32_t i : kept_)
    keyed.emplace_back(data_.src_len(i), data_.tgt_len(i), shuffle_ties ? splitmix64(key + i) : 0,
                       i);
  std::sort(keyed.begin(), keyed.end());
  order.resize(kept_.size());
  for (size_t p = 0; p < keyed.size(); ++p) order[p] = std::get<3>(keyed[p]);
}

ParallelBatcher::EpochPlan ParallelBatcher::epoch_plan(uint64_t epoch) const {
  std::vector<uint32_t> sorted;
  sorted_order(epoch, true, sorted);
  // Fisher-Yates over the batch indices with a generator seeded by (seed, epoch).
  const uint64_t n = stats_.batches;
  std::vector<uint32_t> perm(n);
  for (uint32_t b = 0; b < n; ++b) perm[b] = b;
  Rng rng(splitmix64(options_.seed ^ 0xBB67AE8584CAA73Bull) ^ splitmix64(epoch));
  for (uint64_t b = n; b > 1; --b) std::swap(perm[b - 1], perm[rng.next_u64() % b]);

  EpochPlan plan;
  plan.order.reserve(sorted.size());
  plan.begin.reserve(n + 1);
  plan.begin.push_back(0);
  for (uint32_t j : perm) {
    plan.order.insert(plan.order.end(), sorted.begin() + bounds_[j],
                      sorted.begin() + bounds_[j + 1]);
    plan.begin.push_back(static_cast<uint32_t>(plan.order.size()));
  }
  return plan;
}

void ParallelBatcher::train_batch(uint64_t k, ParallelBatch& out) {
  const uint64_t n = stats_.batches, epoch = k / n, p = k % n;
  if (epoch != cached_epoch_) {
    EpochPlan plan = epoch_plan(epoch);
    cached_order_ = std::move(plan.order);
    cached_perm_ = std::move(plan.begin);
    cached_epoch_ = epoch;
  }
  const uint32_t b = cached_perm_[p], e = cached_perm_[p + 1];
  fill(cached_order_.data() + b, static_cast<int>(e - b), out);
}

void ParallelBatcher::eval_batch(uint64_t j, ParallelBatch& out) const {
  if (j >= stats_.batches)
    throw UserError(data_.src_path + ": evaluation batch " + std::to_string(j) + " of " +
                    std::to_string(stats_.batches));
  fill(eval_order_.data() + bounds_[j], static_cast<int>(bounds_[j + 1] - bounds_[j]), out);
}

// Row r: src = x_1..x_m EOS 0.., tgt_in = EOS y_1..y_n 0.., tgt_out = y_1..y_n EOS -1.. . The file
// already ends each segment with EOS, so tgt_out is the stored target segment and tgt_in is the
// same shifted right by one behind the start token.
void ParallelBatcher::fill(const uint32_t* seg, int n, ParallelBatch& out) const {
  int S = 0, T = 0;
  for (int r = 0; r < n; ++r) {
    S = std::max(S, data_.src_len(seg[r]));
    T = std::max(T, data_.tgt_len(seg[r]));
  }
  out.B = n;
  out.S = S;
  out.T = T;
  // Reserving the epoch-wide maxima once means later batches never reallocate.
  out.src.reserve(static_cast<size_t>(stats_.max_src_cells));
  out.tgt_in.reserve(static_cast<size_t>(stats_.max_tgt_cells));
  out.tgt_out.reserve(static_cast<size_t>(stats_.max_tgt_cells));
  for (auto* v : {&out.src_len, &out.tgt_len}) v->reserve(static_cast<size_t>(stats_.max_B));
  out.ids.reserve(static_cast<size_t>(stats_.max_B));

  out.src.assign(static_cast<size_t>(n) * S, 0);
  out.tgt_in.assign(static_cast<size_t>(n) * T, 0);
  out.tgt_out.assign(static_cast<size_t>(n) * T, -1);
  out.src_len.resize(static_cast<size_t>(n));
  out.tgt_len.resize(static_cast<size_t>(n));
  out.ids.assign(seg, seg + n);
  out.n_tokens = 0;
  out.src_tokens = 0;
  for (int r = 0; r < n; ++r) {
    const uint32_t i = seg[r];
    const int s = data_.src_len(i), t = data_.tgt_len(i);
    const int32_t* x = data_.src.data() + data_.src_start[i];
    const int32_t* y = data_.tgt.data() + data_.tgt_start[i];
    std::copy(x, x + s, out.src.begin() + static_cast<long>(r) * S);
    int32_t* in = out.tgt_in.data() + static_cast<size_t>(r) * T;
    in[0] = options_.eos_id;
    std::copy(y, y + t - 1, in + 1);
    std::copy(y, y + t, out.tgt_out.begin() + static_cast<long>(r) * T);
    out.src_len[static_cast<size_t>(r)] = s;
    out.tgt_len[static_cast<size_t>(r)] = t;
    out.n_tokens += t;
    out.src_tokens += s;
  }
}

}  // namespace normlab
