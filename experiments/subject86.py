"""CMU subject 86: train (or --restore) one model per trial, segment it, score against Barbic et al.

    python experiments/subject86.py --restore            # the shipped checkpoints, every trial present
    python experiments/subject86.py --trial 01 09        # train those trials from scratch, then evaluate
    python experiments/subject86.py --together --cpu_devices 2   # train every trial at once (vmapped), 2 CPU devices
    python experiments/subject86.py --preset paper       # the paper's model and training (an hour a trial on a CPU)

Two protocols per trial: ours (only the number of classes k is given) and the reference's, which windows
inside the ground-truth segments and so uses the answer (printed as "GT-boundaries"); beside them the
off-the-shelf baseline on the same frames. Writes plots, labels and results.json into --out.
Results: docs/results/subject86.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from seq2seq_jax import fitting, flags, machine, plots, protocols
from seq2seq_jax.data import subject86_trials as subject86
from seq2seq_jax.data.sources import DataError

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--trial",
        "--num_trial",
        nargs="+",
        default=["all"],
        help="trials to run: numbers (01 3 ...), comma lists, or 'all' (every trial whose data is present)",
    )
    p.add_argument("--restore", "--demo", action="store_true", help="load trained checkpoints instead of training")
    p.add_argument(
        "--train_dir",
        default=None,
        help="checkpoint folder, one trial_NN/ inside per trial (default: "
        "checkpoints/subject86 with --restore, runs/subject86 when training)",
    )
    p.add_argument("--load", type=int, default=None, help="use (or resume from) this saved step instead of the latest")
    p.add_argument("--out", default=str(REPO / "out" / "subject86"), help="folder for plots, labels and results.json")
    flags.add_data_flags(p)
    flags.add_preset_flags(p, "subject86", variants=True)
    p.add_argument("--data_parallel", action="store_true", help="split each batch over all JAX devices (jax.sharding)")
    flags.add_together_flags(p, "all the trials")
    flags.add_distributed_flags(p)
    p.add_argument("--no_oracle", action="store_true", help="skip the reference's ground-truth-boundary protocol")
    p.add_argument("--no_plots", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    a.config = flags.resolve(p, a)
    if a.together and (a.restore or a.data_parallel):
        p.error("--together trains several models at once; it cannot be combined with --restore or --data_parallel")
    if a.data_parallel and a.config.train.models > 1:
        p.error(
            f"--data_parallel splits one model's batch over the devices; the preset trains {a.config.train.models} "
            "models per trial (an ensemble, trained together): add --models 1"
        )
    flags.check_together_flags(p, a)
    flags.check_distributed_flags(p, a)
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    if not flags.start_devices(a):
        return 2
    try:
        trials = subject86.resolve_trials(a.trial, a.data_dir, a.mirror)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    train_dir = Path(a.train_dir or REPO / ("checkpoints" if a.restore else "runs") / "subject86")
    if a.restore and a.trial == ["all"]:  # every trial present that has a checkpoint
        trials = protocols.trials_with_checkpoints(trials, train_dir)
        if not trials:
            print(f"error: no trial has both its data and a checkpoint in {train_dir}", file=sys.stderr)
            return 2
    out, cfg = Path(a.out), a.config
    rows, t_start = [], time.perf_counter()
    models = protocols.subject86_models(
        trials, train_dir, cfg, a.restore, a.together, a.load, a.data_dir, a.mirror, not a.quiet, a.data_parallel
    )

    def score_all():
        for trial, fits, t_fit, workdir in models:
            res = protocols.score_subject86(
                trial, fits, cfg.segment, None if a.no_plots else out, oracle=not a.no_oracle
            )
            res.update({"seconds_fit": t_fit, "restored" if a.restore else "trained": str(workdir)})
            if a.together:
                res["trained_together"] = len(trials)
            metrics_file = fitting.saved_members(workdir)[0] / "metrics.jsonl"  # an ensemble: its first model's
            if not a.no_plots and metrics_file.exists():
                res.setdefault("files", []).append(
                    str(
                        plots.loss_curve(
                            out / f"trial_{trial.trial}_loss.png", metrics_file, title=f"trial {trial.trial}"
                        )
                    )
                )
            rows.append(res)
            print(protocols.subject86_row(res), flush=True)

    stopped = flags.run_guarded(score_all)
    if stopped is not None:
        return stopped
    total = time.perf_counter() - t_start
    print(protocols.subject86_table(rows))
    info = machine.describe()
    print(f"{len(rows)} trials in {total:.0f} s on {machine.summary(info)}")
    fitting.write_json(
        out / "results.json",
        {
            "trials": rows,
            "seconds_total": total,
            "machine": info,
            "preset": cfg.name,
            "segmentation": vars(cfg.segment),
            "model": vars(cfg.model) if not a.restore else "from checkpoints",
            "train": vars(cfg.train) if not a.restore else "from checkpoints",
        },
    )
    print(f"wrote {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
