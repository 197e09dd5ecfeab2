// `normlab prepare`: text files -> SentencePiece model + train/valid token files.
// Documents are separated by blank lines or by lines holding only '%' (the fortune format), and
// each document is assigned to train or valid by a hash of (seed, document index).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
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

// Documents of one file: maximal runs of lines that are neither blank (whitespace only) nor a lone
// '%' (trailing whitespace allowed), joined by '\n' without a final newline; a '\r' ending a line
// is dropped, other whitespace is kept.
std::vector<std::string> split_documents(std::string_view text);

// For each of n documents, whether it is held out for validation: document i is valid iff
// u(seed, i) < valid_fraction, u uniform in [0, 1) (docs/token-file.md). With n >= 2 at least one
// document lands on each side: if none is valid the one with the smallest u becomes valid, if none
// is train the one with the largest u becomes train.
std::vector<bool> assign_validation(uint64_t seed, size_t n, double valid_fraction);

// The bundled default corpus: the UTF-8 fortune files installed by Debian's 'fortunes' package.
std::vector<std::string> default_corpus_files();

}  // namespace normlab
