#!/usr/bin/env bash
# Training-throughput comparison: normlab (2 threads; bf16 and fp32 matmuls) against an independent
# PyTorch model of the same Pre-LN GPT (best of 1 and 2 threads x fp32 / bf16 autocast), with the
# matmul peak measured on the spot for MFU. Every measurement is its own process, so peak RSS is
# per process. Usage:
#   bash bench/run.sh                 # reference config
#   bash bench/run.sh --all           # reference deep24 deep48 long gpt2small
#   bash bench/run.sh --config long   # one config (repeatable)
#   options: --steps N, --warmup N (default: per config, 10/2 for reference, 2/1 for the big ones)
#            --out FILE (JSON lines of every run; default $BUILD_DIR/bench-results.jsonl)
# Environment: BUILD_DIR (default: build/ in the repository), NORMLAB_BENCH (a built normlab_bench
# to use instead of building one), NORMLAB_OMP_WAIT_POLICY (default active) and
# TORCH_OMP_WAIT_POLICY (default passive): each side's faster OpenMP wait policy, TORCH_BLAS_DIR (an
# OpenBLAS directory for PyTorch's f32 matmuls).
# bf16 runs (normlab's and PyTorch's) are made only where oneDNN has bf16 kernels on this CPU
# (AVX512_BF16 or AMX): elsewhere both would emulate bf16 and measure nothing useful (PyTorch 1.13's
# bf16 autocast on an AVX2 CPU takes ~47 s per reference step).
# PyTorch's f32 Linear goes through the system BLAS. Debian's torch links libblas.so.3, which is
# netlib's reference BLAS unless an optimised one is installed; reference BLAS makes PyTorch ~10x
# slower and the comparison meaningless. If an OpenBLAS is found (TORCH_BLAS_DIR, or Debian's
# libopenblas0-pthread directory) PyTorch runs with it via LD_LIBRARY_PATH; the output names the
# BLAS that was loaded. OpenMP wait policy: PyTorch runs with passive, because its idle OpenMP
# threads otherwise spin against OpenBLAS's own pthreads (2 threads, measured: 3608 ms per
# reference step instead of 808); normlab with active, libgomp spinning between parallel regions,
# close to what `normlab train` gets by default, where libgomp spins a while before sleeping
# (543 ms per reference step instead of 570 with passive).
# On a loaded machine spinning threads wait on descheduled ones: benchmark on a quiet machine.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
python=/usr/bin/python3  # Debian's interpreter, the one with torch
normlab_wait="${NORMLAB_OMP_WAIT_POLICY:-active}"
torch_wait="${TORCH_OMP_WAIT_POLICY:-passive}"
configs=()
steps=""
warmup=""
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --all) configs=(reference deep24 deep48 long gpt2small) ;;
    --config) configs+=("$2"); shift ;;
    --steps) steps="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[[ ${#configs[@]} -eq 0 ]] && configs=(reference)
out="${out:-$build/bench-results.jsonl}"
mkdir -p "$(dirname "$out")"

bench="${NORMLAB_BENCH:-}"
if [[ -z "$bench" ]]; then
  echo "== building normlab_bench (Release) in $build" >&2
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target normlab_bench >/dev/null
  bench="$build/bench/normlab_bench"
fi

# Choose the BLAS for PyTorch.
blas_dir="${TORCH_BLAS_DIR:-}"
if [[ -z "$blas_dir" ]]; then
  for d in /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/x86_64-linux-gnu/openblas-openmp; do
    if [[ -e "$d/libblas.so.3" ]]; then blas_dir="$d"; break; fi
  done
fi
torch_env=(env "OMP_WAIT_POLICY=$torch_wait")
if [[ -n "$blas_dir" ]]; then
  torch_env+=("LD_LIBRARY_PATH=$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
fi
bench_env=(env "OMP_WAIT_POLICY=$normlab_wait")
torch_blas="$("${torch_env[@]}" "$python" -c 'import torch, os
for line in open("/proc/self/maps"):
    p = line.split()[-1]
    if "blas" in os.path.basename(p) and ".so" in p: print(os.path.realpath(p)); break')"
torch_slow=0
if [[ "$torch_blas" == */blas/libblas.so* ]]; then
  echo "!! PyTorch would use netlib reference BLAS ($torch_blas): its f32 matmuls are ~10x slower" \
       "than with an optimised BLAS. Install libopenblas0-pthread or set TORCH_BLAS_DIR. Timing" \
       "PyTorch with 2 steps only." >&2
  torch_slow=1
fi

field() {  # field JSON KEY
  "$python" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

: >"$out"
load_before="$(load)"
echo "== matmul peak, 2 threads (load average: $(load))" >&2
peak="$("${bench_env[@]}" "$bench" --matmul-peak --threads 2)"
echo "$peak" | tee -a "$out" >&2
precisions=(fp32)
[[ "$(field "$peak" bf16_native)" == True ]] && precisions=(bf16 fp32)

for c in "${configs[@]}"; do
  # The big configs take tens of seconds per step on 2 cores: few steps, and no probed steps
  # (the diagnostics overhead is measured on reference).
  case "$c" in
    reference) s=10 w=2 probe=3 ;;
    *) s=2 w=1 probe=0 ;;
  esac
  s="${steps:-$s}"
  w="${warmup:-$w}"
  for p in "${precisions[@]}"; do
    echo "== $c: normlab $p, 2 threads, $s steps (load average: $(load))" >&2
    "${bench_env[@]}" "$bench" --config-name "$c" --steps "$s" --warmup "$w" --threads 2 \
      --precision "$p" \
      --probe-steps "$probe" |
      tee -a "$out" >&2
  done
  ts="$s" tw="$w"
  [[ $torch_slow == 1 ]] && ts=2 tw=1
  for t in 1 2; do
    for p in "${precisions[@]}"; do
      echo "== $c: PyTorch $p, $t thread(s), $ts steps (load average: $(load))" >&2
      "${torch_env[@]}" "$python" "$repo/bench/torch_reference.py" --config-name "$c" \
        --steps "$ts" --warmup "$tw" --threads "$t" --precision "$p" | tee -a "$out" >&2
    done
  done
done

echo
echo "PyTorch BLAS: $torch_blas; OMP_WAIT_POLICY: normlab $normlab_wait, PyTorch $torch_wait"
echo "load average (1/5/15 min) before: $load_before, after: $(load)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
[[ ${#precisions[@]} -eq 1 ]] && echo "no bf16 kernels on this CPU: bf16 runs skipped"
"$python" "$repo/bench/summarize.py" "$out"
echo "(every run: $out)"
