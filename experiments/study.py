"""The study behind the subject-86 preset: model and training settings x seeds x subject-86 trials, each
checkpoint scored under several segmentation settings (only k given), plus the raw-frame baselines
(``seq2seq_jax.studies``).

    python experiments/study.py --configs h256 h128 --seeds 0 1      # train what is missing, score, write the table
    python experiments/study.py --list                               # the configs it knows
    python experiments/study.py --loo        # leave-one-trial-out: choose on five trials, score on the sixth
    python experiments/study.py --loo --max_model_steps 1500   # ... among the configs that train within the budget
    python experiments/study.py --spread h256_it500_x3 cpd_wward_states_frames0.5_smooth0.25_minseg2   # over seeds

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
    a = p.parse_args(argv)
    if a.spread:
        rows = [json.loads(line) for line in (Path(a.out) / "study.jsonl").read_text().splitlines() if line.strip()]
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
        rows = [json.loads(line) for line in (Path(a.out) / "study.jsonl").read_text().splitlines() if line.strip()]
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


if __name__ == "__main__":
    sys.exit(main())
