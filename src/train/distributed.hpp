// The ranks of a data-parallel run (docs/distributed.md). Everything MPI is behind this small
// interface: built with MPI and started by an MPI launcher (mpirun, srun), the ranks are
// MPI_COMM_WORLD, or a group of them (split: a sweep trains each cell on one group); otherwise
// there is one rank and every collective is the identity. The trainer therefore has no MPI code
// and no #ifdef.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace normlab {

class Ranks {
 public:
  // The ranks of this process (initialises MPI on first use when launched by MPI). Throws
  // UserError when launched as several MPI ranks by a normlab built without MPI.
  static Ranks& world();
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  // Ranks that share this host (the OpenMP thread default divides the cores among them).
  int local_size() const { return local_size_; }

  // In-place sum over the ranks (MPI_Allreduce). Floats go in buckets of a few MB, so that no
  // single message is huge and the transport can pipeline them. Timed (gradient_sum_time()).
  void sum(float* data, size_t n) const;
  void sum(double* data, size_t n) const;
  // The largest `value` over the ranks (an agreement: every rank gets the same answer).
  long max(long value) const;
  // Returns once every rank has reached it.
  void barrier() const;
  // Throws (on every rank) unless `value` is the same on all ranks; `what` names it in the error.
  void check_same(uint64_t value, const std::string& what) const;
  // The root's `value`, on every rank (MPI_Bcast).
  long broadcast(long value) const;
  // This rank's group when the ranks are cut into consecutive groups of `group_size` (ranks r
  // with the same r / group_size; MPI_Comm_split), numbered from 0 within the group. A sweep
  // runs each cell on one group (docs/distributed.md, "Sweeps"). local_size() stays the host's.
  Ranks split(int group_size) const;

  // Ends the whole job at once after this rank has printed its error: the other ranks may be
  // blocked in a collective and would never see it. The rank exits without MPI_Finalize, which
  // makes the launcher kill the others (not MPI_Abort: OpenMPI may drop the rank's last stderr
  // line while aborting). Returns when there is one rank.
  void abort_others(int code) const;

  // What the float sums (the gradients) have cost so far on this rank. A barrier before each sum
  // separates waiting for the slowest rank (load imbalance) from the allreduce proper
  // (communication); the barrier costs one message latency per step.
  struct SumTime {
    long calls = 0;          // sum(float*) calls (one per step in training)
    long allreduces = 0;     // MPI_Allreduce calls (buckets)
    double bytes = 0;        // payload summed, per rank
    double wait_s = 0;       // in the barrier: waiting for the other ranks to arrive
    double allreduce_s = 0;  // in MPI_Allreduce
    double fastest_s = 0;    // the fastest single sum's allreduce time (the least disturbed)
  };
  const SumTime& gradient_sum_time() const { return sum_time_; }
  // Counts from zero again: train() does at each run's start (a sweep's group trains several).
  void restart_gradient_sum_time() const { sum_time_ = {}; }

 private:
  Ranks();
  struct Communicator;  // the MPI communicator of these ranks (MPI builds only)
  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool mpi_ = false;
  mutable SumTime sum_time_;
  std::shared_ptr<const Communicator> comm_;
};

// OpenMP threads of each rank for the option `threads`: itself when positive; 0 (all cores) shares
// the host's cores among the ranks on it, so that N ranks on one host do not oversubscribe it.
int threads_per_rank(long threads_option, const Ranks& ranks);

// FNV-1a over `bytes` bytes: the checksum that proves every rank holds the same weights.
uint64_t checksum(const void* data, size_t bytes);

}  // namespace normlab
