"""normlab.train (the compiled module): a run from a dict of options with a per-step callback has
the CLI's losses, learning rates and validations for the same options, and its diagnostics as
numpy arrays are the CLI run's; another Python thread runs meanwhile (the GIL is released); a
YAML file works as a config; errors are normlab.Error with the CLI's line; a divergence is a
result; KeyboardInterrupt in the callback, Ctrl-C and SIGTERM leave the run saved as the CLI's
interrupts do, and resume continues it with the uninterrupted run's losses.

usage: test_module_train.py NORMLAB_BINARY"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import engine
import normlab
from normlab import safetensors

STEPS = 24
EXTRA = {"steps": STEPS, "n_layers": 2, "seed": 3, "dropout": 0.1, "eval_every": 8,
         "save_every": 1000, "diag_every": 4}
expect = engine.Expectations()


def metrics_lines(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def status(run_dir):
    with open(os.path.join(run_dir, "summary.json")) as f:
        return json.load(f)["status"]


def checkpoint_step(run_dir):
    _, metadata = safetensors.read(os.path.join(run_dir, "checkpoint.safetensors"))
    return int(metadata["normlab.step"])


def train_with_callback(config, reference):
    """The run through the callback has the CLI run's numbers."""
    seen = []
    summary = normlab.train(config, seen.append)
    expect(summary["status"] == "ok" and summary["steps"] == STEPS and
           summary["out_dir"] == config["out_dir"], f"train(dict) finishes: {summary}")
    steps = [m for m in seen if "loss" in m]
    expect([m["step"] for m in steps] == list(range(1, STEPS + 1)) and
           all({"loss", "lr", "grad_norm"} <= set(m) for m in steps),
           "the callback receives step, loss, lr and grad_norm after every step (log_every 5)")
    cli = {m["step"]: m for m in reference if "loss" in m}
    expect(all(m["loss"] == cli[m["step"]]["loss"] and m["lr"] == cli[m["step"]]["lr"] and
               m["grad_norm"] == cli[m["step"]]["grad_norm"] for m in steps),
           "every step's loss, lr and grad_norm equal the CLI run's bit for bit")
    valid = [m for m in seen if "valid_loss" in m]
    expect([(m["step"], m["valid_loss"]) for m in valid] ==
           [(m["step"], m["valid_loss"]) for m in reference if "valid_loss" in m] and
           [m["step"] for m in valid] == [0, 8, 16, 24],
           "and every validation, as the CLI's (steps 0, 8, 16, 24)")
    expect(summary["last_loss"] == cli[STEPS]["loss"], "the summary's last loss")


def gil_released(config):
    """While a run of longer steps trains, another Python thread wakes every half millisecond to
    note the time. Holding the GIL, training would let it run only while the callback runs (at
    most a switch interval, 5 ms, after each step); with the GIL released it runs during the steps
    too: it must wake within the middle half of most steps."""
    calls, wakes, done = [], [], threading.Event()

    def other_thread():
        while not done.is_set():
            wakes.append(time.perf_counter())
            time.sleep(0.0005)

    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        normlab.train(config, lambda metrics: calls.append(time.perf_counter()))
    finally:
        done.set()
        worker.join()
    wakes = np.array(wakes)
    steps = [(a, b) for a, b in zip(calls, calls[1:]) if b - a > 0.02]
    awake = sum(bool(np.any((wakes > a + (b - a) / 4) & (wakes < b - (b - a) / 4)))
                for a, b in steps)
    expect(len(steps) >= 4 and awake >= len(steps) / 2,
           f"another Python thread runs during the steps (in {awake} of {len(steps)} steps "
           "longer than 20 ms): the GIL is released")


def same_diagnostics(python_run, cli_run):
    mine, cli = normlab.diagnostics(python_run), normlab.diagnostics(cli_run)
    expect(mine["step"].tolist() == cli["step"].tolist() == [0, 4, 8, 12, 16, 20, 24] and
           sorted(mine["blocks"]) == [1, 2], "diagnostics: numpy arrays keyed by block")
    expect(all(np.array_equal(mine["blocks"][b][k], cli["blocks"][b][k], equal_nan=True)
               for b in cli["blocks"] for k in cli["blocks"][b]),
           "every block's arrays equal the CLI run's")


