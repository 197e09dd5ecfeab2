"""normlab from Python (docs/python.md).

The engine (the compiled module normlab._core, built by CMake into BUILD/python/normlab):
`load(checkpoint)` and `init(config)` give a `Model` (loss and gradients on numpy arrays),
`train(config, callback)` trains as `normlab train`, `sanity_check(config)` returns the depth
sanity check's report; `Error` is normlab's error. Pure Python, without the engine:
`diagnostics(run_dir)` (a run's diagnostics.jsonl as numpy arrays keyed by block), `normlab.torch`
(the models as PyTorch modules; needs PyTorch) and `normlab.safetensors`.
"""
from .diagnostics import diagnostics  # noqa: F401

_ENGINE = ("Error", "Model", "init", "load", "sanity_check", "train")

try:
    from ._core import Error, Model, init, load, sanity_check, train  # noqa: F401
except ModuleNotFoundError as e:
    if e.name != __name__ + "._core":
        raise
    # This is the source tree's package: its pure-Python parts work; the engine's names say where
    # the built package is.
    def __getattr__(name):
        if name in _ENGINE:
            raise ImportError(f"normlab.{name} needs the compiled module normlab._core: build with "
                              "CMake and put BUILD/python on PYTHONPATH (docs/python.md)")
        raise AttributeError(f"module 'normlab' has no attribute '{name}'")
