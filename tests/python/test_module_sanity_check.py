"""normlab.sanity_check (the compiled module): the report of `normlab sanity-check --json_out` for
the same options (sanity-check's own defaults included), as Python data, with a progress line per
depth; its errors are normlab.Error.

usage: test_module_sanity_check.py NORMLAB_BINARY"""
import json
import os
import sys
import tempfile

import engine
import normlab

DESIGN = {"placement": "post", "d_model": 32, "n_heads": 2, "d_ff": 64, "seq_len": 16,
          "sanity_seeds": 1, "sanity_batches": 1, "sanity_steps": 2, "threads": 2}
expect = engine.Expectations()


def without_seconds(report):
    """The report without its timings."""
    return dict(report, depths=[{k: v for k, v in d.items() if k != "seconds"}
                                for d in report["depths"]])


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "check.json")
        engine.run(binary, "sanity-check", *[a for k, v in DESIGN.items() for a in (f"--{k}", str(v))],
                   "--depths", "2,4", "--json_out", path)
        with open(path) as f:
            cli = json.load(f)
        lines = []
        report = normlab.sanity_check(dict(DESIGN, depths=[2, 4]), progress=lines.append)
        expect([d["depth"] for d in report["depths"]] == [2, 4] and
               report["config"]["batch_size"] == 8 and report["data"] == "markov(256)",
               "sanity_check returns the report as Python data, with sanity-check's defaults "
               "(batch_size 8, vocab_size 256)")
        expect(without_seconds(report) == without_seconds(cli),
               "the report is `normlab sanity-check --json_out`'s (timings aside)")
        expect(len(lines) == 2 and all(isinstance(line, str) for line in lines),
               f"one progress line per depth: {lines}")
        expect.raises(normlab.Error, lambda: normlab.sanity_check({"depths": "2,x"}),
                      "option 'depths': expected depths >= 1, comma-separated, got '2,x'",
                      "a bad depth list")
    expect.finish()


if __name__ == "__main__":
    main()