def interrupted_by_callback(config, reference, stop_at):
    losses = []

    def callback(metrics):
        if "loss" in metrics:
            losses.append(metrics["loss"])
            if metrics["step"] == stop_at:
                raise KeyboardInterrupt

    try:
        normlab.train(config, callback)
        expect(False, "KeyboardInterrupt in the callback propagates")
    except KeyboardInterrupt as e:
        expect(any(f"state of step {stop_at} is saved" in n for n in getattr(e, "__notes__", [])),
               f"KeyboardInterrupt in the callback propagates, noting the save: {e.__notes__}")
    run = config["out_dir"]
    expect(status(run) == f"interrupted at step {stop_at}" and checkpoint_step(run) == stop_at,
           f"the run is saved at step {stop_at} (summary.json, checkpoint), as on SIGINT")
    summary = normlab.train({"out_dir": run}, lambda m: "loss" in m and losses.append(m["loss"]),
                            resume=True)
    expect(summary["status"] == "ok" and losses == [m["loss"] for m in reference if "loss" in m],
           "train(resume=True) finishes it with the uninterrupted run's losses")


def signals(config):
    handler = signal.getsignal(signal.SIGINT)

    def ctrl_c(metrics):
        if metrics.get("step") == 3 and "loss" in metrics:
            signal.raise_signal(signal.SIGINT)  # as a Ctrl-C during step 3

    run = config["out_dir"]
    try:
        normlab.train(config, ctrl_c)
        expect(False, "Ctrl-C raises KeyboardInterrupt")
    except KeyboardInterrupt as e:
        expect(f"train: interrupted at step 3 by SIGINT; the state of step 3 is saved ({run}"
               in str(e), f"Ctrl-C raises KeyboardInterrupt after saving: {e}")
    expect(status(run) == "interrupted at step 3" and checkpoint_step(run) == 3,
           "Ctrl-C: the run is saved at step 3")
    expect(signal.getsignal(signal.SIGINT) is handler, "Python's SIGINT handler is back")
    try:
        signal.raise_signal(signal.SIGINT)
        expect(False, "a Ctrl-C after train() is Python's again")
    except KeyboardInterrupt:
        expect(True, "a Ctrl-C after train() is Python's again")

    def sigterm(metrics):
        if metrics.get("step") == 5 and "loss" in metrics:
            signal.raise_signal(signal.SIGTERM)

    try:
        normlab.train({"out_dir": run}, sigterm, resume=True)
        expect(False, "SIGTERM exits")
    except SystemExit as e:
        expect(e.code == 143 and status(run) == "interrupted at step 5",
               f"SIGTERM: saved at step 5, then SystemExit({e.code}) as the CLI's exit 143")


def configs_and_errors(binary, config, work):
    yaml_path = os.path.join(work, "run.yaml")
    with open(yaml_path, "w") as f:
        f.write("".join(f"{k}: {v}\n" for k, v in dict(config, steps=3,
                                                        out_dir=f"{work}/yaml").items()))
    summary = normlab.train(yaml_path)
    expect(summary["status"] == "ok" and summary["steps"] == 3, "train(YAML file), no callback")

    r = subprocess.run([binary, "train", "--config", yaml_path], capture_output=True, text=True)
    cli_line = r.stderr.strip().removeprefix("normlab: error: ")
    expect(r.returncode == 1 and cli_line, f"fixture: the CLI refuses an existing run: {cli_line}")
    expect.raises(normlab.Error, lambda: normlab.train(yaml_path), cli_line,
                  "an existing run is refused with the CLI's line")
    expect.raises(normlab.Error, lambda: normlab.train(dict(config, steps="many")),
                  "options: option 'steps' expects an integer, got 'many'", "a wrong type")
    refused = f"{work}/refused"
    expect.raises(normlab.Error,
                  lambda: normlab.train(dict(config, data=f"{work}/nothing", out_dir=refused)),
                  f"{work}/nothing", "a missing corpus")
    expect(not os.path.exists(refused), "a refused run writes nothing")

    summary = normlab.train(dict(config, out_dir=f"{work}/diverged", diverge_loss=0.5))
    expect(summary["status"].startswith("diverged at step 1"),
           f"a divergence is the summary's status: {summary['status']}")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        cli_run = engine.train_tiny_run(binary, work, "--log_every", "1",
                                        *[a for k, v in EXTRA.items() for a in (f"--{k}", str(v))])
        reference = metrics_lines(cli_run)
        config = dict(engine.TINY_RUN, **EXTRA, data=f"{work}/data", log_every=5)
        train_with_callback(dict(config, out_dir=f"{work}/py"), reference)
        gil_released(dict(config, out_dir=f"{work}/gil", steps=8, d_model=128, n_heads=4,
                          d_ff=512, seq_len=64, batch_size=8, eval_every=0))
        same_diagnostics(f"{work}/py", cli_run)
        interrupted_by_callback(dict(config, out_dir=f"{work}/ki"), reference, stop_at=7)
        signals(dict(config, out_dir=f"{work}/sig"))
        configs_and_errors(binary, config, work)
    expect.finish()


if __name__ == "__main__":
    main()
