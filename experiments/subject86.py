"""CMU subject 86: train (or --restore) one model per trial, segment it, score against Barbic et al.

    python experiments/subject86.py --restore            # the shipped checkpoints, every trial present
    python experiments/subject86.py --trial 01 09        # train those trials from scratch, then evaluate
    python experiments/subject86.py --together --cpu_devices 2   # train every trial at once (vmapped), 2 CPU devices

Two protocols per trial: ours (only the number of classes k is given) and the reference's, which windows
inside the ground-truth segments and so uses the answer (printed as "GT-boundaries").
Writes plots, labels and results.json into --out.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import pipeline, plots, segmentation
from seq2seq_jax.checkpoint import CheckpointError
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data import subject86
from seq2seq_jax.data.sources import DataError

REPO = Path(__file__).resolve().parents[1]

# The default model and training config (see the README for how it was chosen and how it differs from the paper).
DEFAULT_MODEL = ModelConfig(hidden=256, source=50, target=25)
DEFAULT_TRAIN = TrainConfig(lr=1e-3, batch=16, iterations=1000, save_every=500, keep=2)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trial", "--num_trial", nargs="+", default=["all"],
                   help="trials to run: numbers (01 3 ...), comma lists, or 'all' (every trial whose data is present)")
    p.add_argument("--restore", "--demo", action="store_true", help="load trained checkpoints instead of training")
    p.add_argument("--train_dir", default=None,
                   help="checkpoint folder, one trial_NN/ inside per trial (default: checkpoints/subject86 with "
                        "--restore, runs/subject86 when training)")
    p.add_argument("--load", type=int, default=None, help="use (or resume from) this saved step instead of the latest")
    p.add_argument("--out", default=str(REPO / "out" / "subject86"), help="folder for plots, labels and results.json")
    p.add_argument("--data_dir", default=None, help="data root (default $SEQ2SEQ_JAX_DATA or data/)")
    p.add_argument("--mirror", default=None, help="local folder standing in for the upstream repositories")
    m, t = DEFAULT_MODEL, DEFAULT_TRAIN
    p.add_argument("--hidden", "--rnn_size", type=int, default=m.hidden)
    p.add_argument("--source_seq_len", type=int, default=m.source)
    p.add_argument("--target_seq_len", type=int, default=m.target)
    p.add_argument("--untied", action="store_true", help="separate encoder and decoder cells")
    p.add_argument("--adversarial", choices=("none", "joint", "alternating"), default=m.adversarial)
    p.add_argument("--dtype", choices=("float32", "bfloat16"), default=m.dtype)
    p.add_argument("--learning_rate", type=float, default=t.lr)
    p.add_argument("--batch_size", type=int, default=t.batch)
    p.add_argument("--iterations", type=int, default=t.iterations)
    p.add_argument("--seed", type=int, default=t.seed)
    p.add_argument("--data_parallel", action="store_true", help="split each batch over all JAX devices (jax.sharding)")
    pipeline.add_together_args(p, "all the trials")
    p.add_argument("--segmentation", choices=segmentation.METHODS, default=segmentation.SegmentConfig.method)
    p.add_argument("--segment_stats", choices=segmentation.SEGMENT_STATS, default=segmentation.SegmentConfig.segment_stats,
                   help="segment descriptor for clustering: 'mean' (default), 'std' or 'mean_std'")
    p.add_argument("--cpd_smooth_s", type=float, default=0.25,
                   help="Gaussian smoothing (seconds) of the features before change points (0: none; 0.25 chosen in docs/study.md)")
    p.add_argument("--min_segments_over_k", type=int, default=segmentation.SegmentConfig.min_segments_over_k,
                   help="the change-point search returns at least k - 1 + this many change points (default 1: more "
                        "segments than classes, chosen in docs/study.md; 0: the elbow alone)")
    p.add_argument("--no_oracle", action="store_true", help="skip the reference's ground-truth-boundary protocol")
    p.add_argument("--no_plots", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    if a.cpd_smooth_s < 0:
        p.error(f"--cpd_smooth_s must be >= 0 seconds (0: no smoothing), got {a.cpd_smooth_s}")
    if a.together and (a.restore or a.data_parallel):
        p.error("--together trains several models at once; it cannot be combined with --restore or --data_parallel")
    pipeline.check_together_args(p, a)
    if a.min_segments_over_k < 0:
        p.error(f"--min_segments_over_k must be >= 0 (0: the elbow alone), got {a.min_segments_over_k}")
    return a


def resolve_trials(spec, data_dir, mirror):
    names = [s for item in spec for s in item.split(",") if s]
    if names == ["all"]:
        got = subject86.available_trials(data_dir, mirror)
        if not got:
            raise DataError("no subject-86 trial is available; set --data_dir or --mirror, or allow downloads")
        return got
    return [subject86._check_trial(n) for n in names]


def main(argv=None) -> int:
    a = parse_args(argv)
    err = pipeline.setup_cpu_devices(a)
    if err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        trials = resolve_trials(a.trial, a.data_dir, a.mirror)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    train_dir = Path(a.train_dir or (REPO / "checkpoints" / "subject86" if a.restore else REPO / "runs" / "subject86"))
    if a.restore and a.trial == ["all"]:  # every trial present that has a checkpoint
        missing = [t for t in trials if not (train_dir / f"trial_{t}" / "checkpoints").is_dir()]
        trials = [t for t in trials if t not in missing]
        if missing:
            print(f"no checkpoint in {train_dir} for trials {' '.join(missing)}: skipped (train them without --restore)")
        if not trials:
            print(f"error: no trial has both its data and a checkpoint in {train_dir}", file=sys.stderr)
            return 2
    mcfg = ModelConfig(hidden=a.hidden, source=a.source_seq_len, target=a.target_seq_len, tied=not a.untied,
                       adversarial=a.adversarial, dtype=a.dtype)
    tcfg = TrainConfig(lr=a.learning_rate, batch=a.batch_size, iterations=a.iterations, seed=a.seed,
                       save_every=DEFAULT_TRAIN.save_every, keep=DEFAULT_TRAIN.keep)
    seg_cfg = segmentation.SegmentConfig(method=a.segmentation, segment_stats=a.segment_stats, cpd_smooth_s=a.cpd_smooth_s,
                                          min_segments_over_k=a.min_segments_over_k)
    out = Path(a.out)
    rows, t_start = [], time.perf_counter()
    fits = _fitted(a, trials, train_dir, mcfg, tcfg)
    while True:
        try:
            got = next(fits, None)
        except (DataError, CheckpointError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as err:
            print(err, file=sys.stderr)
            return 0
        if got is None:
            break
        trial, params, meta, t_fit, workdir = got
        tr = trial.trial
        res = pipeline.analyse_subject86(trial, params, meta, seg_cfg, None if a.no_plots else out, oracle=not a.no_oracle)
        res["seconds_fit"] = t_fit
        if a.together:
            res["trained_together"] = len(trials)
        res["restored" if a.restore else "trained"] = str(workdir)
        if not a.no_plots and (workdir / "metrics.jsonl").exists():
            res.setdefault("files", []).append(str(plots.loss_curve(out / f"trial_{tr}_loss.png", workdir / "metrics.jsonl",
                                                                   title=f"trial {tr}")))
        rows.append(res)
        print(_row(res), flush=True)
    total = time.perf_counter() - t_start
    print(_table(rows))
    if rows and "baseline" in rows[0]:
        mb = {k: float(np.mean([r["baseline"][k] for r in rows])) for k, _ in COLS}
        print("baseline (" + pipeline.BASELINE_NOTE + "), mean: " + ", ".join(f"{n} {mb[k]:.3f}" for k, n in COLS))
    print(f"{len(rows)} trials in {total:.0f} s")
    pipeline.write_json(out / "results.json", {
        "trials": rows, "seconds_total": total, "model": vars(mcfg) if not a.restore else "from checkpoints",
        "train": vars(tcfg) if not a.restore else "from checkpoints", "segmentation": vars(seg_cfg)})
    print(f"wrote {out / 'results.json'}")
    return 0


def _fitted(a, trials, train_dir, mcfg, tcfg):
    """Yields (Trial, params, meta, seconds of fitting, folder) per trial: restored, trained one by one (each
    as soon as it is ready), or, with --together, all trained at once first."""
    dirs = [train_dir / f"trial_{tr}" for tr in trials]
    if a.together:
        loaded = [subject86.load_trial(tr, a.data_dir, a.mirror) for tr in trials]
        t0 = time.perf_counter()
        fits = pipeline.fit_together([t.frames for t in loaded], mcfg, tcfg, dirs, [{"subject86_trial": tr} for tr in trials],
                                     load_step=a.load, progress=not a.quiet)
        print(f"trained {len(trials)} trials together in {time.perf_counter() - t0:.0f} s", flush=True)
        for t, (params, meta, _, seconds), d in zip(loaded, fits, dirs):
            yield t, params, meta, seconds, d
        return
    for tr, d in zip(trials, dirs):
        try:
            trial = subject86.load_trial(tr, a.data_dir, a.mirror)
            params, meta, _, seconds = pipeline.fit_or_restore(
                trial.frames, mcfg, tcfg, d, {"subject86_trial": tr}, restore=a.restore, load_step=a.load,
                progress=not a.quiet, data_parallel=a.data_parallel)
        except (DataError, CheckpointError) as err:
            raise type(err)(f"trial {tr}: {err}") from None
        yield trial, params, meta, seconds, d


COLS = (("acc_hungarian", "Hung"), ("acc_first", "1st"), ("ari", "ARI"), ("nmi", "NMI"), ("boundary_f1", "bF1"))


def _fmt(m):
    return " ".join(f"{m[k]:5.3f}" for k, _ in COLS) + f" {m['n_segments']:4d}/{m['n_segments_true']:<3d}"


def _row(r):
    s = f"trial {r['trial']}  ours: {_fmt(r['ours'])}"
    if "oracle" in r:
        s += f" | GT-boundaries: {_fmt(r['oracle'])}"
    return s


def _table(rows):
    head = " ".join(f"{n:>5s}" for _, n in COLS) + "  segs   "
    lines = ["", f"{'':5s}  ours (only k given)".ljust(48) + ("| reference protocol (uses GT boundaries)" if "oracle" in rows[0] else ""),
             f"trial  {head}" + (f"| {head}" if "oracle" in rows[0] else "")]
    for r in rows:
        lines.append(f"{r['trial']:5s}  {_fmt(r['ours'])}  " + (f"| {_fmt(r['oracle'])}" if "oracle" in r else ""))
    mean = {k: float(np.mean([r["ours"][k] for r in rows])) for k, _ in COLS}
    s = f"{'mean':5s}  " + " ".join(f"{mean[k]:5.3f}" for k, _ in COLS)
    if "oracle" in rows[0]:
        mo = {k: float(np.mean([r["oracle"][k] for r in rows])) for k, _ in COLS}
        s += " " * 11 + "| " + " ".join(f"{mo[k]:5.3f}" for k, _ in COLS)
    lines.append(s)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
