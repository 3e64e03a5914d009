"""What reusing a model on recordings it was not trained on costs: for each subject-86 development trial, an ensemble
trained on the other five (normalized by statistics pooled over them, ``fitting.fit_pooled``) segments it as it is,
never trained on it, beside the baseline (``--normalize each``: every recording z-scored by its own statistics,
in training and after); with ``--own_dir``, the same seed's ensemble trained on the trial itself
(``experiments/subject86.py``'s checkpoints) is restored and scored in the same run.

    python experiments/reuse.py --seed 0 --train_dir RUNS --own_dir checkpoints/subject86
    python experiments/reuse.py --seed 1 --train_dir RUNS --own_dir S1   # S1: subject86.py --seed 1 --train_dir S1
    python experiments/reuse.py --seed 0 --train_dir RUNS_EACH --normalize each --own_dir checkpoints/subject86

``seq2seq_jax.segment(x, restore=model)`` and ``seq2seq-jax segment --restore`` reuse a model this way.
Results: docs/results/reuse.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from seq2seq_jax import fitting, flags, machine, protocols
from seq2seq_jax.data import subject86_trials as subject86

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trial", nargs="+", default=list(subject86.DEVELOPMENT_TRIALS), help="the trials held out in turn")
    p.add_argument("--train_dir", default=str(REPO / "runs" / "reuse"), help="a without_NN/ per held-out trial")
    p.add_argument("--own_dir", default=None, help="checkpoints trained on each trial itself (trial_NN/), restored")
    p.add_argument("--out", default=str(REPO / "out" / "reuse"), help="folder for results.json")
    flags.add_data_flags(p)
    flags.add_preset_flags(p, "subject86")
    p.add_argument(
        "--normalize",
        choices=("pooled", "each"),
        default="pooled",
        help="z-score every recording by statistics pooled over the five training trials (what reusing a model "
        "trained on one recording does) or each by its own (fitting.fit_pooled's per_recording)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    a.config = flags.resolve(p, a)
    dev = subject86.DEVELOPMENT_TRIALS
    a.trial = [subject86.check_trial(t) for t in a.trial]
    outside = [t for t in a.trial if t not in dev]
    if outside:
        p.error(f"--trial {' '.join(outside)}: only the development trials ({' '.join(dev)}) are held out here")
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    P, data = a.config, {"data_dir": a.data_dir, "mirror": a.mirror}
    trials, rows, own_rows, t0 = {}, [], [], time.perf_counter()

    def run():
        trials.update({t: subject86.load_trial(t, **data) for t in subject86.DEVELOPMENT_TRIALS})
        for t in a.trial:
            others = [o for o in trials if o != t]
            fits, seconds = fitting.fit_pooled(
                [trials[o].frames for o in others],
                P.model,
                P.train,
                Path(a.train_dir) / f"without_{t}",
                {"subject86_trials": others, "normalize": a.normalize},
                progress=not a.quiet,
                per_recording=a.normalize == "each",
            )
            r = protocols.score_subject86(trials[t], fits, P.segment, oracle=False)
            r["seconds_fit"] = seconds
            rows.append(r)
            print(f"trained on {' '.join(others)} ({seconds:.0f} s): " + protocols.subject86_row(r), flush=True)
        if a.own_dir:
            for trial, fits, _, _ in protocols.subject86_models(a.trial, Path(a.own_dir), P, restore=True, **data):
                r = protocols.score_subject86(trial, fits, P.segment, oracle=False, baseline=False)
                own_rows.append(r)

    stopped = flags.run_guarded(run)
    if stopped is not None:
        return stopped
    print("\ntrained on the other five trials, never on the held-out one:" + protocols.subject86_table(rows))
    if own_rows:
        print("\ntrained on the trial itself (--own_dir, restored):" + protocols.subject86_table(own_rows))
        pairs = _pairs(rows, own_rows)
        for key, name in (("acc_hungarian", "Hungarian"), ("ari", "ARI"), ("boundary_f1", "boundary F1")):
            d = protocols.paired(pairs, "pooled", "own", key)
            print(f"reused minus trained on the trial itself, {name}, paired over trials: " + protocols.paired_text(d))
    info = machine.describe()
    print(f"{len(rows)} trials in {time.perf_counter() - t0:.0f} s on {machine.summary(info)}")
    path = fitting.write_json(
        Path(a.out) / "results.json",
        {"runs": rows, "own": own_rows, "args": {k: v for k, v in vars(a).items() if k != "config"}, "machine": info},
    )
    print(f"wrote {path}")
    return 0


def _pairs(rows, own_rows) -> list[dict]:
    """One dict per trial with both scores, as ``protocols.paired`` takes them."""
    own = {r["trial"]: r["ours"] for r in own_rows}
    return [{"pooled": r["ours"], "own": own[r["trial"]]} for r in rows if r["trial"] in own]


if __name__ == "__main__":
    sys.exit(main())
