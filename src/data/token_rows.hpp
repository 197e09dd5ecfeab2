// Batches written as text, for the checking interface (`normlab grad`, docs/model.md): token ids
// separated by blanks, one batch row per line.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace normlab {

// A language-model batch (B rows of T inputs and targets), or for an encoder–decoder also the
// padded sources: S ids per row, src_len real ones.
struct TokenRows {
  int B = 0, T = 0, S = 0;
  std::vector<int32_t> inputs, targets, src, src_len;
};

// Language-model rows: T + 1 ids per line (inputs ids[0..T), targets ids[1..T]), the same T on
// every line. Ids must lie in [0, vocab); errors name the file and line.
TokenRows read_token_rows(const std::string& path, int vocab);

// Encoder-decoder rows: "SOURCE IDS | TARGET IDS" per line, T_b + 1 target ids (decoder input
// tgt[:-1], targets tgt[1:]); lengths may differ. Sources are padded with id 0 beyond src_len,
// target rows with input 0 and target -1 (ignored).
TokenRows read_pair_rows(const std::string& path, int vocab);

}  // namespace normlab
