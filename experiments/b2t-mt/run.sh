#!/usr/bin/env bash
# The B2T comparison of Post-LN, Pre-LN and B2T on an encoder-decoder (issue 15): English ->
# German on the bundled gettext corpus (`normlab prepare-parallel`, near-duplicates never split
# across parts), 6-6 models at d 192 trained 2000 steps of 4096 tokens with 2 seeds, and a deep
# decoder (6 encoder, 18 decoder blocks) where Post-LN is expected to fail. Each finished run is
# translated with beam 5 on the whole test part and scored with BLEU and chrF
# (`normlab eval`, sacreBLEU defaults).
#
# Resumable: run directories (checkpoints every 250 steps) are in $OUT (runs/b2t-mt/, gitignored);
# a run with a finished summary.json is skipped, an unfinished one continues with `train --resume`,
# so a killed script continues where it stopped when started again. Each finished run is archived
# to experiments/b2t-mt/results/NAME/ (summary, config, metrics, diagnostics, hypotheses, scores,
# compute) and the tables experiments/b2t-mt/results.{md,csv,json} are rebuilt from that folder
# alone (collect.py) after every run.
#
# Runs are named PLACEMENT-ENC-DEC-sSEED and trained in the order of $RUNS, most informative first.
# Cost, measured on pre-6-6-s1 (AMD EPYC, AVX2, no bf16, so fp32; 2 threads): 3.8 CPU s a step,
# about 2 h of 2 cores for a 6-6 run, more at 6-18; results.md gives each run's measured cost.
# Usage: bash experiments/b2t-mt/run.sh   (NL=path/to/normlab, RUNS="pre-6-6-s1 ...", STEPS=2000)
#
# The whole script is one function called on the last line, so bash has parsed all of it before
# the first command runs: editing or checking out this file while a long run is going on cannot
# change what the running script does.
main() {
  set -euo pipefail
  cd "$(dirname "$0")/../.."
  NL=${NL:-build/normlab}
  [ -x "$NL" ] || bash scripts/setup.sh
  STEPS=${STEPS:-2000}
  BEAM=${BEAM:-5}
  DATA=${DATA:-runs/b2t-mt-data}
  OUT=${OUT:-runs/b2t-mt}
  RUNS=${RUNS:-pre-6-6-s1 post-6-6-s1 b2t-6-6-s1 pre-6-18-s1 post-6-18-s1 b2t-6-18-s1 \
pre-6-6-s2 post-6-6-s2 b2t-6-6-s2}
  export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
  EXP=experiments/b2t-mt
  RESULTS=$EXP/results

  [ -f "$DATA/meta.json" ] || "$NL" prepare-parallel --out_dir "$DATA"
  mkdir -p "$OUT" "$RESULTS"
  # One instance at a time: a second one would skip the run the first is writing (train refuses
  # it) and start the next one beside it.
  exec 9>"$OUT/.run.lock"
  flock -n 9 || { echo "b2t-mt: another run.sh is already training in $OUT" >&2; exit 1; }
  cp "$DATA/meta.json" "$RESULTS/corpus-meta.json"
  local cpu
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  local flags
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  case $flags in *avx512f*) cpu="$cpu (AVX-512" ;; *avx2*) cpu="$cpu (AVX2" ;; *) cpu="$cpu (no AVX2" ;; esac
  case $flags in *amx_bf16*) cpu="$cpu, AMX)" ;; *avx512_bf16*) cpu="$cpu, AVX512_BF16)" ;; *) cpu="$cpu, no bf16)" ;; esac

  local name
  for name in $RUNS; do
    local placement enc dec seed run
    IFS=- read -r placement enc dec seed <<<"$name"
    seed=${seed#s}
    run=$OUT/$name
    if ! finished "$run"; then
      local mode=()
      [ -f "$run/config.yaml" ] && mode=(--resume) || rm -rf "$run"
      rm -f "$run/test.hyp" "$run/bleu.json" "$run/chrf.json"  # scores of an earlier end
      # An earlier version of this script kept a killed call's stderr here: move it to the log.
      if [ -f "$run.train-times.tmp" ]; then
        cat "$run.train-times.tmp" >>"$run.log" && rm -f "$run.train-times.tmp"
      fi
      echo "b2t-mt: training $run ${mode[*]} ($(date -u +%FT%TZ))" >&2
      local start_step
      start_step=$(step_of "$run")
      # A diverged run exits non-zero; its summary.json records it, so carry on.
      timed "$run.train-times" "$NL" train --config "$EXP/config.yaml" --data "$DATA" \
        --placement "$placement" --encoder_layers "$enc" --n_layers "$dec" --seed "$seed" \
        --steps "$STEPS" --progress false --out_dir "$run" "${mode[@]}" >>"$run.log" 2>&1 ||
        echo "b2t-mt: train exited $? ($run)" >&2
      # The steps that call trained, beside its time (a killed call leaves neither line).
      echo "$start_step $(step_of "$run")" >>"$run.train-steps"
      finished "$run" || { echo "b2t-mt: $run did not finish; rerun to resume" >&2; continue; }
    fi
    if [ -f "$run/checkpoint.safetensors" ] && [ ! -f "$run/chrf.json" ]; then
      echo "b2t-mt: translating the test part with $run (beam $BEAM)" >&2
      rm -f "$run.translate-times"
      if timed "$run.translate-times" "$NL" translate -m "$run/checkpoint.safetensors" \
        -i "$DATA/test.en" -o "$run/test.hyp" --beam "$BEAM" 2>>"$run.log"; then
        "$NL" eval --metric bleu --hyp "$run/test.hyp" --ref "$DATA/test.de" --json >"$run/bleu.json"
        "$NL" eval --metric chrf --hyp "$run/test.hyp" --ref "$DATA/test.de" --json >"$run/chrf.json"
      else
        echo "b2t-mt: translate failed ($run)" >&2
      fi
    fi
    archive "$run" "$RESULTS/$name" "$cpu"
    python3 "$EXP/collect.py" "$RESULTS" "$EXP" --beam "$BEAM" --planned $RUNS \
      --running "$OUT" >/dev/null
  done
  python3 "$EXP/collect.py" "$RESULTS" "$EXP" --beam "$BEAM" --planned $RUNS
  # Loss curves and per-block gradient profiles of the runs trained here.
  "$NL" report "$OUT" -o "$EXP/report.html" --title "B2T comparison, encoder-decoder" ||
    echo "b2t-mt: report failed" >&2
  echo "b2t-mt: $EXP/results.md" >&2
}

