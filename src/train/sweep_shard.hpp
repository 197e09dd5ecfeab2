// One process's share of a sweep's cells when several processes that do not talk to each other
// run one sweep (Slurm job arrays, any scheduler without MPI): `sweep --shard I/N`
// (docs/sweep.md, "Several processes").
#pragma once
#include <cstddef>
#include <string>

namespace normlab {

struct SweepShard {
  long index = 1, count = 1;  // shard I of N, I in 1..N
  // Cell c (0-based, in grid order) belongs to shard (c mod N) + 1. Round robin rather than
  // blocks: seed varies fastest and depth slowly, so each shard gets a like mix of cheap and
  // costly cells, and the shards end at about the same time.
  bool owns(size_t cell) const {
    return static_cast<long>(cell % static_cast<size_t>(count)) == index - 1;
  }
};

// "I/N", two whole numbers with 1 <= I <= N; throws UserError("--shard: ...") otherwise.
SweepShard parse_shard(const std::string& text);

}  // namespace normlab
