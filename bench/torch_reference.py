#!/usr/bin/python3
"""PyTorch baseline for bench/train_throughput.cpp: the same Pre-LN GPT shapes, the same timing.

An independent PyTorch model of the architecture normlab trains with placement=pre: token plus
learned position embedding; per block x + attn(LN(x)) then x + mlp(LN(x)) with tanh-GELU; final
LN; output head tied to the token embedding. Attention is written with matmul / causal mask /
softmax because torch 1.13 has no F.scaled_dot_product_attention. A timed step is zero grads,
forward with targets, backward, torch.optim.AdamW step; tokens are random with a fixed seed.
--precision bf16 runs the forward under torch.autocast(device_type="cpu", dtype=torch.bfloat16)
(PyTorch's CPU mixed precision: bf16 matmuls through oneDNN, f32 weights, optimizer and loss).
Prints one JSON line with "impl": "pytorch".
"""
import contextlib
import argparse
import json
import math
import os
import resource
import sys
import time


def _early_threads():
    """--threads, read before torch loads: OpenBLAS sizes its pool when the library is loaded."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--threads", type=int, default=0)
    return ap.parse_known_args(sys.argv[1:])[0].threads


if _early_threads() > 0:
    os.environ["OPENBLAS_NUM_THREADS"] = str(_early_threads())

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# name: (vocab, d_model, heads, layers, d_ff, T, batch). Keep in sync with bench_shapes() in
# bench/train_throughput.cpp.
CONFIGS = {
    "reference": (4096, 256, 4, 6, 1024, 128, 16),
    "deep24": (4096, 256, 4, 24, 1024, 128, 16),
    "deep48": (4096, 256, 4, 48, 1024, 128, 16),
    "long": (4096, 256, 4, 6, 1024, 1024, 16),
    "gpt2small": (8192, 768, 12, 12, 3072, 256, 8),
}


class CausalSelfAttention(nn.Module):
    def __init__(self, d, heads, max_t):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        mask = torch.triu(torch.ones(max_t, max_t, dtype=torch.bool), diagonal=1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(x).split(d, dim=2)
        # [b, heads, t, hd]
        q = q.view(b, t, self.heads, hd).transpose(1, 2)
        k = k.view(b, t, self.heads, hd).transpose(1, 2)
        v = v.view(b, t, self.heads, hd).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        scores = scores.masked_fill(self.mask[:t, :t], float("-inf"))
        att = torch.softmax(scores, dim=-1)
        o = torch.matmul(att, v).transpose(1, 2).reshape(b, t, d)
        return self.proj(o)


class MLP(nn.Module):
    def __init__(self, d, d_ff):
        super().__init__()
        self.fc1 = nn.Linear(d, d_ff)
        self.fc2 = nn.Linear(d_ff, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, d, heads, d_ff, max_t):
        super().__init__()
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = CausalSelfAttention(d, heads, max_t)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d, d_ff)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class PreLNGPT(nn.Module):
    def __init__(self, vocab, d, heads, layers, d_ff, max_t):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, d)
        self.pos_emb = nn.Embedding(max_t, d)
        self.blocks = nn.ModuleList(Block(d, heads, d_ff, max_t) for _ in range(layers))
        self.final_norm = nn.LayerNorm(d, eps=1e-5)

    def forward(self, tokens, targets):
        t = tokens.shape[1]
        pos = torch.arange(t, device=tokens.device)
        x = self.tok_emb(tokens) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        logits = F.linear(self.final_norm(x), self.tok_emb.weight)  # tied head
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def blas_library():
    """File name of the BLAS the process loaded (torch's f32 Linear goes through it)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            name = os.path.basename(path)
            if "blas" in name and ".so" in name:
                return os.path.realpath(path)
    return "unknown"


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config-name", default="reference", choices=sorted(CONFIGS))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    vocab, d, heads, layers, d_ff, t, b = CONFIGS[args.config_name]

    torch.manual_seed(1)
    model = PreLNGPT(vocab, d, heads, layers, d_ff, t)
    for name, p in model.named_parameters():
        if p.dim() == 2:
            nn.init.normal_(p, std=0.02)
        elif name.endswith("bias"):
            nn.init.zeros_(p)
    model.train()
    # Matches the normlab bench: betas (0.9, 0.98), eps 1e-8, weight decay 0.01 on every tensor.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-8,
                            weight_decay=0.01)
    gen = torch.Generator().manual_seed(1234)
    x = torch.randint(0, vocab, (b, t), generator=gen)
    y = torch.randint(0, vocab, (b, t), generator=gen)

    loss = torch.zeros(())

    def autocast():
        if args.precision == "bf16":
            return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step():
        nonlocal loss
        opt.zero_grad(set_to_none=False)
        with autocast():
            loss = model(x, y)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    cpu0 = time.process_time()  # all threads; see train_throughput.cpp on why it is reported
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - cpu0
    print(json.dumps({
        "impl": "pytorch",
        "config": args.config_name,
        "precision": args.precision,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "tokens_per_s": round(b * t * args.steps / seconds, 1),
        "ms_per_step": round(1e3 * seconds / args.steps, 3),
        "cpu_ms_per_step": round(1e3 * cpu_seconds / args.steps, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "final_loss": round(float(loss), 4),
        "blas": blas_library(),
    }), flush=True)


if __name__ == "__main__":
    main()
