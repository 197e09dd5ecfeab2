#include "train/sweep_shard.hpp"

#include <charconv>

#include "core/config.hpp"

namespace normlab {

namespace {

// A whole number written with digits only (no sign, no blanks), or -1.
long whole_number(const std::string& s) {
  long v = -1;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty() && s[0] != '-' ? v : -1;
}

}  // namespace

SweepShard parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  const long i = slash == std::string::npos ? -1 : whole_number(text.substr(0, slash));
  const long n = slash == std::string::npos ? -1 : whole_number(text.substr(slash + 1));
  const std::string got = "got '" + text + "'";
  if (i < 0 || n < 0)
    throw UserError("--shard: expected I/N, this process's shard I of N (e.g. 1/4), " + got);
  if (n == 0) throw UserError("--shard: the shard count N must be at least 1, " + got);
  if (i < 1 || i > n)
    throw UserError("--shard: the shard I must be between 1 and N = " + std::to_string(n) + ", " +
                    got);
  return {i, n};
}

}  // namespace normlab
