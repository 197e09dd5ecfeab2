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

# compare RUN_A RUN_B STEPS [metrics]: metrics (loss, grad_norm, validation loss), diagnostics
# (every number) and the final checkpoint agree to 1e-5 relative, and both runs logged steps
# 1..STEPS; with "metrics", only the metrics.
compare() {
  "$PY" - "$@" <<'PY'
import json, struct, sys
a, b, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
metrics_only = sys.argv[4:] == ["metrics"]
TOL = 1e-5
bad = []
def close(x, y):
    return abs(x - y) <= TOL * max(abs(x), abs(y), 1e-6)
def lines(run, name):
    return [json.loads(l) for l in open(f"{run}/{name}")]
def walk(x, y, where):
    if isinstance(x, dict):
        if set(x) != set(y): bad.append(f"{where}: keys differ"); return
        for k in x: walk(x[k], y[k], f"{where}.{k}")
    elif isinstance(x, list):
        if len(x) != len(y): bad.append(f"{where}: lengths differ"); return
        for i, (u, v) in enumerate(zip(x, y)): walk(u, v, f"{where}[{i}]")
    elif isinstance(x, float) and not close(x, y):
        bad.append(f"{where}: {x} vs {y}")
    elif not isinstance(x, float) and x != y and not (isinstance(x, int) and where.endswith("]")):
        if where.split(".")[-1] != "tokens_per_s": bad.append(f"{where}: {x!r} vs {y!r}")
ma = [l for l in lines(a, "metrics.jsonl") if "loss" in l]
mb = [l for l in lines(b, "metrics.jsonl") if "loss" in l]
if [l["step"] for l in ma] != list(range(1, steps + 1)): bad.append(f"{a}: steps {[l['step'] for l in ma]}")
for la, lb in zip(ma, mb):
    for k in ("step", "loss", "grad_norm", "lr"): walk(la[k], lb[k], f"metrics step {la['step']} {k}")
# Validation lines: on N ranks each evaluates its share of the batches and the sums are added.
va = [l for l in lines(a, "metrics.jsonl") if "valid_loss" in l]
vb = [l for l in lines(b, "metrics.jsonl") if "valid_loss" in l]
if len(va) != len(vb) or len(va) < 2: bad.append(f"validation: {len(va)} vs {len(vb)} lines")
for la, lb in zip(va, vb): walk(la, lb, f"validation step {la['step']}")
if metrics_only:
    print(f"{len(ma)} steps"); sys.exit(1 if bad else 0)
da, db = lines(a, "diagnostics.jsonl"), lines(b, "diagnostics.jsonl")
if len(da) != len(db) or len(da) < 3: bad.append(f"diagnostics: {len(da)} vs {len(db)} lines")
for la, lb in zip(da, db): walk(la, lb, f"diagnostics step {la['step']}")
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]
        out[k] = struct.unpack(f"<{(e - s) // 4}f", raw[8 + n + s:8 + n + e])
    return out
ta, tb = tensors(f"{a}/checkpoint.safetensors"), tensors(f"{b}/checkpoint.safetensors")
if set(ta) != set(tb): bad.append("checkpoint tensor names differ")
worst = 0.0
for k in ta:  # relative to the tensor's scale, so that weights near 0 do not divide by ~0
    scale = max(max(map(abs, ta[k])), 1e-6)
    worst = max(worst, max(abs(x - y) for x, y in zip(ta[k], tb[k])) / scale)
if worst > TOL: bad.append(f"final weights differ by {worst:.2e} relative")
print(f"{len(ma)} steps, {len(da)} diagnostics lines, weights within {worst:.1e}")
if bad:
    print("\n".join(bad[:20])); sys.exit(1)
PY
}
