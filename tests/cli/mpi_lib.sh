# shellcheck shell=bash
# Shared by tests/cli/test_mpi_*.sh (sourced after lib.sh): the mpirun command line that works in
# a container as root, and the skip (exit 77, ctest SKIP_RETURN_CODE) where MPI is missing.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One thread per rank unless a test says otherwise; passive waits so ranks do not spin on 2 cores.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# --oversubscribe: more ranks than cores is fine for a test; the shared-memory transport without
# single-copy (CMA is forbidden in most containers), and TCP for what crosses hosts.
MPIRUN=(mpirun --oversubscribe --mca btl self,vader,tcp
        --mca btl_vader_single_copy_mechanism none)

# require_mpi: exit 77 with a message unless mpirun exists and normlab was built with MPI.
require_mpi() {
  if ! command -v mpirun >/dev/null; then
    echo "SKIP: mpirun not found (apt-get install openmpi-bin libopenmpi-dev, scripts/setup.sh)"
    exit 77
  fi
  local out
  out=$("${MPIRUN[@]}" -np 2 "$NL" train --data /nonexistent --out_dir /nonexistent 2>&1 || true)
  if [[ "$out" == *"built without MPI"* ]]; then
    echo "SKIP: this normlab was built without MPI: $out"
    exit 77
  fi
}
