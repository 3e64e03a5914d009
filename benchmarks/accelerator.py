"""One prepared run on an accelerator: throughput, the paper's configuration trained on the six development
trials, and state collection on a long sequence; results as JSON and a Markdown table in --out.

    PYTHONPATH=. python benchmarks/accelerator.py --mirror DATA --out OUT          # on the GPU machine (< 8 min)
    PYTHONPATH=. python benchmarks/accelerator.py --dry_run --mirror DATA --out OUT  # tiny sizes, any CPU (tests)

Needs the packages of a typical CUDA JAX image (jax, flax, optax, orbax-checkpoint, scikit-learn, scipy,
matplotlib, tqdm) plus ruptures (a wheel: ``pip download --no-deps ruptures``); PyTorch is optional (its rows
are skipped without a CUDA build). No network: the subject-86 data come from --data_dir or --mirror (a copy of
the project's data folder). Stages:

1. the device (card, driver, JAX) and its matrix peak, measured here (n^3 products, fp32 and bf16 inputs);
2. training-step throughput of the paper config (fp32, bf16), the default model and many models at once,
   each as a fraction of that peak, with PyTorch beside them when it has CUDA;
3. the ``paper`` preset (hidden 1024, lr 1e-4, 10,000 steps) trained on all development trials at once
   (``multi.train_many``), then the ``subject86`` preset the same way, both scored by both protocols;
4. state collection (``embed.collect``) of the paper model on a long sequence.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchmark
import numpy as np

from seq2seq_jax import fitting, machine, model, presets, protocols
from seq2seq_jax.data import subject86_trials as subject86

DRY = {
    "hidden": 16,
    "paper_steps": 20,
    "default_steps": 20,
    "trials": ["09"],
    "infer_frames": 2000,
    "peak_n": 128,
    "steps": 2,
    "models": 2,
}
FULL = {
    "hidden": None,
    "paper_steps": None,
    "default_steps": None,
    "trials": ["all"],
    "infer_frames": 100_000,
    "peak_n": 8192,
    "steps": 20,
    "models": 16,
}


def device_info() -> dict:
    """``machine.describe()`` (the devices, and the host's CPU), the date, and nvidia-smi's line where there is one."""
    info = {**machine.describe(), "date": time.strftime("%Y-%m-%d")}
    try:
        q = "--query-gpu=name,driver_version,memory.total"
        info["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", q, "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        info["nvidia_smi"] = None
    return info


def throughput(size: dict, peak: dict) -> list[dict]:
    """The ratio-table rows, in this process: ms per training step, fraction of the peak, states of a sequence."""
    paper_m, paper_t = presets.PAPER.model, presets.PAPER.train
    h = size["hidden"] or paper_m.hidden
    rows = [
        ("paper config, fp32", dataclasses.replace(paper_m, hidden=h), 1),
        ("paper config, bf16", dataclasses.replace(paper_m, hidden=h, dtype="bfloat16"), 1),
        (
            "default model",
            dataclasses.replace(presets.SUBJECT86.model, hidden=size["hidden"] or presets.SUBJECT86.model.hidden),
            1,
        ),
        (
            f"{size['models']} default models",
            dataclasses.replace(presets.SUBJECT86.model, hidden=size["hidden"] or presets.SUBJECT86.model.hidden),
            size["models"],
        ),
    ]
    out = []
    for name, mcfg, n in rows:
        ms, compile_s = benchmark.bench_jax_train(mcfg, paper_t, n, size["steps"], 2)
        flops = model.matmul_flops(mcfg, paper_t.batch * n, train=True)
        gflops = flops / ms / 1e6
        ref = peak["xla_bf16_fp32acc"] if mcfg.dtype == "bfloat16" else peak["xla_fp32"]
        row = {
            "name": name,
            "hidden": mcfg.hidden,
            "models": n,
            "dtype": mcfg.dtype,
            "ms_per_step": ms,
            "compile_s": compile_s,
            "gflops": gflops,
            "fraction_of_peak": gflops / ref,
        }
        try:
            import torch

            if torch.cuda.is_available() and mcfg.dtype == "float32":
                t_ms, _, _ = benchmark.torch_baseline.bench_torch(
                    mcfg, paper_t.batch * n, size["steps"], 2, 1000, device="cuda"
                )
                row.update(torch_ms_per_step=t_ms, speedup_vs_torch=t_ms / ms)
        except ImportError:
            pass
        out.append(row)
        print(
            f"{name:24s} {ms:8.2f} ms/step  {gflops:9.1f} GFLOP/s  {100 * row['fraction_of_peak']:5.1f}% of peak",
            flush=True,
        )
    return out


def paper_on_subject86(size: dict, data_dir, mirror, workdir: Path) -> dict:
    """Both presets trained on every development trial at once, then both protocols on each trial."""
    trials = subject86.resolve_trials(size["trials"], data_dir, mirror)
    loaded = [subject86.load_trial(t, data_dir, mirror) for t in trials]
    out = {}
    for preset, steps in ((presets.PAPER, size["paper_steps"]), (presets.SUBJECT86, size["default_steps"])):
        steps = steps or preset.train.iterations
        p = preset.replace(
            model={"hidden": size["hidden"]}, train={"iterations": steps, "keep": 1, "save_every": steps, "models": 1}
        )
        t0 = time.perf_counter()
        fits = fitting.fit_together(
            [t.frames for t in loaded],
            p.model,
            p.train,
            [workdir / p.name / f"trial_{t}" for t in trials],
            [{"subject86_trial": t} for t in trials],
            progress=False,
        )
        seconds = time.perf_counter() - t0
        rows = [
            protocols.score_subject86(t, [(params, meta)], p.segment) for t, (params, meta, _, _) in zip(loaded, fits)
        ]
        mean = {
            proto: {k: float(np.mean([r[proto][k] for r in rows])) for k in ("acc_hungarian", "ari", "boundary_f1")}
            for proto in ("ours", "oracle", "baseline")
        }
        out[p.name] = {
            "trials": trials,
            "train_seconds": seconds,
            "iterations": p.train.iterations,
            "hidden": p.model.hidden,
            "mean": mean,
            "per_trial": rows,
        }
        print(f"{p.name}: {len(trials)} trials trained together in {seconds:.0f} s; ours {mean['ours']}", flush=True)
    return out


def state_collection(size: dict) -> dict:
    mcfg = dataclasses.replace(presets.PAPER.model, hidden=size["hidden"] or presets.PAPER.model.hidden)
    ms = benchmark.bench_jax_infer(mcfg, size["infer_frames"], 5)
    return {
        "frames": size["infer_frames"],
        "hidden": mcfg.hidden,
        "seconds": ms / 1e3,
        "frames_per_s": size["infer_frames"] / ms * 1e3,
    }


def markdown(res: dict) -> str:
    d = res["device"]
    lines = [
        f"# Accelerator run: {d['device']} ({d['backend']}), JAX {d['jax']}, {d['date']}",
        "",
        f"`nvidia-smi`: {d['nvidia_smi']}; matrix peak here: fp32 {res['peak']['xla_fp32']:.0f} GFLOP/s, bf16 "
        f"inputs {res['peak']['xla_bf16_fp32acc']:.0f} GFLOP/s (n = {res['peak']['n']}).",
        "",
        "| row | ms/step | GFLOP/s | of peak | vs PyTorch |",
        "|---|---|---|---|---|",
    ]
    for r in res["throughput"]:
        vs = f"{r['speedup_vs_torch']:.2f}x" if "speedup_vs_torch" in r else "-"
        lines.append(
            f"| {r['name']} | {r['ms_per_step']:.2f} | {r['gflops']:.0f} | {100 * r['fraction_of_peak']:.0f}% | {vs} |"
        )
    lines += [
        "",
        "| preset | trials | steps | training s | ours: Hungarian / ARI / bF1 | GT-boundaries | baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in res["subject86"].items():
        cell = lambda m: " / ".join(f"{m[k]:.3f}" for k in ("acc_hungarian", "ari", "boundary_f1"))  # noqa: E731
        lines.append(
            f"| {name} | {len(r['trials'])} | {r['iterations']} | {r['train_seconds']:.0f} | "
            f"{cell(r['mean']['ours'])} | {cell(r['mean']['oracle'])} | {cell(r['mean']['baseline'])} |"
        )
    s = res["states"]
    lines += [
        "",
        f"State collection, hidden {s['hidden']}: {s['frames']} frames in {s['seconds']:.2f} s "
        f"({s['frames_per_s']:.0f} frames/s).",
        "",
        f"Total {res['seconds_total']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder for results.json and results.md")
    p.add_argument("--dry_run", action="store_true", help="tiny sizes: checks every stage on any machine")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--mirror", default=None)
    a = p.parse_args(argv)
    size, out, t0 = DRY if a.dry_run else FULL, Path(a.out), time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    res = {"device": device_info(), "dry_run": a.dry_run}
    print(f"device: {res['device']}", flush=True)
    res["peak"] = {**benchmark.matmul_peak(size["peak_n"]), "n": size["peak_n"]}
    res["throughput"] = throughput(size, res["peak"])
    res["states"] = state_collection(size)
    with tempfile.TemporaryDirectory() as work:  # the checkpoints stay out of --out (hundreds of MB)
        res["subject86"] = paper_on_subject86(size, a.data_dir, a.mirror, Path(work))
    res["seconds_total"] = time.perf_counter() - t0
    fitting.write_json(out / "results.json", res)
    (out / "results.md").write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
