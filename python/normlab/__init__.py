"""normlab from Python.

`normlab.torch` (needs PyTorch) holds the models as `nn.Module`s; `normlab.safetensors` reads and
writes checkpoints with numpy only.
"""
