"""normlab from Python (docs/python.md).

`diagnostics(run_dir)`: a run's diagnostics.jsonl as numpy arrays keyed by block;
`normlab.torch`: the models as PyTorch modules (needs PyTorch); `normlab.safetensors`.
"""
from .diagnostics import diagnostics  # noqa: F401
