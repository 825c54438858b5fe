#!/usr/bin/python3
"""The XOR training of `nabla demo xor` in PyTorch, timed: the baseline for bench/compare (and
bench/compare_xor.sh), which imports train_xor.

2-8-1 network (tanh hidden, sigmoid output), BCE, Xavier/Glorot-uniform init, Adam lr 0.01,
5000 full-batch steps on the four XOR points. Prints one line: `torch_xor_seconds <s> acc <a>`.
Needs Debian's python3-torch (run with /usr/bin/python3); never used by the build or tests.
"""
import argparse
import time

import torch


def train_xor(steps=5000, seed=0):
    """Trains the network; returns (seconds of the training loop, accuracy on the four points)."""
    torch.manual_seed(seed)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1),
                                torch.nn.Sigmoid())
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = torch.nn.BCELoss()
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        acc = ((model(x) > 0.5).float() == y).float().mean().item()
    return seconds, acc


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: default)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    seconds, acc = train_xor(a.steps, a.seed)
    print(f"torch_xor_seconds {seconds:.6f} acc {acc:.2f}")


if __name__ == "__main__":
    main()
