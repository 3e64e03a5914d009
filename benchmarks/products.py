"""The matrix products behind the training step, alone: why ``model.forward`` runs its loops in column layout,
and why vmapping many small models gains little on a CPU.

    python benchmarks/products.py                  # hidden 1024 and 256, batch 16, 1 and 16 models
    python benchmarks/products.py --hidden 512 --models 4

For each hidden size H it times 50 chained products (each step's input is tanh of the previous output, so
nothing is hoisted out of the loop) of the gate kernel with a batch of B states, in the two layouts:

    rows     (B, H) @ (H, 2H)      state-major, the equations' layout (``model.encode``)
    columns  (2H, H) @ (H, B)      feature-major, the kernel stored transposed (``model.forward``'s loops)

once for one model and once vmapped over N models (one small product per model), and, when PyTorch is
installed, ``torch.mm`` / ``torch.bmm`` on the row layout. Prints GFLOP/s; compare within one run.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from timing import median_seconds

STEPS = 50


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hidden", type=int, nargs="+", default=[1024, 256])
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--models", type=int, default=16, help="N for the vmapped rows")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--no_torch", action="store_true")
    return p.parse_args(argv)


def chain_rows(h_BxH, w_Hx2H):
    H = h_BxH.shape[-1]
    return jax.lax.scan(lambda h, _: (jnp.tanh(h @ w_Hx2H)[:, :H], None), h_BxH, None, length=STEPS)[0]


def chain_columns(h_HxB, wT_2HxH):
    H = h_HxB.shape[0]
    return jax.lax.scan(lambda h, _: (jnp.tanh(wT_2HxH @ h)[:H], None), h_HxB, None, length=STEPS)[0]


def rates(H: int, B: int, N: int, reps: int, torch_ok: bool) -> dict:
    """GFLOP/s of each variant for hidden H, batch B, N models."""
    rng = np.random.default_rng(0)
    w = (rng.normal(size=(N, H, 2 * H)) / np.sqrt(H)).astype(np.float32)
    h = rng.normal(size=(N, B, H)).astype(np.float32)
    wT, hT = np.ascontiguousarray(w.transpose(0, 2, 1)), np.ascontiguousarray(h.transpose(0, 2, 1))
    flops = 2.0 * B * H * 2 * H * STEPS
    out = {}
    for name, fn, args in [("rows", chain_rows, (h, w)), ("columns", chain_columns, (hT, wT))]:
        for label, f, xs, n in [
            (f"{name}, 1 model", jax.jit(fn), tuple(jnp.asarray(x[0]) for x in args), 1),
            (f"{name}, {N} models vmapped", jax.jit(jax.vmap(fn)), tuple(map(jnp.asarray, args)), N),
        ]:
            out[label] = n * flops / median_seconds(lambda f=f, xs=xs: jax.block_until_ready(f(*xs)), reps) / 1e9
    if torch_ok:
        import torch

        tw, th = torch.from_numpy(w), torch.from_numpy(h)

        def t_one():
            x = th[0]
            for _ in range(STEPS):
                x = torch.tanh(x @ tw[0])[:, :H]

        def t_many():
            x = th
            for _ in range(STEPS):
                x = torch.tanh(torch.bmm(x, tw))[..., :H]

        out["PyTorch mm (rows), 1 model"] = flops / median_seconds(t_one, reps) / 1e9
        out[f"PyTorch bmm (rows), {N} models"] = N * flops / median_seconds(t_many, reps) / 1e9
    return out


def main(argv=None) -> int:
    a = parse_args(argv)
    torch_ok = False
    if not a.no_torch:
        try:
            import torch

            torch.set_num_threads(os.cpu_count() or 1)
            torch_ok = True
        except ImportError:
            print("PyTorch is not installed (pip install -e '.[bench]'): no PyTorch rows")
    dev = jax.devices()[0]
    print(
        f"backend {jax.default_backend()} ({getattr(dev, 'device_kind', dev)}), jax {jax.__version__}; "
        f"{STEPS} chained gate products per call, batch {a.batch}"
    )
    for H in a.hidden:
        print(f"\nH={H}: ({a.batch} x {H}) @ ({H} x {2 * H}) and its column form, GFLOP/s")
        for name, r in rates(H, a.batch, a.models, a.reps, torch_ok).items():
            print(f"  {name:34s} {r:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
