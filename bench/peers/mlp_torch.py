#!/usr/bin/env python3
"""Score an MLP with PyTorch on the GPU, as a PyTorch user would: the
model in eval mode under no_grad, the input in host memory, each batch
copied to the device, scored and copied back.

The Go side (bench/gpu) writes the weights and a few check rows with their
expected outputs as raw little-endian float32 files next to a JSON spec:

    {"features": F,
     "layers": [{"weight": "w0.f32", "bias": "b0.f32", "in": F, "out": H}, ...],
     "check_rows": R, "check_input": "x.f32", "check_expected": "y.f32"}

Layer weights are [out, in] row-major (PyTorch's Linear.weight); every layer
but the last is followed by a ReLU, the last by a sigmoid.

    mlp_torch.py spec.json --rows N --batch B

checks the model on the check rows (1e-4 relative), then times N rows of
its own uniform [-1, 1) input twice: from pageable host memory (.to("cuda"),
the usual code) and from pinned host memory with non-blocking copies (the
best case), and prints one JSON line.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch


def load(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    base = os.path.dirname(os.path.abspath(spec_path))

    def read(name, shape):
        return torch.from_numpy(np.fromfile(os.path.join(base, name), dtype="<f4").reshape(shape))

    layers = []
    for i, layer in enumerate(spec["layers"]):
        linear = torch.nn.Linear(layer["in"], layer["out"])
        with torch.no_grad():
            linear.weight.copy_(read(layer["weight"], (layer["out"], layer["in"])))
            linear.bias.copy_(read(layer["bias"], (layer["out"],)))
        layers.append(linear)
        layers.append(torch.nn.ReLU() if i < len(spec["layers"]) - 1 else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers).cuda().eval()
    x = read(spec["check_input"], (spec["check_rows"], spec["features"]))
    want = read(spec["check_expected"], (spec["check_rows"],))
    return spec, model, x, want


def score(model, x, batch, pinned):
    """Scores host tensor x in batches; returns the host output."""
    out = torch.empty(x.shape[0], 1, pin_memory=pinned)
    with torch.no_grad():
        for start in range(0, x.shape[0], batch):
            xb = x[start:start + batch].to("cuda", non_blocking=pinned)
            out[start:start + batch].copy_(model(xb), non_blocking=pinned)
    torch.cuda.synchronize()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    args = parser.parse_args()

    spec, model, x, want = load(args.spec)
    got = score(model, x, args.batch, False)[:, 0]
    err = ((got - want).abs() / (want.abs() + 1e-6)).max().item()
    if err > 1e-4:
        print(json.dumps({"error": "PyTorch's outputs differ from dfbatch's by %g relative" % err}))
        sys.exit(1)

    gen = torch.Generator().manual_seed(1)
    data = torch.rand(args.rows, spec["features"], generator=gen) * 2 - 1
    result = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(0),
              "rows": args.rows, "batch": args.batch, "check_max_rel_err": err,
              "tf32": torch.backends.cuda.matmul.allow_tf32}
    for name, pinned in (("pageable", False), ("pinned", True)):
        host = data.pin_memory() if pinned else data
        score(model, host[: args.batch * 4], args.batch, pinned)  # warm-up
        start = time.perf_counter()
        score(model, host, args.batch, pinned)
        result[name + "_rows_per_s"] = args.rows / (time.perf_counter() - start)
        if pinned:
            del host
    print(json.dumps(result))


if __name__ == "__main__":
    main()
