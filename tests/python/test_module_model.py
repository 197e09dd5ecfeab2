"""normlab.Model (the compiled module): a model from a dict of options, a config file or a
checkpoint; its loss and gradients on numpy token arrays equal `normlab grad`'s (the same engine,
float32) and the PyTorch module's (normlab.torch, float64, written from docs/model.md); the option
vocabulary's errors are normlab.Error with normlab's one-line message.

usage: test_module_model.py NORMLAB_BINARY"""
import os
import sys
import tempfile

import numpy as np
import torch

import engine
import normlab
import normlab.torch

TINY = {"vocab_size": 40, "d_model": 16, "n_heads": 2, "n_layers": 3, "d_ff": 24, "seq_len": 8}
LOSS_RTOL = 2e-6  # the PyTorch module in float64 against the engine's float32
GRAD_TOL = 1e-3  # max |difference| relative to the tensor's largest entry
expect = engine.Expectations()


def against_engine(binary, work, options, seed):
    """A perturbed model saved by the CLI, loaded here: loss and gradients as `normlab grad` and
    normlab.torch give them, on the same rows."""
    label = " ".join(f"{k}={v}" for k, v in options.items() if k not in TINY) or "pre"
    path = os.path.join(work, "m.safetensors")
    engine.init_perturbed(binary, path, options, seed)
    rows = np.random.RandomState(seed).randint(0, options["vocab_size"], size=(3, 7))
    model = normlab.load(path)
    loss, grads = model.loss_and_grads(rows)  # rows [B, T + 1], as `normlab grad` reads them
    cli_loss, cli_grads = engine.engine_grad(binary, path, rows.tolist(), work)
    expect(f"{loss:.9g}" == f"{cli_loss:.9g}", f"{label}: loss {loss:.9g} is normlab grad's")
    expect(sorted(grads) == sorted(cli_grads) and
           all(grads[k].dtype == np.float32 and grads[k].shape == cli_grads[k].shape for k in grads),
           f"{label}: one float32 array per parameter, named and shaped as normlab grad's")
    worst = max(float(np.abs(grads[k] - cli_grads[k]).max() / max(np.abs(cli_grads[k]).max(), 1e-30))
                for k in cli_grads)
    expect(worst <= 1e-5, f"{label}: every gradient is normlab grad's (worst {worst:.1e})")

    reference = normlab.torch.load(path).double()
    ids = torch.tensor(rows, dtype=torch.long)
    torch_loss = reference(ids[:, :-1], ids[:, 1:])
    torch_loss.backward()
    expect(abs(torch_loss.item() - loss) <= LOSS_RTOL * loss,
           f"{label}: loss is normlab.torch's ({torch_loss.item():.9g})")
    floor = 1e-3 * max(float(np.abs(g).max()) for g in grads.values())
    worst = max(float(np.abs(p.grad.numpy() - grads[name]).max()) /
                max(float(np.abs(p.grad.numpy()).max()), floor)
                for name, p in reference.named_parameters())
    expect(worst <= GRAD_TOL, f"{label}: every gradient is normlab.torch's (worst {worst:.1e})")

    split = model.loss(rows[:, :-1], rows[:, 1:])
    expect(split == loss, "loss(inputs, targets) equals loss(rows)")
    targets = rows[:, 1:].copy()
    targets[:, 3:] = -1
    masked = model.loss(rows[:, :-1], targets)
    expect(abs(masked - model.loss(rows[:, :4])) < 1e-6,
           "a target -1 is ignored (the loss of the first 3 positions)")
    bigger = np.random.RandomState(1).randint(0, options["vocab_size"], size=(5, 9))
    expect(np.isfinite(model.loss(bigger)), "a larger batch than the last one is planned for")


