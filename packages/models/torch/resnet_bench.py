"""PyTorch eager reference for `prunefuse bench --pytorch`.

Builds the same CIFAR ResNets as packages/models (3x3 stem, three stages of basic
blocks at widths 16/32/64, 1x1 conv + batch-norm shortcuts where the shape changes,
global average pool, dense head) and times one SGD-momentum training step and one
inference pass at the shapes the TypeScript bench cases use, so that every tfjs figure
has its PyTorch counterpart measured in the same run on the same device.

Prints one JSON document on stdout: {"device": ..., "rows": [...]}; rows
carry the bench case names of packages/models/src/bench.ts.
"""

import json
import sys
import re
import time

from bench_device import bench_arguments, open_device

CASE = re.compile(
    r"model/resnet(?P<depth>\d+)/(?P<mode>train|infer)/\w+/(?P<b>\d+)x(?P<h>\d+)x(?P<w>\d+)x(?P<c>\d+)"
)


def build_resnet(nn, depth, in_channels, classes):
    n = (depth - 2) // 6
    if 6 * n + 2 != depth or n < 1:
        raise SystemExit(f"resnet depth must be 6n+2, got {depth}")

    def conv_bn(cin, cout, kernel, stride):
        return nn.Sequential(
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
            nn.BatchNorm2d(cout),
        )

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = nn.Sequential(
                conv_bn(cin, cout, 3, stride), nn.ReLU(inplace=True), conv_bn(cout, cout, 3, 1)
            )
            self.shortcut = (
                conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()
            )

        def forward(self, x):
            return nn.functional.relu(self.body(x) + self.shortcut(x))

    layers = [conv_bn(in_channels, 16, 3, 1), nn.ReLU(inplace=True)]
    cin = 16
    for s, width in enumerate((16, 32, 64)):
        for i in range(n):
            layers.append(Block(cin, width, 2 if s > 0 and i == 0 else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def measure(step, sync, min_seconds, min_iterations):
    step()  # warm-up: cuDNN algorithm choice, allocator growth
    sync()
    samples = []
    start = time.perf_counter()
    while len(samples) < min_iterations or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        step()
        sync()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    mean = sum(samples) / len(samples)
    return mean, samples[len(samples) // 2], len(samples)


def main():
    args = bench_arguments(
        __doc__.splitlines()[0],
        "comma-separated bench case names, e.g. model/resnet20/train/cifar/128x32x32x3",
    )
    try:
        import torch
        from torch import nn
    except ImportError as error:
        print(f"PyTorch is not importable by {sys.executable}: {error}", file=sys.stderr)
        sys.exit(3)

    dev, sync, name = open_device(torch, args.device)

    rows = []
    nets = {}
    for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
        match = CASE.fullmatch(case)
        if not match:
            raise SystemExit(f"--cases: '{case}' is not model/resnetN/train|infer/label/BxHxWxC")
        depth, mode = int(match["depth"]), match["mode"]
        batch, height, width, channels = (int(match[k]) for k in ("b", "h", "w", "c"))
        key = (depth, channels)
        if key not in nets:
            nets[key] = build_resnet(nn, depth, channels, 10).to(dev)
        net = nets[key]
        x = torch.randn(batch, channels, height, width, device=dev)
        y = torch.randint(0, 10, (batch,), device=dev)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()

        def train():
            optimizer.zero_grad(set_to_none=True)
            loss_fn(net(x), y).backward()
            optimizer.step()

        def infer():
            with torch.no_grad():
                net(x).cpu()

        net.train(mode == "train")
        mean, median, samples = measure(train if mode == "train" else infer, sync, args.time, 3)
        rows.append(
            {
                "name": case,
                "meanMs": mean * 1000,
                "medianMs": median * 1000,
                "imagesPerSec": batch / mean,
                "samples": samples,
            }
        )
        print(f"{case} [pytorch]: {batch / mean:.4g} img/s", file=sys.stderr)
    print(json.dumps({"device": f"{name} (PyTorch {torch.__version__}, eager)", "rows": rows}))


if __name__ == "__main__":
    main()
