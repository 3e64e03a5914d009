"""The ratio table: every row of ``TABLE`` run by ``benchmark.py --one`` in a fresh process (the CPU-device split
must be set before JAX starts), then one table of ratios, each measured within its own process, with the goals
each meets or misses. ``python benchmarks/benchmark.py`` with no configuration flag runs it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jax

from seq2seq_jax import presets

BENCHMARK = Path(__file__).resolve().parent / "benchmark.py"
H = presets.SUBJECT86.model.hidden  # the default model

# (name, arguments, goals): a goal is (label, JSON path under "results", minimum). The many-models PyTorch
# baseline is one PyTorch model at batch models x batch (it has no vmap). The split row runs on CPUs only.
TABLE = (
    (
        "paper config, fp32",
        [],
        (("training vs PyTorch", ("speedup_train",), 1.5), ("states vs PyTorch", ("speedup_infer",), 2.0)),
    ),
    ("paper config, bf16", ["--dtype", "bfloat16"], (("training vs PyTorch fp32", ("speedup_train",), 3.0),)),
    (f"default model (hidden {H})", ["--hidden", str(H)], ()),
    (
        f"16 models of hidden {H}",
        ["--models", "16", "--hidden", str(H)],
        (("of fp32 peak", ("jax_train", "fraction_of_peak"), 0.6),),
    ),
    (
        "16 models, 2 CPU devices",
        ["--models", "16", "--hidden", str(H), "--split_models", "2"],
        (("of fp32 peak", ("jax_train", "fraction_of_peak"), 0.6),),
    ),
)


def run_table(a) -> int:
    """Runs every row of TABLE in a fresh process (the CPU-device split must be set before JAX starts) and
    prints one table of ratios, each measured within its own process, with the goals they meet or miss."""
    import subprocess
    import tempfile

    rows = []
    on_cpu = jax.default_backend() == "cpu"
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, args, goals) in enumerate(TABLE):
            if "--split_models" in args and not on_cpu:
                continue
            out = Path(tmp) / f"row{i}.json"
            cmd = [
                sys.executable,
                str(BENCHMARK),
                "--one",
                *args,
                "--steps",
                str(a.steps),
                "--warmup",
                str(a.warmup),
                "--peak_n",
                str(a.peak_n),
                "--json",
                str(out),
            ] + (["--no_torch"] if a.no_torch else [])
            print(f"[{i + 1}/{len(TABLE)}] {name}: benchmark.py {' '.join(args)}", flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                print(proc.stdout[-2000:] + proc.stderr[-4000:], file=sys.stderr)
                print(f"error: the row '{name}' failed (exit {proc.returncode}); its output is above", file=sys.stderr)
                return proc.returncode
            rows.append((name, args, goals, json.loads(out.read_text())))
    info = rows[0][3]["info"]
    print(
        f"\n{info['backend']} ({info['device']}), {info['cpu'].get('model', '?')}, {info['cores']} cores, "
        f"jax {info['jax']}, " + time.strftime("%Y-%m-%d")
    )
    head = f"{'':28s} {'ours ms':>8s} {'PyTorch':>8s} {'train':>6s} {'states':>7s} {'of peak':>8s}  goals"
    print(head + "\n" + "-" * len(head))
    for name, _, goals, r in rows:
        res = r["results"]
        torch_ms = res.get("torch_train", {}).get("ms_per_step")
        frac = res["jax_train"].get("fraction_of_peak")
        verdicts = []
        for label, path, need in goals:
            v = res
            for k in path:
                v = v.get(k) if isinstance(v, dict) else None
            if v is None:
                verdicts.append(f"{label}: not measured")
            else:
                shown = f"{100 * v:.0f}%" if "peak" in label else f"{v:.2f}x"
                goal = f"{100 * need:.0f}%" if "peak" in label else f"{need:g}x"
                verdicts.append(f"{label} {shown} (goal {goal}: {'met' if v >= need else 'NOT met'})")
        print(
            f"{name:28s} {res['jax_train']['ms_per_step']:8.1f} "
            + (
                f"{torch_ms:8.1f} {res['speedup_train']:5.2f}x {res['speedup_infer']:6.2f}x"
                if torch_ms
                else f"{'-':>8s} {'-':>6s} {'-':>7s}"
            )
            + (f" {100 * frac:7.0f}%" if frac is not None else f" {'':8s}")
            + "  "
            + "; ".join(verdicts)
        )
    print(
        "train/states: PyTorch time / ours, measured in the same process; PyTorch for many models is one model at "
        "batch models x batch"
    )
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(
        json.dumps(
            {
                "table": [{"name": n, "args": g, "run": r} for n, g, _, r in rows],
                "time": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
            indent=1,
        )
    )
    print(f"wrote {a.json}")
    return 0
