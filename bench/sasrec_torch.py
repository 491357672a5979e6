#!/usr/bin/env python3
"""The PyTorch peer of bench/train.ts: the same SASRec on the same sequences.

Model (as stages/train/sasrec.ts): tied item embeddings scaled by sqrt(d) plus
learned positions, `blocks` pre-norm blocks of causal multi-head attention and
a ReLU feed-forward layer, dropout on the embeddings and on each residual
branch, a final layer norm, logits h·Eᵀ over the catalog with the padding
column masked. Loss: mean next-item cross-entropy over every real target
(behaviour cloning). Adam (lr 1e-3), gradient clipping at norm 1.

Input: a raw little-endian int32 file written by bench/train.ts: n, len+1, then
n·(len+1) item ids (position 0 is the first input, targets are positions 1..len).
Output: one JSON line with seconds per epoch (after one untimed warm-up step),
examples per second, peak RSS and the BLAS torch was built against / loaded.
"""
import argparse
import json
import math
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d: int, heads: int, ffn: int, p: float):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ffn1 = nn.Linear(d, ffn)
        self.ffn2 = nn.Linear(ffn, d)
        self.drop = nn.Dropout(p)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        dh = d // self.heads
        y = self.ln1(x)

        def split(m: nn.Linear) -> torch.Tensor:
            return m(y).view(b, t, self.heads, dh).transpose(1, 2)

        q, k, v = split(self.q), split(self.k), split(self.v)
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + bias
        attn = torch.softmax(scores, dim=-1) @ v
        merged = attn.transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.out(merged))
        f = self.drop(torch.relu(self.ffn1(self.ln2(x))))
        return x + self.drop(self.ffn2(f))


class Sasrec(nn.Module):
    def __init__(self, num_items: int, max_len: int, d: int, blocks: int, heads: int, ffn: int, p: float):
        super().__init__()
        self.d = d
        self.item = nn.Embedding(num_items, d)
        self.pos = nn.Embedding(max_len, d)
        nn.init.normal_(self.item.weight, std=1 / math.sqrt(d))
        nn.init.normal_(self.pos.weight, std=1 / math.sqrt(d))
        self.blocks = nn.ModuleList([Block(d, heads, ffn, p) for _ in range(blocks)])
        self.final = nn.LayerNorm(d)
        self.drop = nn.Dropout(p)
        self.register_buffer("pad_bias", torch.tensor([-1e9] + [0.0] * (num_items - 1)))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        b, t = ids.shape
        x = self.item(ids) * math.sqrt(self.d) + self.pos.weight[:t]
        x = self.drop(x)
        bias = torch.triu(torch.full((t, t), -1e9), diagonal=1)
        for blk in self.blocks:
            x = blk(x, bias)
        h = self.final(x)
        return h @ self.item.weight.t() + self.pad_bias


def blas_name() -> str:
    """The BLAS library actually loaded (Debian's torch links libblas.so.3, which
    the alternatives system points at OpenBLAS or the slow reference BLAS)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    for lib in ("openblas", "mkl", "blis", "atlas"):
        if lib in maps:
            return lib
    return "reference" if "libblas" in maps else "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--num-items", type=int, default=1701)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    raw = np.fromfile(a.data, dtype="<i4")
    n, width = int(raw[0]), int(raw[1])
    seqs = torch.from_numpy(raw[2:].reshape(n, width).astype(np.int64))
    length = width - 1
    model = Sasrec(a.num_items, length, 64, 2, 2, 64, 0.2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(rows: torch.Tensor) -> None:
        batch = seqs[rows]
        logits = model(batch[:, :-1])
        loss = loss_fn(logits.reshape(-1, a.num_items), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    model.train()
    gen = torch.Generator().manual_seed(1)
    step(torch.arange(min(a.batch, n)))  # warm-up, untimed
    t0 = time.perf_counter()
    steps = 0
    for _ in range(a.epochs):
        order = torch.randperm(n, generator=gen)
        for s in range(0, n, a.batch):
            step(order[s : s + a.batch])
            steps += 1
    seconds = time.perf_counter() - t0
    out = {
        "seconds_per_epoch": seconds / a.epochs,
        "examples_per_second": n * length * a.epochs / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "steps": steps,
        "threads": torch.get_num_threads(),
        "blas": blas_name(),
        "torch": torch.__version__,
    }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
