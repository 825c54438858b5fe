#!/usr/bin/python3
"""The PyTorch side of bench/compare: the workloads of bench/compare_nabla.cpp, with the same
names, sizes, timing rule and output, so the driver can alternate the two programs.

    OPENBLAS_NUM_THREADS=B /usr/bin/python3 bench/compare_torch.py GROUP... [--threads T]
        [--min-time S] [--limit IMAGES] [--steps N] [--sizes 256,512] [--data DIR]
        [--convnet-limit IMAGES]

T is torch.set_num_threads (its OpenMP pool, which oneDNN's convolutions use); OpenBLAS, which
torch calls for matrix products, reads its own thread count from the environment when it loads,
so the driver sets OPENBLAS_NUM_THREADS. Output: one line `@ ITEM s=SECONDS key=value ...` per
result (see compare_nabla.cpp). Needs Debian's python3-torch (/usr/bin/python3).
"""
import argparse
import gzip
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xor_torch import train_xor  # noqa: E402  (the one XOR training, shared with xor_torch.py)
from call_windows import SGEMM_MIN_CALLS, fastest_window  # noqa: E402

GROUPS = ["peak", "sgemm", "conv", "layers", "infer", "lenet", "mlp", "convnet", "xor"]

# name, N, C, H (= W), OC, kernel, padding, stride: as kConvConfigs in compare_nabla.cpp.
CONV_CONFIGS = [
    ("conv/N64_C1_28_K6_k5_p2", 64, 1, 28, 6, 5, 2, 1),
    ("conv/N64_C6_14_K16_k5", 64, 6, 14, 16, 5, 0, 1),
    ("conv/N32_C64_32_K64_k3_p1", 32, 64, 32, 64, 3, 1, 1),
    ("conv/N32_C128_16_K128_k3_p1", 32, 128, 16, 128, 3, 1, 1),
    ("conv/N32_C64_32_K128_k3_p1_s2", 32, 64, 32, 128, 3, 1, 2),
]


def time_calls(fn, min_time, min_calls=3):
    """One untimed call, then calls until min_time has passed and at least min_calls were made:
    (the median, the fastest window) seconds of one call (call_windows.py)."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 1000:
            break
    return statistics.median(times), fastest_window(times)


def time_median(fn, min_time):
    return time_calls(fn, min_time)[0]


def result(item, seconds, **extra):
    fields = " ".join(f"{k}={v:.9g}" for k, v in extra.items())
    print(f"@ {item} s={seconds:.9g} {fields}", flush=True)


def run_sgemm(a):
    for n in a.sizes:
        g = torch.Generator().manual_seed(1)
        A, B = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
        C = torch.empty(n, n)
        s, fastest = time_calls(lambda: torch.mm(A, B, out=C), a.min_time, SGEMM_MIN_CALLS)
        result(f"sgemm/{n}", s, flop=2.0 * n**3, fastest=fastest)


def run_conv(a):
    for name, N, C, H, OC, K, pad, stride in CONV_CONFIGS:
        g = torch.Generator().manual_seed(1)
        x = torch.randn(N, C, H, H, generator=g, requires_grad=True)
        w = (torch.randn(OC, C, K, K, generator=g) * 0.1).requires_grad_()
        b = torch.zeros(OC, requires_grad=True)
        with torch.no_grad():
            dy = torch.randn(F.conv2d(x, w, b, stride, pad).shape, generator=g)

        def step():
            x.grad = w.grad = b.grad = None
            F.conv2d(x, w, b, stride, pad).backward(dy)

        s = time_median(step, a.min_time)
        OH = (H + 2 * pad - K) // stride + 1
        result(name, s, flop=3.0 * 2.0 * N * OC * OH * OH * C * K * K)


def run_layers(a):
    for name, shape in [("maxpool/N64_C6_28", (64, 6, 28, 28)),
                        ("maxpool/N32_C64_32", (32, 64, 32, 32))]:
        g = torch.Generator().manual_seed(1)
        x = torch.randn(*shape, generator=g, requires_grad=True)
        dy = torch.randn(shape[0], shape[1], shape[2] // 2, shape[3] // 2, generator=g)

        def step():
            x.grad = None
            F.max_pool2d(x, 2, 2).backward(dy)

        result(name, time_median(step, a.min_time))
    for name, shape in [("batchnorm/N64_C6_28", (64, 6, 28, 28)),
                        ("batchnorm/N32_C64_32", (32, 64, 32, 32))]:
        g = torch.Generator().manual_seed(1)
        C = shape[1]
        x = torch.randn(*shape, generator=g, requires_grad=True)
        weight, bias = torch.ones(C, requires_grad=True), torch.zeros(C, requires_grad=True)
        mean, var = torch.zeros(C), torch.ones(C)
        dy = torch.randn(*shape, generator=g)

        def step():
            x.grad = weight.grad = bias.grad = None
            F.batch_norm(x, mean, var, weight, bias, training=True).backward(dy)

        result(name, time_median(step, a.min_time))
    for name, N, K in [("cross_entropy/N64_K10", 64, 10), ("cross_entropy/N256_K1000", 256, 1000)]:
        g = torch.Generator().manual_seed(1)
        logits = torch.randn(N, K, generator=g, requires_grad=True)
        labels = torch.randint(0, K, (N,), generator=g)

        def step():
            logits.grad = None
            F.cross_entropy(logits, labels).backward()

        result(name, time_median(step, a.min_time))


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8)


def make_model(preset):
    """nabla's presets (src/core/models/presets.cpp), layer for layer."""
    nn = torch.nn
    if preset == "lenet":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                             nn.Linear(84, 10))
    if preset == "convnet":
        layers, channels = [], 1
        for out in (32, 64):
            for _ in range(2):
                layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False),
                           nn.BatchNorm2d(out), nn.ReLU()]
                channels = out
            layers += [nn.MaxPool2d(2), nn.Dropout(0.25)]
        layers += [nn.Flatten(), nn.Linear(64 * 7 * 7, 256, bias=False), nn.BatchNorm1d(256),
                   nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10)]
        return nn.Sequential(*layers)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                         nn.ReLU(), nn.Linear(256, 10))


