#!/usr/bin/env python3
"""Dependencies point one way: a file under src/<layer>/ may include only its own layer and layers
of a lower rank (docs: core -> kernels -> model -> diag/decode -> train -> cli).

Usage: check_layering.py SRC_DIR     exit 1 and one line per upward include if any
       check_layering.py --self-test  proves on a scratch tree that a violation is caught

Layers of one rank do not include each other either (diag and decode are siblings). The ranks of
io, data, eval and report come from what they include today: only core, so they sit beside
kernels and anything above may use them.
"""
import os
import re
import sys
import tempfile

# The one table: layer -> rank. A file may include "<other>/..." only if rank(other) < rank(own)
# or other == own.
LAYERS = {
    "core": 0,
    "kernels": 1,
    "io": 1,      # safetensors reading/writing: core only
    "data": 1,    # tokenizer, token files, batches, corpora: core only
    "eval": 1,    # BLEU, chrF, ROUGE: core only
    "report": 1,  # HTML report from run directories: core only
    "model": 2,
    "diag": 3,
    "decode": 3,
    "export": 3,  # checkpoints in other frameworks' layouts: model and below
    "train": 4,
    "cli": 5,
    "api": 5,  # the installed library API (include/normlab): everything below, beside cli
}

# Known upward includes, each with the work that removes it (none today).
KNOWN_EXCEPTIONS = set()

INCLUDE = re.compile(r'^\s*#\s*include\s*"([a-z_0-9]+)/[^"]+"', re.M)


def violations(src_dir, exceptions=KNOWN_EXCEPTIONS):
    found = []
    for layer in sorted(os.listdir(src_dir)):
        folder = os.path.join(src_dir, layer)
        if not os.path.isdir(folder):
            continue
        if layer not in LAYERS:
            found.append(f"{folder}: layer '{layer}' is not in the table of {__file__}")
            continue
        for root, _, files in os.walk(folder):
            for name in sorted(files):
                if not name.endswith((".hpp", ".cpp", ".h", ".cc")):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    target = m.group(1)
                    if target == layer or target not in LAYERS:
                        continue
                    if LAYERS[target] < LAYERS[layer] or (layer, target) in exceptions:
                        continue
                    line = text.count("\n", 0, m.start()) + 1
                    found.append(f"{path}:{line}: {layer} (rank {LAYERS[layer]}) includes "
                                 f"{target} (rank {LAYERS[target]}): "
                                 f"{m.group(0).strip()}")
    return found


def self_test():
    # A clean tree passes; an upward include and a sibling include are both reported.
    with tempfile.TemporaryDirectory() as tmp:
        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w") as f:
                f.write(text)
        write("core/a.hpp", "#pragma once\n")
        write("model/m.cpp", '#include "core/a.hpp"\n#include "model/m.hpp"\n')
        write("train/t.cpp", '#include "model/m.hpp"\n#include <vector>\n')
        if violations(tmp, set()):
            return "a clean tree was reported"
        write("core/b.cpp", '#include "train/trainer.hpp"\n')
        write("diag/d.cpp", '#include "decode/kv_cache.hpp"\n')
        found = violations(tmp, set())
        if len(found) != 2 or "core/b.cpp:1" not in found[0] or "diag/d.cpp:1" not in found[1]:
            return "violations not reported: " + repr(found)
    return None


def main():
    if sys.argv[1:] == ["--self-test"]:
        problem = self_test()
        if problem:
            print("check_layering self-test failed:", problem)
            return 1
        print("check_layering self-test: ok")
        return 0
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    found = violations(sys.argv[1])
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} include(s) point up the layers (table in {__file__})")
        return 1
    print("layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
