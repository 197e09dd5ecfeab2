#include "train/distributed.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "core/config.hpp"

#ifdef NORMLAB_HAVE_MPI
#include <mpi.h>
#endif

namespace normlab {

namespace {

// The world size an MPI launcher announces in the environment (OpenMPI's mpirun, PMIx, Slurm's
// PMI-2), or 0 when the process was not started by one.
int launcher_size(const char** variable) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) {
      *variable = name;
      return std::max(1, std::atoi(v));
    }
  return 0;
}

}  // namespace

int threads_per_rank(long threads_option, const Ranks& ranks) {
  if (threads_option > 0 || ranks.local_size() == 1) return static_cast<int>(threads_option);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores / ranks.local_size());
}

uint64_t checksum(const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

#ifdef NORMLAB_HAVE_MPI

struct Ranks::Communicator {
  MPI_Comm comm = MPI_COMM_WORLD;
  ~Communicator() {  // a group's (MPI_Comm_split) is freed, MPI_COMM_WORLD is MPI's
    int done = 0;
    MPI_Finalized(&done);
    if (comm != MPI_COMM_WORLD && !done) MPI_Comm_free(&comm);
  }
};

namespace {

int launcher_local_size() {
  for (const char* name :
       {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"})
    if (const char* v = std::getenv(name)) return std::max(1, std::atoi(v));
  return 1;
}

// Floats per allreduce: 4 MB, large enough to reach the link's bandwidth, small enough that the
// transport overlaps one bucket's transfer with the next one's reduction.
constexpr size_t kBucketFloats = size_t{1} << 20;

struct MpiSession {  // MPI_Finalize at exit, after every collective of the run
  ~MpiSession() {
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
  }
};
}  // namespace

Ranks::Ranks() {
  const char* variable = nullptr;
  if (launcher_size(&variable) == 0) return;
  static MpiSession session;
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  comm_ = std::make_shared<Communicator>();
  local_size_ = std::min(size_, launcher_local_size());
  mpi_ = true;
}

void Ranks::sum(float* data, size_t n) const {
  if (!mpi_ || size_ == 1) return;
  const double t0 = MPI_Wtime();
  MPI_Barrier(comm_->comm);
  const double t1 = MPI_Wtime();
  for (size_t at = 0; at < n; at += kBucketFloats, ++sum_time_.allreduces)
    MPI_Allreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(kBucketFloats, n - at)),
                  MPI_FLOAT, MPI_SUM, comm_->comm);
  sum_time_.calls += 1;
  sum_time_.bytes += static_cast<double>(n * sizeof(float));
  sum_time_.wait_s += t1 - t0;
  const double took = MPI_Wtime() - t1;
  sum_time_.allreduce_s += took;
  if (sum_time_.calls == 1 || took < sum_time_.fastest_s) sum_time_.fastest_s = took;
}

void Ranks::sum(double* data, size_t n) const {
  if (!mpi_ || size_ == 1) return;
  MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, comm_->comm);
}

long Ranks::max(long value) const {
  if (!mpi_ || size_ == 1) return value;
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_LONG, MPI_MAX, comm_->comm);
  return value;
}

void Ranks::barrier() const {
  if (mpi_ && size_ > 1) MPI_Barrier(comm_->comm);
}

void Ranks::check_same(uint64_t value, const std::string& what) const {
  if (!mpi_ || size_ == 1) return;
  uint64_t low = value, high = value;
  MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_UINT64_T, MPI_MIN, comm_->comm);
  MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_UINT64_T, MPI_MAX, comm_->comm);
  if (low != high)
    throw std::runtime_error(what + " differ across the " + std::to_string(size_) + " ranks");
}

long Ranks::broadcast(long value) const {
  if (mpi_ && size_ > 1) MPI_Bcast(&value, 1, MPI_LONG, 0, comm_->comm);
  return value;
}

Ranks Ranks::split(int group_size) const {
  if (!mpi_ || group_size >= size_) return *this;
  Ranks group = *this;
  auto comm = std::make_shared<Communicator>();
  MPI_Comm_split(comm_->comm, rank_ / group_size, rank_, &comm->comm);
  MPI_Comm_rank(comm->comm, &group.rank_);
  MPI_Comm_size(comm->comm, &group.size_);
  group.comm_ = std::move(comm);
  return group;
}

void Ranks::abort_others(int code) const {
  // Not MPI_Abort: OpenMPI may drop the rank's last stderr line while aborting. A rank that exits
  // without MPI_Finalize makes the launcher end the job just as well (mpirun kills the others).
  if (mpi_ && size_ > 1) {
    std::fflush(nullptr);
    std::_Exit(code);
  }
}

#else  // one process: every collective is the identity

struct Ranks::Communicator {};

Ranks::Ranks() {
  const char* variable = nullptr;
  const int n = launcher_size(&variable);
  if (n > 1)
    throw UserError(std::string("distributed run: started as ") + std::to_string(n) +
                    " MPI ranks (" + variable +
                    "), but this normlab was built without MPI; install libopenmpi-dev and "
                    "openmpi-bin (scripts/setup.sh) and rebuild");
}

void Ranks::sum(float*, size_t) const {}
void Ranks::sum(double*, size_t) const {}
long Ranks::max(long value) const {
  return value;
}
void Ranks::barrier() const {}
void Ranks::check_same(uint64_t, const std::string&) const {}
long Ranks::broadcast(long value) const {
  return value;
}
Ranks Ranks::split(int) const {
  return *this;
}
void Ranks::abort_others(int) const {}

#endif

Ranks& Ranks::world() {
  static Ranks ranks;
  return ranks;
}

}  // namespace normlab