def construction(binary, work):
    model = normlab.init(dict(TINY, placement="b2t", norm="rmsnorm", seed=4))
    expect(model.config["placement"] == "b2t" and model.config["norm"] == "rmsnorm" and
           model.vocab_size == 40 and model.seq_len == 8, "init from a dict of options")
    params = model.parameters()
    expect(params["blocks.0.attn.qkv.weight"].shape == (48, 16) and
           sum(p.size for p in params.values()) == model.parameter_count,
           "parameters(): numpy arrays in [out, in] layout, parameter_count in all")
    path = os.path.join(work, "b2t.safetensors")
    model.save(path)
    engine.run(binary, "init", "--placement", "b2t", "--norm", "rmsnorm", "--seed", "4",
               *[a for k, v in TINY.items() for a in (f"--{k}", str(v))],
               "-o", os.path.join(work, "cli.safetensors"))
    cli = normlab.load(os.path.join(work, "cli.safetensors")).parameters()
    expect(all(np.array_equal(params[k], cli[k]) for k in cli) and sorted(params) == sorted(cli),
           "the same parameters as `normlab init` with the same options and seed")
    rows = np.arange(14).reshape(2, 7) % 40
    expect(normlab.load(path).loss(rows) == model.loss(rows), "save, then load: the same loss")

    yaml_path = os.path.join(work, "model.yaml")
    with open(yaml_path, "w") as f:
        f.write("".join(f"{k}: {v}\n" for k, v in TINY.items()) + "placement: post\n")
    from_file = normlab.init(yaml_path)
    expect(from_file.config["placement"] == "post" and from_file.config["n_layers"] == 3,
           "init from a YAML file")
    layered = normlab.init({"config": yaml_path, "n_layers": 2, "depths": [2, 4]})
    expect(layered.config["n_layers"] == 2 and layered.config["placement"] == "post" and
           layered.config["depths"] == "2,4",
           "a dict's 'config' file, overridden by its other options (as --config FILE --flag); "
           "a list is the comma-separated value")


def errors(work):
    def init(config):
        return lambda: normlab.init(config)

    expect(issubclass(normlab.Error, RuntimeError), "normlab.Error is a RuntimeError")
    expect.raises(normlab.Error, init({"n_layer": 3}),
                  "options: unknown option 'n_layer' (did you mean 'n_layers'?)", "unknown option")
    expect.raises(normlab.Error, init({"n_layers": "two"}),
                  "options: option 'n_layers' expects an integer, got 'two'", "wrong type")
    expect.raises(normlab.Error, init({"norm": "batchnorm"}),
                  "options: option 'norm' must be one of layernorm, rmsnorm, dyt; got 'batchnorm'",
                  "not a choice")
    expect.raises(normlab.Error, init({"dropout": None}), "options: option 'dropout' is None",
                  "None is no value")
    bad = os.path.join(work, "bad.yaml")
    with open(bad, "w") as f:
        f.write("n_layers: 2\nd_modle: 3\n")
    expect.raises(normlab.Error, init(bad), bad + ": unknown option 'd_modle'",
                  "a config file's error names the file")
    expect.raises(normlab.Error, init(os.path.join(work, "none.yaml")), "none.yaml",
                  "a missing config file")
    expect.raises(TypeError, init(7), "a dict of options or a config file path, got int",
                  "config of another type")
    expect.raises(normlab.Error, lambda: normlab.load(os.path.join(work, "none.safetensors")),
                  "none.safetensors", "a missing checkpoint")
    model = normlab.init(TINY)
    expect.raises(TypeError, lambda: model.loss(np.zeros((2, 5))), "token ids must be integers",
                  "float tokens")
    expect.raises(ValueError, lambda: model.loss(np.zeros(5, dtype=int)), "[batch, seq_len]",
                  "a 1-D array")
    expect.raises(ValueError, lambda: model.loss(np.zeros((2, 4), int), np.zeros((2, 3), int)),
                  "differs from the inputs'", "inputs and targets of different shapes")
    expect.raises(normlab.Error, lambda: model.loss(np.full((1, 4), 40)), "40",
                  "a token outside the vocabulary")
    expect.raises(normlab.Error, lambda: model.loss(np.zeros((1, 10), int)), "seq_len",
                  "rows longer than seq_len")
    expect.raises(ValueError, lambda: model.loss(np.array([[2 ** 40, 1]])),
                  "outside the vocabulary", "an id beyond int32")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        for seed, options in enumerate([dict(TINY), dict(TINY, placement="post", norm="dyt"),
                                        dict(TINY, placement="deepnorm", dt="1/L")], start=3):
            against_engine(binary, work, options, seed)
        construction(binary, work)
        errors(work)
    expect.finish()


if __name__ == "__main__":
    main()