def run_inference(a):
    """As compare_nabla's infer group: evaluation mode, no autograd, normal random images;
    batch 256 (throughput) and batch 1 (latency) for LeNet-5 and the convnet."""
    for preset in ("lenet", "convnet"):
        torch.manual_seed(1)
        model = make_model(preset)
        model.eval()
        with torch.no_grad():
            for batch in (256, 1):
                x = torch.randn(batch, 1, 28, 28, generator=torch.Generator().manual_seed(2))
                result(f"infer/{preset}_b{batch}", time_median(lambda: model(x), a.min_time),
                       img=batch)


def run_training(preset, a, limit):
    """One epoch as nabla's train::Trainer runs it: images kept as uint8 and converted and
    normalised per batch, shuffled batches of 64 (the last one partial), SGD momentum 0.9 lr 0.01,
    the loss read back and the correct predictions counted every batch. Loading the files is not
    timed."""
    images = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"), 16).view(-1, 1, 28, 28)
    labels = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"), 8).long()
    if limit > 0:
        images, labels = images[:limit], labels[:limit]
    # The normalisation's statistics from a histogram, as compute_normalization: no float copy
    # of the data set, which would count in the peak resident memory.
    counts = torch.bincount(images.flatten(), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64) / 255
    mean = (counts * values).sum().item() / counts.sum().item()
    std = math.sqrt((counts * values * values).sum().item() / counts.sum().item() - mean * mean)
    scale, shift = 1 / (255 * std), -mean / std
    torch.manual_seed(1)
    model = make_model(preset)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    count = images.shape[0]
    start = time.perf_counter()
    order = torch.randperm(count, generator=torch.Generator().manual_seed(1))
    loss_sum, correct = 0.0, 0
    for begin in range(0, count, 64):
        idx = order[begin:begin + 64]
        x = images[idx].float().mul_(scale).add_(shift)
        y = labels[idx]
        opt.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        value = loss.item()
        if not math.isfinite(value):
            raise SystemExit(f"compare_torch: the loss became {value}")
        loss.backward()
        opt.step()
        loss_sum += value * len(idx)
        correct += (logits.detach().argmax(1) == y).sum().item()
    seconds = time.perf_counter() - start
    result(preset, seconds, img=count, loss=loss_sum / count, acc=correct / count)


def run_xor(a):
    seconds, acc = train_xor(a.steps, seed=1)
    result("xor", seconds, steps=a.steps, acc=acc)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("groups", nargs="+", choices=GROUPS)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    p.add_argument("--min-time", type=float, default=0.2)
    p.add_argument("--limit", type=int, default=0, help="training images per epoch (0: all)")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--sizes", default="256,512,1024,2048")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--convnet-limit", type=int, default=6400,
                   help="images in the convnet's epoch (0: all)")
    a = p.parse_args()
    a.sizes = [int(v) for v in a.sizes.split(",")]
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"# torch {torch.__version__} threads={torch.get_num_threads()} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '')}", flush=True)
    for g in a.groups:
        if g == "peak":
            continue  # measured once, by compare_nabla: it is the CPU's, not a library's
        {"sgemm": run_sgemm, "conv": run_conv, "layers": run_layers, "infer": run_inference,
         "xor": run_xor,
         "lenet": lambda a: run_training("lenet", a, a.limit),
         "mlp": lambda a: run_training("mlp", a, a.limit),
         "convnet": lambda a: run_training("convnet", a, a.convnet_limit)}[g](a)


if __name__ == "__main__":
    main()