# A run is finished when its summary.json says ok or diverged (not interrupted) for $STEPS steps.
finished() {
  python3 - "$1/summary.json" "$STEPS" <<'PY' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))
ok = s["config"]["steps"] == int(sys.argv[2]) and not s["status"].startswith("interrupted")
sys.exit(0 if ok else 1)
PY
}

# step_of RUN: the step of RUN's newest checkpoint (normlab.step in its safetensors metadata), or
# of its summary.json when training ended without one (a diverged run); 0 for a fresh run.
step_of() {
  python3 - "$1" <<'PY'
import json, os, struct, sys
run = sys.argv[1]
try:
    with open(os.path.join(run, "checkpoint.safetensors"), "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        print(int(json.loads(f.read(n))["__metadata__"]["normlab.step"]))
except (OSError, KeyError, ValueError, struct.error):
    try:
        print(int(json.load(open(os.path.join(run, "summary.json")))["steps"]))
    except (OSError, KeyError, ValueError):
        print(0)
PY
}

# timed FILE CMD...: runs CMD and appends "wall user sys" seconds to FILE (bash's own `time`,
# whose report goes to FILE while CMD's stderr stays where the caller sent it, through fd 3).
timed() {
  local file=$1 rc=0 TIMEFORMAT='%R %U %S'
  shift
  { time "$@" 2>&3; } 3>&2 2>>"$file" || rc=$?
  return $rc
}

# archive RUN DEST CPU: the files the tables need, small enough to commit. diagnostics.jsonl is
# kept whole (one line per 250 steps); compute.json sums the timed train and translate calls that
# completed, with the steps those train calls covered (RUN.train-steps), so that the cost per step
# is measured and the cost of the whole run estimated from it: a call killed midway is not counted
# (its time is lost, and the steps after its last checkpoint are trained again by the next call).
# CPU: the model name and its widest vector and bf16 extensions, as the precision depends on them.
archive() {
  local run=$1 dest=$2 cpu=$3
  [ -f "$run/summary.json" ] || return 0
  mkdir -p "$dest"
  local f
  for f in summary.json config.yaml metrics.jsonl diagnostics.jsonl test.hyp bleu.json chrf.json; do
    [ -f "$run/$f" ] && cp "$run/$f" "$dest/$f"
  done
  python3 - "$run" "$dest/compute.json" "$cpu" "$OMP_NUM_THREADS" <<'PY'
import json, sys
run, out, cpu, threads = sys.argv[1:5]
def rows_of(path):
    try:
        return [list(map(float, l.split())) for l in open(path) if l.strip()]
    except FileNotFoundError:
        return None
def total(path, steps_path=None):
    rows = rows_of(path)
    if rows is None:
        return None
    out = {"invocations": len(rows), "wall_s": sum(r[0] for r in rows),
           "cpu_s": sum(r[1] + r[2] for r in rows)}
    steps = rows_of(steps_path) if steps_path else None
    if steps is not None and len(steps) == len(rows):
        out["timed_steps"] = int(sum(b - a for a, b in steps))
    return out
json.dump({"cpu": cpu, "threads": int(threads),
           "train": total(run + ".train-times", run + ".train-steps"),
           "translate": total(run + ".translate-times")}, open(out, "w"), indent=1)
PY
}

main "$@"
exit
