// What `normlab report` reads from one run directory (docs/diagnostics.md): the config fields that
// label a run, its status and final losses, its loss curves, and the per-block probe profiles.
// Every file is optional; a run that lacks one simply has no data for the charts that need it.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace normlab::report {

// Per-block quantities kept from one diagnostics.jsonl record. Indexed by block - 1; a block that
// the record does not mention, or a null / non-finite value, is NaN. For an encoder-decoder these
// are the decoder's blocks, as in the record's "blocks".
enum class ProbeQuantity : int {
  kGradInput,
  kGradAttnOut,
  kGradMlpOut,
  kInputRms,
  kInputVar,
  kInputBatchVar,
  kInputMeanAbs,
  kAttnOutRms,
  kMlpOutRms,
  // From the record's "params": the block's parameter gradient norm sqrt(sum_i grad_norm_i^2)
  // and its update ratio ||dW|| / ||W|| over all the block's tensors (block_param_norms()).
  kParamGradNorm,
  kUpdateRatio,
  kCount
};
inline constexpr int kNumProbeQuantities = static_cast<int>(ProbeQuantity::kCount);
// The key under which the page finds each quantity ("grad_input", "input.rms", ...).
const char* probe_quantity_key(ProbeQuantity q);

struct ProbeRecord {
  int64_t step = 0;
  std::array<std::vector<double>, kNumProbeQuantities> values;
};

struct RunData {
  std::string dir;   // as found on disk
  std::string name;  // short label: the directory name (made unique by the caller)
  // Config fields shown in labels and the summary table, as text ("" when unknown).
  std::string placement, norm, dt, lr, seed;
  int n_layers = 0;    // 0 when unknown
  std::string status;  // summary.json's status, or "no summary" / "no summary (running?)"
  bool diverged = false;
  bool has_summary = false;
  int64_t steps = -1;             // -1 when unknown
  double final_loss = 0.0;        // NaN when unknown
  double final_valid_loss = 0.0;  // NaN when unknown
  double unigram_loss = 0.0;      // of the training tokens (summary.json); NaN when unknown
  std::vector<std::pair<int64_t, double>> train_loss;  // (step, loss)
  std::vector<std::pair<int64_t, double>> valid_loss;  // (step, valid_loss)
  std::vector<std::pair<int64_t, double>> lr_curve;    // (step, lr) of the training lines
  std::vector<std::pair<int64_t, double>> grad_norm;   // (step, grad_norm) before clipping
  // Every scalar config value (summary.json's config over config.yaml), for tooltips.
  std::map<std::string, std::string> config;
  std::vector<ProbeRecord> probes;    // in file order
  std::vector<std::string> warnings;  // skipped lines etc., "FILE:LINE: ..."
};

// The block (1-based) a parameter tensor belongs to: "blocks.N.*" or "decoder.blocks.N.*" is
// block N + 1; anything else (embeddings, final norm, the encoder's blocks) is 0.
int64_t param_block(const std::string& name);

// Expands the command-line paths into run directories: a path that is itself a run (it holds
// summary.json or metrics.jsonl) is taken as is, otherwise its subdirectories and their
// subdirectories are searched (sweep layouts). A regular file named *.json is a sanity-check
// JSON, not a run (sanity_check_data.hpp), and is skipped here. A missing path, another file, or a
// directory with neither a run inside nor a sanity-check.json throws UserError. Duplicates are
// dropped; order follows the arguments, then directory names.
std::vector<std::string> find_run_dirs(const std::vector<std::string>& paths);

// Reads one run directory. Missing files are fine; malformed lines or files are skipped with a
// message in RunData::warnings, so that one damaged run does not hide a whole sweep.
RunData load_run(const std::string& dir);

// Names every run by its directory name, prefixing parent directories where two runs would
// otherwise share a name.
void assign_short_names(std::vector<RunData>& runs);

}  // namespace normlab::report
