// Counting n-grams as views into one string, so counting allocates nothing beyond the map's nodes
// (maps are reused across segments by the callers).
#pragma once
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace normlab::eval {

using NgramCounts = std::unordered_map<std::string_view, std::int64_t>;

// Counts the n-grams of `tokens`, which must be views into one string in order and separated by
// exactly one byte, so that an n-gram is the contiguous substring from its first to last token.
// Returns the number of n-grams (max(0, size - n + 1)).
std::int64_t count_word_ngrams(const std::vector<std::string_view>& tokens, int n,
                               NgramCounts& counts);

// Counts the n-grams of code points of `text` given the byte offset of every code point
// (`starts`, plus text.size() at the end). Returns the number of n-grams.
std::int64_t count_char_ngrams(std::string_view text, const std::vector<std::size_t>& starts, int n,
                               NgramCounts& counts);

// Clipped matches: sum over the hypothesis n-grams g of min(count_hyp(g), count_ref(g)).
std::int64_t clipped_matches(const NgramCounts& hyp, const NgramCounts& ref);

}  // namespace normlab::eval
