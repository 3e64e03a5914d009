"""Which of our segmentation's settings transfer to data that is not subject 86: from the frames-only baseline's
settings to the preset's, one setting at a time, on the frames alone (no model), over many blended case-(i) draws.

    python experiments/settings_ladder.py --num_actions 3 --total_num_actions 5 --seed 100 --seeds 40
    python experiments/settings_ladder.py --num_actions 5 --total_num_actions 8 --seed 100 --seeds 40
    python experiments/settings_ladder.py --subject86     # the same rows on the six subject-86 dev trials
    python experiments/settings_ladder.py ... --split_by basketball_signal,directing_traffic --out L.json
    python experiments/settings_ladder.py --summarize L.json --split_by basketball_signal,directing_traffic
    python experiments/settings_ladder.py ... --max_clip_s 8     # every recording cut to 8 s at most

No model is trained, so a draw costs seconds and many draws can be scored: enough to tell apart settings whose
effect is smaller than the spread between draws. Rows: the baseline (``protocols.BASELINE``: ruptures KernelCPD on
PCA of the frames, elbow, Ward on segment means); each field in which the preset's segmentation differs from it,
changed alone; all of them but one ("all but FIELD": what that field adds to the others, with three or more); and
all of them, which is the preset's segmentation of the frames alone (``protocols.frames_only``,
the "frames" column of ``concat_cmu.py``). Each row gives the mean Hungarian accuracy, ARI and boundary F1 and its
ARI against the baseline's paired draw by draw (``protocols.paired``). ``--subject86``: the same on the subject-86
development trials, where the preset's settings were chosen, so that a setting's gain there can be set beside
its gain on data it was not chosen on. ``--split_by ACTIONS`` reports apart the draws in which one of those actions
comes from two or more recordings (``protocols.several_recordings``): a different task, whose share of a set of
draws can decide a setting's sign. Results: docs/results/heldout_draws.md.
Draws 0-39 belong to the checks of the models (``concat_cmu.py``); the ladder's default draws start at 100.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import flags, metrics, presets, protocols, segmentation
from seq2seq_jax.data import cmu
from seq2seq_jax.data import subject86_trials as s86
from seq2seq_jax.data.normalize import NormStats

COLS = (("acc_hungarian", "Hung"), ("ari", "ARI"), ("boundary_f1", "bF1"))
# Fields that do not change a segmentation of the frames alone: the frames are the only member, so they are not
# appended to themselves nor vote twice (as in protocols.frames_only).
IGNORED = ("frames_weight", "frames_votes", "frames_in_clustering")
# Fields that act only through another, so they change with it: how far whitened Ward whitens (with plain Ward, the
# baseline's, it does nothing).
WITH = {"whiten_shrink": "linkage"}


def ladder(preset_name: str) -> dict[str, segmentation.SegmentConfig]:
    """{row name: settings}: the baseline, each of the preset's differing fields alone ("+field"), all of them but
    one ("all but field": what that field adds to the rest), then all."""
    ours = presets.get(preset_name).segment
    base = protocols.BASELINE
    changed: dict[str, dict] = {}  # row name: the fields it changes (a field of WITH changes with its field)
    for f in dataclasses.fields(ours):
        if f.name not in IGNORED and getattr(ours, f.name) != getattr(base, f.name):
            changed.setdefault(WITH.get(f.name, f.name), {})[f.name] = getattr(ours, f.name)
    rows = {"baseline": base}
    for name, fields in changed.items():
        rows[f"+{name}"] = dataclasses.replace(base, **fields)
    if len(changed) > 2:  # (with two, "all but one" is the other alone)
        for name in changed:
            rest = {k: v for n, fields in changed.items() if n != name for k, v in fields.items()}
            rows[f"all but {name}"] = dataclasses.replace(base, **rest)
    if len(changed) > 1:
        rows["all: the preset on the frames"] = dataclasses.replace(
            base, **{k: v for fields in changed.values() for k, v in fields.items()}
        )
    return rows


def score_recording(frames_TxD, labels_T, k: int, fps: float, windows, rows: dict) -> dict:
    """{row name: metrics} of one recording (its frames normalized as a model's would be)."""
    z = NormStats.fit(frames_TxD).apply(frames_TxD)
    out = {}
    for name, cfg in rows.items():
        if cfg is protocols.BASELINE:  # as concat_cmu.py and subject86.py score it
            lab = segmentation.segment_embedding(z, k, fps, cfg)
        else:
            lab = protocols.frames_only(z, k, fps, cfg)
        out[name] = metrics.all_metrics(labels_T, lab, windows)
    return out


def recordings(a):
    """Yields (name, frames, labels, k, fps, windows, clips): the blended draws (clips: (action, file) of each), or
    with --subject86 the dev trials (clips None)."""
    data = {"data_dir": a.data_dir, "mirror": a.mirror}
    if a.subject86:
        for t in s86.resolve_trials(["all"], **data):
            tr = s86.load_trial(t, **data)
            yield t, tr.frames, tr.labels, tr.k, tr.fps, tr.windows, None
        return
    for s in range(a.seed, a.seed + a.seeds):
        seq = cmu.make_sequence(s, a.num_actions, a.total_num_actions, blend_s=a.blend, max_clip_s=a.max_clip_s, **data)
        windows = metrics.windows_around(seq.boundaries, int(protocols.CONCAT_TOLERANCE_S * seq.fps))
        yield s, seq.frames, seq.labels, len(seq.actions), seq.fps, windows, [c[:2] for c in seq.clips]


def table(draws: list[dict], names: list[str]) -> str:
    """Each row's mean Hungarian accuracy, ARI and boundary F1 over ``draws``, and its ARI against the baseline's,
    paired draw by draw."""
    lines = [f"{'settings':32s} " + " ".join(f"{c:>5s}" for _, c in COLS) + "   ARI - baseline, paired"]
    for n in names:
        m = [np.mean([r[n][k] for r in draws]) for k, _ in COLS]
        paired = protocols.paired_text(protocols.paired(draws, n, "baseline"))
        lines.append(f"{n:32s} " + " ".join(f"{v:5.3f}" for v in m) + "   " + paired)
    return "\n".join(lines)


def report(draws: list[dict], names: list[str], split_by: list[str]) -> str:
    """``table`` of all the draws, and with ``split_by`` (actions) of the draws in which one of them comes from
    several recordings (``protocols.several_recordings``) and of the others apart."""
    out = []
    for i, (title, part) in enumerate(protocols.strata(draws, split_by)):
        if i:
            out.append(f"\n{title}:")
        if part:
            out.append(table(part, names))
    return "\n".join(out)


def summarize(path: str, split_by: list[str]) -> int:
    """Prints ``report`` of a stored --out file; 2 with a message when it cannot be read or, with ``split_by``, holds
    no clips (subject-86 trials, or a file written before the clips were stored)."""
    try:
        doc = json.loads(Path(path).read_text())
        draws, names = doc["draws"], list(doc["settings"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"--summarize: cannot read {path} as a settings_ladder.py --out file ({e!r})", file=sys.stderr)
        return 2
    if not draws:
        print(f"--summarize: {path} holds no draws", file=sys.stderr)
        return 2
    if split_by and not all(r.get("clips") for r in draws):
        print(
            f"--summarize: {path} does not say which clips its draws hold (subject-86 trials, or written before the"
            " clips were stored), so --split_by cannot sort them; rerun the ladder with --out",
            file=sys.stderr,
        )
        return 2
    print(report(draws, names, split_by))
    print(f"{len(draws)} recordings from {path}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mocap", choices=list(presets.PRESETS), help="whose segmentation to climb to")
    p.add_argument("--num_actions", type=int, default=3)
    p.add_argument("--total_num_actions", type=int, default=5)
    p.add_argument("--blend", type=float, default=0.5, metavar="SECONDS")
    flags.add_max_clip_flag(p)
    p.add_argument("--seed", type=int, default=100, help="the first draw's seed")
    p.add_argument("--seeds", type=int, default=40, help="how many draws")
    p.add_argument("--subject86", action="store_true", help="the subject-86 dev trials instead of blended draws")
    p.add_argument("--out", default=None, help="write the per-draw metrics here (JSON)")
    p.add_argument(
        "--split_by",
        default=None,
        metavar="ACTIONS",
        help="also report apart the draws in which one of these comma-separated actions comes from two or more"
        " different recordings, and the other draws",
    )
    p.add_argument("--summarize", default=None, metavar="LADDER_JSON", help="report a stored --out file; no scoring")
    flags.add_data_flags(p)
    a = p.parse_args(argv)
    if a.seeds < 1:
        p.error(f"--seeds must be >= 1, got {a.seeds}")
    flags.check_max_clip_flag(p, a)
    try:
        split_by = protocols.split_actions(a.split_by)
    except ValueError as e:
        p.error(str(e))
    if split_by and a.subject86:
        p.error("--split_by sorts blended draws by their clips; the subject-86 trials have none")
    if a.summarize:
        return summarize(a.summarize, split_by)
    rows = ladder(a.preset)
    names = list(rows)
    what = "trial (subject 86)" if a.subject86 else f"draw ({a.num_actions} actions / {a.total_num_actions} clips)"
    print(f"ARI per {what}: " + " | ".join(names))
    draws, t0 = [], time.perf_counter()

    def run():
        for name, frames, labels, k, fps, windows, clips in recordings(a):
            r = {"recording": name, **score_recording(frames, labels, k, fps, windows, rows)}
            if clips is not None:
                r["clips"] = clips
            draws.append(r)
            print(f"{name:>4} " + " ".join(f"{r[n]['ari']:6.3f}" for n in names), flush=True)

    stopped = flags.run_guarded(run)
    if stopped is not None:
        return stopped
    print()
    print(report(draws, names, split_by))
    print(f"{len(draws)} recordings in {time.perf_counter() - t0:.0f} s")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        settings = {n: dataclasses.asdict(c) for n, c in rows.items()}
        Path(a.out).write_text(json.dumps({"settings": settings, "draws": draws, "args": vars(a)}, indent=1))
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
