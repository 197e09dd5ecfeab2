// `normlab prepare-parallel`: a sentence-aligned corpus (two line-aligned files, or by default the
// English->German GNU gettext catalogs Debian installs) -> cleaned, de-duplicated pairs split by a
// hash of the source into train/valid/test, one SentencePiece model shared by both languages, and
// token files whose k-th EOS-terminated segment in X.src pairs with the k-th in X.tgt
// (docs/parallel-corpus.md). The steps: parallel_sources (read), parallel_cleaning (clean,
// de-duplicate), parallel_split (split), corpus_encoding (encode).
#pragma once
#include <cstdint>
#include <string>

#include "data/parallel_cleaning.hpp"

namespace normlab {

struct PrepareParallelOptions {
  std::string src_path, tgt_path;  // both empty: the default gettext corpus
  std::string out_dir;
  std::string src_lang = "en", tgt_lang = "de";  // suffixes of the plain-text outputs
  int vocab_size = 8000;
  std::string model_type = "bpe";
  double valid_fraction = 0.02, test_fraction = 0.02;
  uint64_t seed = 1;
  CleanOptions clean;  // strip_accelerators is set from the input kind
};

// Writes OUT/tokenizer.model, OUT/{train,valid,test}.{src,tgt}.bin, OUT/{train,valid,test}.{SRC,
// TGT} text and OUT/meta.json (last); one summary line per step on stderr.
void prepare_parallel(const PrepareParallelOptions& options);

}  // namespace normlab
