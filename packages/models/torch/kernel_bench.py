"""PyTorch reference for the compiled trainer's kernel cases in `prunefuse bench --pytorch`.

Times the PyTorch equivalent of each kernel case of packages/webgpu-trainer/src/bench.ts,
parsed from its name: a convolution's forward pass (F.conv2d), input gradient and filter
gradient (aten.convolution_backward, the call autograd makes; torch.autograd.grad where
that op is missing), and a training-mode batch norm's forward and backward. On CUDA when
PyTorch sees a GPU (cuDNN, benchmark mode), else on the CPU. Each case runs `repeats`
times between synchronisations, as the WebGPU case runs its kernel `repeats` times in one
submission, so that both time kernels rather than launch round trips.

Prints one JSON document on stdout: {"device": ..., "rows": [{name, meanMs, medianMs,
samples}]}, meanMs and medianMs being the time of one operation.
"""

import json
import re
import sys
import time

from bench_device import bench_arguments, open_device

CONV = re.compile(
    r"kernel/conv/(?P<pass>forward|input-grad|filter-grad)/[\w-]+/"
    r"(?P<b>\d+)x(?P<h>\d+)x(?P<w>\d+)x(?P<c>\d+)-(?P<k>\d+)x\d+x(?P<o>\d+)(?:-s(?P<s>\d+))?"
)
BATCH_NORM = re.compile(
    r"kernel/batchnorm/(?P<pass>forward|backward)/[\w-]+/(?P<b>\d+)x(?P<h>\d+)x(?P<w>\d+)x(?P<c>\d+)"
)


def measure(step, repeats, sync, min_seconds, min_iterations=3):
    step()  # warm-up: cuDNN algorithm choice, allocator growth
    sync()
    samples = []
    start = time.perf_counter()
    while len(samples) < min_iterations or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        for _ in range(repeats):
            step()
        sync()
        samples.append((time.perf_counter() - t0) / repeats)
    samples.sort()
    return sum(samples) / len(samples), samples[len(samples) // 2], len(samples)


def conv_step(torch, match, dev):
    b, h, w, c, k, o = (int(match[key]) for key in ("b", "h", "w", "c", "k", "o"))
    stride = int(match["s"] or 1)
    padding = k // 2
    x = torch.randn(b, c, h, w, device=dev)
    weight = torch.randn(o, c, k, k, device=dev)
    y = torch.nn.functional.conv2d(x, weight, None, stride, padding)
    dy = torch.randn_like(y)
    kind = match["pass"]
    if kind == "forward":
        return lambda: torch.nn.functional.conv2d(x, weight, None, stride, padding)
    mask = [kind == "input-grad", kind == "filter-grad", False]
    backward = getattr(torch.ops.aten, "convolution_backward", None)
    if backward is not None:
        return lambda: backward(
            dy, x, weight, None, [stride] * 2, [padding] * 2, [1, 1], False, [0, 0], 1, mask
        )
    x.requires_grad_(kind == "input-grad")
    weight.requires_grad_(kind == "filter-grad")
    target = x if kind == "input-grad" else weight

    def autograd_step():
        out = torch.nn.functional.conv2d(x, weight, None, stride, padding)
        return torch.autograd.grad(out, target, dy)

    return autograd_step


def batch_norm_step(torch, match, dev):
    b, h, w, c = (int(match[key]) for key in ("b", "h", "w", "c"))
    x = torch.randn(b, c, h, w, device=dev, requires_grad=match["pass"] == "backward")
    gamma = torch.rand(c, device=dev, requires_grad=True)
    beta = torch.zeros(c, device=dev, requires_grad=True)
    mean, var = torch.zeros(c, device=dev), torch.ones(c, device=dev)

    def forward():
        return torch.nn.functional.batch_norm(x, mean, var, gamma, beta, training=True)

    if match["pass"] == "forward":
        return forward
    y = forward()
    dy = torch.randn_like(y)
    return lambda: torch.autograd.grad(y, (x, gamma, beta), dy, retain_graph=True)


def main():
    args = bench_arguments(
        __doc__.splitlines()[0],
        "comma-separated name@repeats, e.g. kernel/conv/forward/cifar/128x32x32x16-3x3x16@16",
    )
    try:
        import torch
    except ImportError as error:
        print(f"PyTorch is not importable by {sys.executable}: {error}", file=sys.stderr)
        sys.exit(3)

    dev, sync, name = open_device(torch, args.device)

    rows = []
    for entry in [e.strip() for e in args.cases.split(",") if e.strip()]:
        case, _, repeats = entry.rpartition("@")
        conv, batch_norm = CONV.fullmatch(case), BATCH_NORM.fullmatch(case)
        if not repeats.isdigit() or not (conv or batch_norm):
            raise SystemExit(
                f"--cases: '{entry}' is not kernel/conv/PASS/LABEL/BxHxWxC-KxKxO[-sS]@R "
                "or kernel/batchnorm/PASS/LABEL/BxHxWxC@R"
            )
        step = conv_step(torch, conv, dev) if conv else batch_norm_step(torch, batch_norm, dev)
        mean, median, samples = measure(step, int(repeats), sync, args.time)
        rows.append(
            {"name": case, "meanMs": mean * 1000, "medianMs": median * 1000, "samples": samples}
        )
        print(f"{case} [pytorch]: {mean * 1000:.4g} ms", file=sys.stderr)
    print(json.dumps({"device": f"{name} (PyTorch {torch.__version__}, eager)", "rows": rows}))


if __name__ == "__main__":
    main()
