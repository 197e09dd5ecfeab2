// `normlab prepare`: text files -> SentencePiece model + train/valid token files.
// Documents are separated by blank lines or by lines holding only '%' (the fortune format), and
// each document is assigned to train or valid by a hash of (seed, document index).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace normlab {

struct PrepareOptions {
  std::vector<std::string> inputs;  // text files (UTF-8)
  std::string out_dir;              // receives tokenizer.model, train.bin, valid.bin, meta.json
  int vocab_size = 4096;
  std::string model_type = "bpe";  // bpe | unigram
  double valid_fraction = 0.05;
  uint64_t seed = 1;
};

// Prints a one-line summary per step to stderr. Throws UserError naming the file for a missing
// file, empty input, or invalid UTF-8 (with the byte offset); writes nothing final on error.
void prepare_corpus(const PrepareOptions& options);

// The bundled default corpus: the UTF-8 fortune files installed by Debian's 'fortunes' package.
std::vector<std::string> default_corpus_files();

}  // namespace normlab
