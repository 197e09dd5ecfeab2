#!/usr/bin/env bash
# Training-throughput comparison: normlab (2 threads) against an independent PyTorch model of the
# same Pre-LN GPT (best of 1 and 2 threads). Every measurement is its own process, so peak RSS is
# per process. Usage:
#   bash bench/run.sh                 # reference config
#   bash bench/run.sh --all           # reference deep24 deep48 long gpt2small
#   bash bench/run.sh --config long   # one config (repeatable)
#   options: --steps N (default 10), --warmup N (default 2)
# PyTorch's f32 Linear goes through the system BLAS. Debian's torch links libblas.so.3, which is
# netlib's reference BLAS unless an optimised one is installed; reference BLAS makes PyTorch ~10x
# slower and the comparison meaningless. If an OpenBLAS is found (TORCH_BLAS_DIR, or Debian's
# libopenblas0-pthread directory) PyTorch runs with it via LD_LIBRARY_PATH; the table names the
# BLAS that was loaded. OMP_WAIT_POLICY defaults to passive for both: PyTorch's idle OpenMP
# threads otherwise spin against OpenBLAS's own pthreads, and on a loaded machine spinning
# threads wait on descheduled ones (either way 2-thread runs lose up to 2x). Override by
# exporting OMP_WAIT_POLICY.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build"
python=/usr/bin/python3  # Debian's interpreter, the one with torch
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
configs=()
steps=10
warmup=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --all) configs=(reference deep24 deep48 long gpt2small) ;;
    --config) configs+=("$2"); shift ;;
    --steps) steps="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ ${#configs[@]} -eq 0 ]] && configs=(reference)

echo "== building normlab_bench (Release) in $build" >&2
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target normlab_bench >/dev/null
bench="$build/bench/normlab_bench"

# Choose the BLAS for PyTorch.
blas_dir="${TORCH_BLAS_DIR:-}"
if [[ -z "$blas_dir" ]]; then
  for d in /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/x86_64-linux-gnu/openblas-openmp; do
    if [[ -e "$d/libblas.so.3" ]]; then blas_dir="$d"; break; fi
  done
fi
torch_env=()
if [[ -n "$blas_dir" ]]; then
  torch_env=(env "LD_LIBRARY_PATH=$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi
torch_steps="$steps"
torch_warmup="$warmup"
torch_blas="$("${torch_env[@]}" "$python" -c 'import torch, os
for line in open("/proc/self/maps"):
    p = line.split()[-1]
    if "blas" in os.path.basename(p) and ".so" in p: print(os.path.realpath(p)); break')"
if [[ "$torch_blas" == */blas/libblas.so* ]]; then
  echo "!! PyTorch would use netlib reference BLAS ($torch_blas): its f32 matmuls are ~10x slower" \
       "than with an optimised BLAS. Install libopenblas0-pthread or set TORCH_BLAS_DIR. Timing" \
       "PyTorch with 2 steps only." >&2
  torch_steps=2
  torch_warmup=1
fi

field() {  # field JSON KEY
  "$python" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for c in "${configs[@]}"; do
  echo "== $c: normlab, 2 threads (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  nl="$("$bench" --config-name "$c" --steps "$steps" --warmup "$warmup" --threads 2)"
  echo "$nl" >&2
  best=""
  for t in 1 2; do
    echo "== $c: PyTorch, $t thread(s) (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    pt="$("${torch_env[@]}" "$python" "$repo/bench/torch_reference.py" --config-name "$c" \
          --steps "$torch_steps" --warmup "$torch_warmup" --threads "$t")"
    echo "$pt" >&2
    if [[ -z "$best" ]] || "$python" -c 'import json, sys
a, b = (json.loads(s)["tokens_per_s"] for s in sys.argv[1:3]); sys.exit(0 if a > b else 1)' \
        "$pt" "$best"; then
      best="$pt"
    fi
  done
  results+=("$c|$nl|$best")
done

echo
echo "PyTorch BLAS: $torch_blas; OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
echo "load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
printf '| %-9s | %14s | %16s | %16s | %9s | %12s | %12s |\n' config "normlab tok/s" "PyTorch tok/s" \
  "PyTorch threads" "normlab/PT" "normlab RSS" "PyTorch RSS"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' -----------: ----------------: ------------------: \
  ------------------: -----------: --------------: --------------:
for r in "${results[@]}"; do
  IFS='|' read -r c nl pt <<<"$r"
  nt="$(field "$nl" tokens_per_s)"
  ptt="$(field "$pt" tokens_per_s)"
  ratio="$("$python" -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" \
           "$nt" "$ptt")"
  printf '| %-9s | %14s | %16s | %16s | %9s | %9s MB | %9s MB |\n' "$c" "$nt" "$ptt" \
    "$(field "$pt" threads)" "$ratio" "$(field "$nl" peak_rss_mb)" "$(field "$pt" peak_rss_mb)"
done
