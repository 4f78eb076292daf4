"""Float64 reference for `prunefuse verify`: one training step of a ModelSpec network.

Reads one JSON document on stdin (written by packages/models/src/float64-reference.ts):
the spec (layers by name, as packages/models/src/spec.ts defines them), every weight in
the TypeScript layouts (conv kernels [kh, kw, in, out], dense kernels [in, out]), the
batch (NHWC images, class labels), the SGD settings, and optionally the branch decisions
a float32 backend took in its own forward pass: per ReLU layer which activations were
positive. Computes in float64 the step the
TypeScript code computes: forward in training mode (batch-norm over the batch's
statistics, moving statistics moved towards them, unbiased variance), mean softmax cross
entropy, gradients, one SGD-momentum step from zero velocity. With masks given, each
ReLU follows them instead of its own float64 comparison, so the reference
runs on the same piecewise-linear branch as the backend and only rounding separates the
two. Max-pool takes each window's float64 maximum: its choice only matters between
values within rounding of each other, which after fixed ReLU decisions are the masked
zeros, whose gradient the ReLU stops anyway.

Prints one JSON document on stdout: the loss, every variable's update (new minus old
value, base64 little-endian float64, the TypeScript layout), and per masked ReLU layer
where float64 alone would have put activations on the other side of zero: how many, the
largest such |pre-activation|, and the layer's largest |pre-activation| for scale.
With --check instead of a document, prints {"torch": version} only. Exits 3 when torch
cannot be imported.
"""

import base64
import json
import sys


def decode(array, dtype, np):
    return np.frombuffer(base64.b64decode(array["data"]), dtype=dtype).reshape(array["shape"])


def encode(values, np):
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def same_padding(size, kernel, stride):
    """TensorFlow's 'same' padding of one axis: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def padded(F, x, layer, kernel):
    """NCHW x zero-padded as the TypeScript layer pads it."""
    if layer["padding"] != "same":
        return x
    top, bottom = same_padding(x.shape[2], kernel, layer["stride"])
    left, right = same_padding(x.shape[3], kernel, layer["stride"])
    return F.pad(x, (left, right, top, bottom))


def main():
    try:
        import numpy as np
        import torch
        import torch.nn.functional as F
    except ImportError as error:
        print(f"PyTorch is not importable by {sys.executable}: {error}", file=sys.stderr)
        sys.exit(3)

    if sys.argv[1:] == ["--check"]:
        print(json.dumps({"torch": torch.__version__}))
        return
    request = json.load(sys.stdin)
    spec = request["spec"]
    torch.set_grad_enabled(True)
    f64 = torch.float64

    def tensor(array, dtype="<f4"):
        return torch.from_numpy(decode(array, dtype, np).astype(np.float64))

    weights = {name: tensor(array) for name, array in request["weights"].items()}
    trainable = {}
    for name, value in weights.items():
        kind = name.rsplit("/", 1)[1]
        if kind not in ("movingMean", "movingVariance"):
            trainable[name] = value.clone().requires_grad_(True)
    relu_masks = {
        name: tensor(array, "u1").permute(0, 3, 1, 2).to(f64)
        for name, array in request.get("reluMasks", {}).items()
    }
    x = tensor(request["images"]).permute(0, 3, 1, 2)
    labels = torch.tensor(request["labels"], dtype=torch.int64)
    moving = {name: value.clone() for name, value in weights.items() if name not in trainable}
    float64_disagrees = {}

    def param(layer, kind):
        return trainable[f"{layer['name']}/{kind}"]

    def conv(layer, inp):
        # [kh, kw, in, out] -> [out, in, kh, kw]
        kernel = param(layer, "kernel").permute(3, 2, 0, 1)
        y = F.conv2d(padded(F, inp, layer, layer["kernel"]), kernel, stride=layer["stride"])
        if layer["bias"]:
            y = y + param(layer, "bias").view(1, -1, 1, 1)
        return y

    def batchnorm(layer, inp):
        rows = inp.numel() // inp.shape[1]
        mean = inp.mean(dim=(0, 2, 3))
        variance = inp.var(dim=(0, 2, 3), unbiased=False)
        keep = layer["momentum"]
        name = layer["name"]
        unbiased = rows / (rows - 1) if rows > 1 else 1.0
        moving[f"{name}/movingMean"] = keep * moving[f"{name}/movingMean"] + (1 - keep) * mean.detach()
        moving[f"{name}/movingVariance"] = (
            keep * moving[f"{name}/movingVariance"] + (1 - keep) * unbiased * variance.detach()
        )
        shape = (1, -1, 1, 1)
        normalised = (inp - mean.view(shape)) / torch.sqrt(variance.view(shape) + layer["epsilon"])
        return normalised * param(layer, "gamma").view(shape) + param(layer, "beta").view(shape)

    def relu(layer, inp):
        mask = relu_masks.get(layer["name"])
        if mask is None:
            return torch.relu(inp)
        differ = (inp.detach() > 0).to(f64) != mask
        if differ.any():
            float64_disagrees[layer["name"]] = {
                "count": int(differ.sum()),
                # how far from zero float64 put the largest of them, against the layer's scale
                "largest": float(inp.detach()[differ].abs().max()),
                "scale": float(inp.detach().abs().max()),
            }
        return inp * mask

    outputs = {"input": x}
    for layer in spec["layers"]:
        kind = layer["kind"]
        inp = outputs[layer["input"]] if kind != "add" else None
        if kind == "conv":
            y = conv(layer, inp)
        elif kind == "batchnorm":
            y = batchnorm(layer, inp)
        elif kind == "relu":
            y = relu(layer, inp)
        elif kind == "add":
            y = sum(outputs[name] for name in layer["inputs"])
        elif kind == "maxpool":
            size, stride = layer["size"], layer["stride"]
            if layer["padding"] == "same":
                # TensorFlow pads a max-pool's window with values that never win.
                top, bottom = same_padding(inp.shape[2], size, stride)
                left, right = same_padding(inp.shape[3], size, stride)
                inp = F.pad(inp, (left, right, top, bottom), value=float("-inf"))
            y = F.max_pool2d(inp, size, stride)
        elif kind == "globalAvgPool":
            y = inp.mean(dim=(2, 3))
        elif kind == "dense":
            y = inp @ param(layer, "kernel")
            if layer["bias"]:
                y = y + param(layer, "bias")
        else:
            raise SystemExit(f"layer '{layer['name']}': the float64 reference has no '{kind}'")
        outputs[layer["name"]] = y

    loss = F.cross_entropy(outputs[spec["logits"]], labels)
    names = list(trainable)
    gradients = torch.autograd.grad(loss, [trainable[name] for name in names])
    rate = request["learningRate"]
    decay = request["weightDecay"]
    updates = {}
    for name, gradient in zip(names, gradients):
        # v = momentum * 0 + g + decay * w; w -= rate * v
        updates[name] = -rate * (gradient + decay * weights[name])
    for name, value in moving.items():
        updates[name] = value - weights[name]
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "loss": float(loss),
                "updates": {name: encode(u.detach().numpy(), np) for name, u in updates.items()},
                "float64Disagrees": float64_disagrees,
            }
        )
    )


if __name__ == "__main__":
    main()
