"""Throughput of training and of state collection, ours (JAX) and, when PyTorch is installed, a
straightforward PyTorch implementation of the same model, timed in the same invocation.

    python benchmarks/benchmark.py              # every row of table.TABLE, each in a fresh process: one ratio table
    python benchmarks/benchmark.py --one        # one row: the paper config (hidden 1024, batch 16, 50 -> 25)
    python benchmarks/benchmark.py --dtype bfloat16      # one row: any configuration flag runs that configuration alone
    python benchmarks/benchmark.py --models 16 --hidden 256

Reports median ms per training step, sequences/s, predicted frames/s, achieved GFLOP/s (matrix products
only, forward + backward = 3x forward), and the time to collect the decoder states of a 10,000-frame
sequence; prints the ratio ours / PyTorch, and the gain of ``model.forward`` (column-layout loops, kernels'
gradients after the loops) over plain autodiff through row-layout scans (``model.forward_autodiff``); writes
JSON (that gain under the historical key ``speedup_kernel_grads_after_loops``).
Timings are medians over --steps steps after --warmup steps; compare ratios from one run, not absolute numbers
across runs (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import jax
import numpy as np
import table
import torch_baseline
from timing import median_ms

from seq2seq_jax import embed, machine, model, multi, presets, sharding, train
from seq2seq_jax.config import ModelConfig, TrainConfig

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    m, t = presets.PAPER.model, presets.PAPER.train  # the paper's configuration, unless flags say otherwise
    p.add_argument("--hidden", type=int, default=m.hidden)
    p.add_argument("--batch", type=int, default=t.batch)
    p.add_argument("--source", type=int, default=m.source)
    p.add_argument("--target", type=int, default=m.target)
    p.add_argument("--dim", type=int, default=m.dim, help="features per frame (62 for subject 86)")
    p.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    p.add_argument("--models", type=int, default=1, help="N independent models trained at once (vmapped)")
    p.add_argument(
        "--split_models",
        type=int,
        default=1,
        metavar="K",
        help="CPU only: split the --models over K CPU devices running side by side, with XLA's multi-threaded "
        "Eigen off (--xla_cpu_multi_thread_eigen=false, for the whole run: the other JAX rows too)",
    )
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--infer_frames", type=int, default=10_000, help="sequence length for the state-collection timing")
    p.add_argument("--no_torch", action="store_true", help="skip the PyTorch baseline")
    p.add_argument(
        "--peak_n", type=int, default=2048, help="size of the n^3 products that measure the matrix peak (CPU)"
    )
    p.add_argument(
        "--table",
        action="store_true",
        help="run the rows of TABLE (paper config fp32 and bf16, the default model, many models; each in its "
        "own process, --steps/--warmup/--no_torch/--peak_n passed on) and print one ratio table against "
        "the goals; the default when no configuration flag is given",
    )
    p.add_argument(
        "--one",
        action="store_true",
        help="one row only, the configuration of the other flags (default: the paper config)",
    )
    p.add_argument("--json", default=str(REPO / "out" / "benchmark.json"))
    a = p.parse_args(argv)
    if a.table and a.one:
        p.error("--table runs every row; --one runs one: choose one of them")
    configured = any(getattr(a, k) != p.get_default(k) for k in CONFIG_FLAGS)
    if a.table and configured:
        p.error("--table runs its own configurations; drop the configuration flags, or use them alone for one row")
    a.table = a.table or not (a.one or configured)
    return a


CONFIG_FLAGS = (  # any of these given: one row
    "hidden",
    "batch",
    "source",
    "target",
    "dim",
    "dtype",
    "models",
    "split_models",
    "infer_frames",
)


def bench_jax_train(mcfg, tcfg, n_models, steps, warmup, split: int = 1, forward=model.forward):
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(5000, mcfg.dim)).astype(np.float32)
    sampler = train.WindowSampler.from_sequences(seq, mcfg.source, mcfg.target)
    if n_models == 1:
        state = train.init_state(mcfg, tcfg)
        step = train.make_train_step(mcfg, tcfg, forward=forward)
    else:
        state = multi.stack_states([train.init_state(mcfg, dataclasses.replace(tcfg, seed=s)) for s in range(n_models)])
        step = multi.make_multi_train_step(mcfg, tcfg, forward=forward)
        if split > 1:
            state, sampler = sharding.shard_models(state, sampler, sharding.model_mesh(jax.devices()[:split]))
    box = {"state": state}

    def run():
        box["state"], m = step(box["state"], sampler)
        jax.block_until_ready(m["loss"])

    t0 = time.perf_counter()
    run()
    compile_s = time.perf_counter() - t0
    return median_ms(run, steps, warmup), compile_s


def bench_jax_infer(mcfg, frames, steps):
    params = model.init_params(jax.random.PRNGKey(0), mcfg)
    z = np.random.default_rng(1).normal(size=(frames, mcfg.dim)).astype(np.float32)
    embed.collect(params, mcfg, z)  # compile
    return median_ms(lambda: embed.collect(params, mcfg, z), max(3, steps // 5), 1)


def matmul_peak(n: int = 2048, reps: int = 3) -> dict:
    """GFLOP/s of one large n^3 product: NumPy's BLAS fp32 (the machine's fp32 matrix peak), XLA fp32, and XLA
    with bf16 inputs and fp32 accumulation (what ``--dtype bfloat16`` can gain at best)."""
    import jax.numpy as jnp

    a = np.random.default_rng(0).normal(size=(n, n)).astype(np.float32)
    flops = 2.0 * n**3
    ja = jnp.asarray(a)
    bf16 = jax.jit(
        lambda x: jnp.dot(x.astype(jnp.bfloat16), x.astype(jnp.bfloat16), preferred_element_type=jnp.float32)
    )
    fns = {
        "numpy_fp32": lambda: a @ a,
        "xla_fp32": lambda: jax.block_until_ready(jnp.dot(ja, ja)),
        "xla_bf16_fp32acc": lambda: jax.block_until_ready(bf16(ja)),
    }
    return {k: flops / median_ms(f, reps, 1) / 1e6 for k, f in fns.items()}


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.table:
        return table.run_table(a)
    mcfg = ModelConfig(dim=a.dim, hidden=a.hidden, source=a.source, target=a.target, dtype=a.dtype)
    tcfg = TrainConfig(batch=a.batch)
    if a.split_models > 1:
        if a.models % a.split_models:
            print(
                f"error: --models {a.models} cannot be split evenly over --split_models {a.split_models}",
                file=sys.stderr,
            )
            return 2
        sharding.use_cpu_devices(a.split_models)
    info = {
        **machine.describe(),
        "config": {
            "hidden": a.hidden,
            "batch": a.batch,
            "source": a.source,
            "target": a.target,
            "dim": a.dim,
            "dtype": a.dtype,
            "models": a.models,
            "split_models": a.split_models,
        },
    }
    print(
        f"{machine.summary(info)}, jax {jax.__version__}; "
        f"H={a.hidden} B={a.batch} S={a.source} T={a.target} D={a.dim} {a.dtype} models={a.models}"
        + (
            f", split over {a.split_models} CPU devices (XLA's multi-threaded Eigen off, also in the other JAX rows)"
            if a.split_models > 1
            else ""
        )
    )
    peak = matmul_peak(a.peak_n) if jax.default_backend() == "cpu" else {}
    if peak:
        info["matmul_peak_gflops"] = {**peak, "n": a.peak_n}
        print(
            f"matrix products of {a.peak_n}^3: NumPy BLAS fp32 {peak['numpy_fp32']:.0f} GFLOP/s (the peak below), "
            f"XLA fp32 {peak['xla_fp32']:.0f}, XLA bf16 inputs / fp32 accumulation {peak['xla_bf16_fp32acc']:.0f}"
        )
    flops = model.matmul_flops(mcfg, a.batch * a.models, train=True)
    ms, compile_s = bench_jax_train(mcfg, tcfg, a.models, a.steps, a.warmup, a.split_models)
    seqs = a.batch * a.models

    def train_row(ms_per_step):
        row = {
            "ms_per_step": ms_per_step,
            "sequences_per_s": seqs / ms_per_step * 1e3,
            "frames_per_s": seqs * a.target / ms_per_step * 1e3,
            "gflops": flops / ms_per_step / 1e6,
        }
        if peak:
            row["fraction_of_peak"] = row["gflops"] / peak["numpy_fp32"]
        return row

    res = {"jax_train": {**train_row(ms), "compile_s": compile_s}}
    ms_ad, _ = bench_jax_train(mcfg, tcfg, a.models, a.steps, a.warmup, a.split_models, model.forward_autodiff)
    res["jax_train_autodiff"] = train_row(ms_ad)
    res["speedup_kernel_grads_after_loops"] = ms_ad / ms
    infer_ms = bench_jax_infer(mcfg, a.infer_frames, a.steps)
    res["jax_infer"] = {
        "ms_per_sequence": infer_ms,
        "frames": a.infer_frames,
        "frames_per_s": a.infer_frames / infer_ms * 1e3,
    }
    rows = [
        ("ours (JAX)", res["jax_train"], res["jax_infer"]),
        ("ours, plain autodiff", res["jax_train_autodiff"], None),
    ]
    torch_ok = False
    if not a.no_torch:
        try:
            import torch  # noqa: F401

            torch_ok = True
        except ImportError:
            print("PyTorch is not installed (pip install -e '.[bench]'): no baseline")
    if torch_ok:
        t_ms, t_inf, tv = torch_baseline.bench_torch(mcfg, seqs, a.steps, a.warmup, a.infer_frames)
        res["torch_train"] = {**train_row(t_ms), "note": "float32, batch = models x batch, one model"}
        res["torch_infer"] = {
            "ms_per_sequence": t_inf,
            "frames": a.infer_frames,
            "frames_per_s": a.infer_frames / t_inf * 1e3,
        }
        res["speedup_train"] = t_ms / ms
        res["speedup_infer"] = t_inf / infer_ms
        info["torch"] = tv
        rows.append((f"PyTorch {tv} fp32", res["torch_train"], res["torch_infer"]))
    print(
        f"\n{'':22s} {'ms/step':>9s} {'seq/s':>8s} {'frames/s':>9s} {'GFLOP/s':>8s} {'of peak':>8s} | "
        f"{'states of ' + str(a.infer_frames) + ' frames':>24s}"
    )
    for name, tr, inf in rows:
        frac = f"{100 * tr['fraction_of_peak']:7.0f}%" if "fraction_of_peak" in tr else f"{'':8s}"
        print(
            f"{name:22s} {tr['ms_per_step']:9.1f} {tr['sequences_per_s']:8.1f} {tr['frames_per_s']:9.0f} "
            f"{tr['gflops']:8.1f} "
            f"{frac} | " + (f"{inf['ms_per_sequence'] / 1e3:20.2f} s" if inf else f"{'(same)':>22s}")
        )
    print(
        f"\nmodel.forward (column layout, kernels' gradients after the loops) vs plain autodiff through the scans: "
        f"{res['speedup_kernel_grads_after_loops']:.2f}x faster training step"
    )
    if torch_ok:
        print(
            f"\nours vs PyTorch: training {res['speedup_train']:.2f}x, "
            f"state collection {res['speedup_infer']:.2f}x faster"
        )
    out = {"info": info, "results": res, "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1))
    print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
