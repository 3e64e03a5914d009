"""The study behind the subject-86 preset: model and training settings x seeds x subject-86 trials, each
checkpoint scored under several segmentation settings (only k given), plus the raw-frame baselines
(``seq2seq_jax.studies``).

    python experiments/study.py --configs h256 h128 --seeds 0 1      # train what is missing, score, write the table
    python experiments/study.py --list                               # the configs it knows
    python experiments/study.py --loo        # leave-one-trial-out: choose on five trials, score on the sixth
    python experiments/study.py --loo --max_model_steps 1500   # ... among the configs that train within the budget
    python experiments/study.py --spread h256_it500_x3 cpd_wward_states_frames0.5_smooth0.25_minseg2   # over seeds
    python experiments/study.py --loo_layouts h256_it500_x3_src25 --candidate SEGMENTATION FILE... \
        --candidate SEGMENTATION FILE...  # leave-one-trial-out over the trials in their own order and shuffled

Checkpoints go to --train_dir/<config>/seed<N>/trial_<NN> and are reused when present, so the study can be
stopped and resumed. Results are appended to --out/study.jsonl (each new row names the machine that scored it, and
trained it where "trained" is true); the table goes to --out/study.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seq2seq_jax import flags, studies

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=["h256"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--trial", nargs="+", default=["all"])
    p.add_argument("--train_dir", default=str(REPO / "runs" / "study"))
    p.add_argument("--out", default=str(REPO / "docs"))
    flags.add_data_flags(p)
    p.add_argument("--list", action="store_true", help="list the configs and exit")
    p.add_argument("--table_only", action="store_true", help="only rewrite study.md from study.jsonl")
    p.add_argument(
        "--loo", action="store_true", help="leave-one-trial-out over the stored rows: print it and write study_loo.md"
    )
    p.add_argument(
        "--max_model_steps",
        type=int,
        default=None,
        help="--loo among the configs whose training per trial is at most this many steps x models (the time budget)",
    )
    p.add_argument(
        "--spread",
        nargs=2,
        metavar=("CONFIG", "SEGMENTATION"),
        help="print one procedure's Hungarian accuracy per trial and seed, and its spread over the seeds",
    )
    p.add_argument(
        "--loo_layouts",
        metavar="CONFIG",
        help="leave-one-trial-out over both layouts of the trials: CONFIG's study rows in their own order and the "
        "shuffled-trial draws (concat_cmu.py --dataset s86_shuffled results) of each --candidate",
    )
    p.add_argument(
        "--candidate",
        nargs="+",
        action="append",
        metavar=("SEGMENTATION", "FILE"),
        help="with --loo_layouts: a segmentation of the study and the results.json files of its shuffled-trial draws",
    )
    a = p.parse_args(argv)
    if a.loo_layouts:
        return _loo_layouts(p, a)
    if a.spread:
        rows = _rows(a.out)
        try:
            print(studies.spread_report(rows, *a.spread), end="")
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    if a.list:
        for name, (m, t) in studies.CONFIGS.items():
            print(
                f"{name:18s} hidden {m.hidden} S/T {m.source}/{m.target} tied {m.tied} adversarial {m.adversarial} "
                f"lr {t.lr} iterations {t.iterations} models {t.models}"
            )
        return 0
    if a.loo:
        rows = _rows(a.out)
        text = studies.loo_report(rows, a.max_model_steps)
        cmd = "python experiments/study.py --loo" + (
            f" --max_model_steps {a.max_model_steps}" if a.max_model_steps else ""
        )
        name = "study_loo.md" if a.max_model_steps is None else f"study_loo_max{a.max_model_steps}.md"
        (Path(a.out) / name).write_text(f"# Leave-one-trial-out over the study\n\n`{cmd}`\n\n" + text)
        print(text + f"wrote {Path(a.out) / name}")
        return 0
    if a.table_only:
        studies.write_table(Path(a.out) / "study.jsonl", Path(a.out) / "study.md")
        return 0
    try:
        md = studies.run_study(a.configs, a.seeds, a.trial, a.train_dir, a.out, a.data_dir, a.mirror)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {md}")
    return 0


def _rows(out) -> list[dict]:
    """The stored study rows (``out``/study.jsonl)."""
    return [json.loads(line) for line in (Path(out) / "study.jsonl").read_text().splitlines() if line.strip()]


def _loo_layouts(p: argparse.ArgumentParser, a: argparse.Namespace) -> int:
    import dataclasses

    from seq2seq_jax.config import from_dict
    from seq2seq_jax.segmentation import SegmentConfig

    if not a.candidate or any(len(c) < 2 for c in a.candidate):
        p.error("--loo_layouts needs --candidate SEGMENTATION FILE [FILE ...] for each candidate (two or more)")
    draws = {}
    for name, *files in a.candidate:
        if name not in studies.SEGMENTATIONS:
            p.error(f"--candidate {name}: not a segmentation of the study (studies.SEGMENTATIONS)")
        runs = []
        for f in files:
            try:
                doc = json.loads(Path(f).read_text())
                # a field the file's version of the code did not have reads as its default (concat_cmu.py --summarize)
                seg, got = from_dict(SegmentConfig, doc["preset"]["segment"]), doc["args"].get("dataset")
            except (OSError, ValueError, KeyError, TypeError) as e:
                p.error(f"cannot read {f} as a concat_cmu.py results.json ({e!r})")
            want = studies.SEGMENTATIONS[name]
            diff = [x.name for x in dataclasses.fields(want) if getattr(seg, x.name) != getattr(want, x.name)]
            if got != "s86_shuffled" or diff:
                p.error(
                    f"{f} is not {name}'s shuffled-trial draws: dataset {got!r}"
                    + (f", segmentation differs in {', '.join(diff)}" if diff else "")
                )
            runs += doc["runs"]
        draws[name] = runs
    rows = _rows(a.out)
    try:
        print(studies.layouts_loo_report(studies.layouts_loo(rows, a.loo_layouts, draws)), end="")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
