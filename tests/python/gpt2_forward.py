"""GPT-2's forward pass, transcribed from its published architecture (Radford et al. 2019,
"Language Models are Unsupervised Multitask Learners", section 2.3: GPT-1's Transformer decoder
with layer norm moved to the input of each sub-block and a final layer norm after the last block)
in Hugging Face's GPT2LMHeadModel parameter layout: names `transformer.h.N.*`, Conv1D weights
[in, out] applied as x @ W + b, q|k|v as column blocks of c_attn, the head tied to wte, GELU
"gelu_new" (the tanh form), attention scaled by 1/sqrt(head_dim). Independent of normlab's code."""
import json
import math
import os

import torch

from normlab import safetensors


def load(directory):
    tensors, _ = safetensors.read(os.path.join(directory, "model.safetensors"))
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    return {k: torch.from_numpy(v).double() for k, v in tensors.items()}, config


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def conv1d(x, w, b):
    return x @ w + b


def loss(weights, config, input_ids, labels):
    W = {k[len("transformer."):]: v for k, v in weights.items()}
    eps, H = config["layer_norm_epsilon"], config["n_head"]
    B, T = input_ids.shape
    x = W["wte.weight"][input_ids] + W["wpe.weight"][torch.arange(T)]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(config["n_layer"]):
        p = f"h.{i}."
        a = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        q, k, v = conv1d(a, W[p + "attn.c_attn.weight"], W[p + "attn.c_attn.bias"]).split(
            config["n_embd"], dim=-1)
        q, k, v = (t.view(B, T, H, -1).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        att = torch.softmax(att.masked_fill(~causal, float("-inf")), dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, -1)
        x = x + conv1d(o, W[p + "attn.c_proj.weight"], W[p + "attn.c_proj.bias"])
        m = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        m = gelu_new(conv1d(m, W[p + "mlp.c_fc.weight"], W[p + "mlp.c_fc.bias"]))
        x = x + conv1d(m, W[p + "mlp.c_proj.weight"], W[p + "mlp.c_proj.bias"])
    x = layer_norm(x, W["ln_f.weight"], W["ln_f.bias"], eps)
    logits = x @ W["wte.weight"].t()  # tie_word_embeddings
    return torch.nn.functional.cross_entropy(logits.reshape(B * T, -1), labels.reshape(-1))
