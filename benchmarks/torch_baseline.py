"""The PyTorch baseline: a straightforward implementation of the same model (``nn.GRUCell`` shared by encoder
and decoder, ``nn.Linear`` readout, Adam, ``clip_grad_norm_``), timed for training and state collection.
Needs ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import os

import numpy as np
from timing import median_ms

from seq2seq_jax import presets


def torch_model(D, H):
    import torch
    from torch import nn

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.GRUCell(D, H)
            self.out = nn.Linear(H, D)

        def forward(self, enc, target_len):
            h = enc.new_zeros(enc.shape[0], H)
            for t in range(enc.shape[1]):
                h = self.cell(enc[:, t], h)
            x, preds, states = enc[:, -1], [], []
            for _ in range(target_len):
                h = self.cell(x, h)
                x = self.out(h)
                preds.append(x)
                states.append(h)
            return torch.stack(preds, 1), torch.stack(states, 1)

    return Seq2Seq()


def bench_torch(mcfg, batch, steps, warmup, frames, lr: float = presets.PAPER.train.lr, device: str = "cpu"):
    """(ms per training step, ms to collect the states of ``frames`` frames, torch version) on ``device``."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    m = torch_model(mcfg.dim, mcfg.hidden).to(device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    win = torch.from_numpy(rng.normal(size=(batch, mcfg.source + mcfg.target, mcfg.dim)).astype(np.float32)).to(device)
    enc, tgt = win[:, : mcfg.source], win[:, mcfg.source :]

    def step():
        opt.zero_grad(set_to_none=True)
        pred, _ = m(enc, mcfg.target)
        loss = torch.mean((pred - tgt) ** 2)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sync()

    train_ms = median_ms(step, steps, warmup)
    n_win = (frames - mcfg.source - mcfg.target) // mcfg.target + 1
    allw = torch.from_numpy(rng.normal(size=(n_win, mcfg.source, mcfg.dim)).astype(np.float32)).to(device)

    def infer():
        with torch.no_grad():
            for a in range(0, n_win, 256):
                m(allw[a : a + 256], mcfg.target)
        sync()

    infer_ms = median_ms(infer, max(3, steps // 5), 1)
    return train_ms, infer_ms, torch.__version__
