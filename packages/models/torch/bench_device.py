"""The command line and device set-up both PyTorch bench scripts share (resnet_bench.py, kernel_bench.py).

fp32 throughout, as our kernels compute: cuDNN's convolutions and cuBLAS's matmuls may
otherwise run on TF32 tensor cores (Ampere and later; cuDNN allows it by default), which
would compare our fp32 with PyTorch's 10-bit-mantissa arithmetic.
"""


def bench_arguments(description, cases_help):
    """--cases, --time and --device, which both bench scripts take."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", required=True, help=cases_help)
    parser.add_argument("--time", type=float, default=1.0, help="minimum seconds per case")
    parser.add_argument("--device", default="auto", help="cuda, cpu or auto")
    return parser.parse_args()


def open_device(torch, requested):
    """(device, sync, name) for 'cuda', 'cpu' or 'auto' (CUDA when present)."""
    device = requested
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "CPU"
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    return dev, sync, name
