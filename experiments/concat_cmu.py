"""Case (i): CMU action clips concatenated, then segmented and clustered without labels.

    python experiments/concat_cmu.py --num_actions 3 --total_num_actions 5 --seed 0
    python experiments/concat_cmu.py --actions walking,running,jumping --gen_video
    python experiments/concat_cmu.py --num_actions 3 --total_num_actions 5 --seeds 10   # a sweep over seeds 0..9
    python experiments/concat_cmu.py --num_actions 3 --total_num_actions 5 --seeds 10 --together --cpu_devices 2
    python experiments/concat_cmu.py --summarize out/a/results.json out/b/results.json   # pool stored sweeps
    python experiments/concat_cmu.py --summarize out/a/results.json --against out/c/results.json  # two settings
    python experiments/concat_cmu.py --dataset regimes --num_actions 4 --total_num_actions 8 --blend 0.5 --seeds 10
    python experiments/concat_cmu.py --dataset s86_shuffled --blend 0.5 --seeds 12   # each dev trial twice, re-ordered

Prints, for ours (only k = number of actions given; preset concat_cmu: cut at the splices found in the frames,
each piece one segment, pieces clustered by the spread of their features) and for the reference's cut rule
(windows cut where the prediction error exceeds --threshold, states clustered by cosine single linkage): ARI,
AMI, V-measure, Hungarian accuracy and boundary F1 (a hit within 1 s of a clip join), and the number of splices
found / clip joins; over several draws, the means, the paired differences to the baseline and the best of the four
on each draw, an oracle (``protocols.concat_summary``). ``--summarize`` prints the same for the draws of stored
results.json files, pooled (same settings, each draw once), without training; ``--against`` sets another setting's
runs of the same draws beside them, draw by draw, ``--split_by`` reports apart the draws where an action comes
from several recordings, and ``--by_recording`` those of each source recording (the shuffled trials' trial).
``--dataset regimes`` (or ``regimes_paired``) draws synthetic recordings in which
--num_actions regimes of motion recur (``synthetic.switching_regimes``), and ``--dataset s86_shuffled`` a
subject-86 development trial cut into pieces of 3-6 s and re-ordered (``subject86_trials.shuffled_trial``: its own
classes, more segments per class), both scored the same way. Results:
docs/results/concat_cmu.md, docs/results/heldout_draws.md, docs/results/synthetic_regimes.md,
docs/results/shuffled_trials.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from seq2seq_jax import fitting, flags, machine, protocols
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.segmentation import SegmentConfig

REPO = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--dataset",
        default="cmu",
        choices=("cmu", "h36m") + protocols.DRAWN_DATASETS,
        help="cmu: CMU action clips; regimes, regimes_paired: synthetic recordings in which --num_actions regimes of "
        "motion recur over --total_num_actions segments (regimes_paired: in pairs that share a posture); "
        "s86_shuffled: a subject-86 development trial (the seed picks which) cut into pieces and re-ordered",
    )
    p.add_argument("--num_actions", type=int, default=None, help="actions drawn (default 3)")
    p.add_argument("--total_num_actions", type=int, default=None, help="clips in all (default: num_actions)")
    p.add_argument("--actions", default=None, help="comma-separated action names instead of a random draw")
    p.add_argument("--split", default="train", choices=("train", "test"))
    blend = "blend each join away over this long (root aligned, cross-fade): no splice is left (0: plain joins)"
    p.add_argument("--blend", type=float, default=0.0, metavar="SECONDS", help=blend)
    flags.add_max_clip_flag(p)
    flags.add_turn_flag(p)
    p.add_argument("--seeds", type=int, default=None, help="sweep: seeds seed .. seed+N-1, mean and spread")
    p.add_argument(
        "--train_seed_offset",
        type=int,
        default=0,
        metavar="N",
        help="train each draw's models with seed (its draw's seed + N) instead of the draw's seed: the same draws, "
        "other initialisations and windows (how much a draw's score owes to its training seed); the models go to "
        "--train_dir/train_seed_offsetN",
    )
    flags.add_preset_flags(p, "concat_cmu", variants=True)  # --seed draws the actions and clips, and seeds training
    flags.add_together_flags(p, "the draws of --seeds")
    p.add_argument("--train_dir", default=str(REPO / "runs" / "concat_cmu"), help="checkpoints: a subfolder per draw")
    p.add_argument("--load", type=int, default=None, help="resume from (or evaluate) this saved step")
    p.add_argument("--threshold", type=float, default=1.0, help="MSE threshold of the reference's cut rule")
    p.add_argument(
        "--gen_video", action="store_true", help="write a GIF and an MP4 of the skeleton, embedding and labels"
    )
    p.add_argument("--video_dir", default=None, help="where videos go (default: --out)")
    p.add_argument("--out", default=str(REPO / "out" / "concat_cmu"))
    flags.add_data_flags(p)
    p.add_argument("--no_plots", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.add_argument(
        "--summarize",
        nargs="+",
        metavar="RESULTS_JSON",
        default=None,
        help="pool the draws of these stored results.json files (one setting) and print their summary; no training",
    )
    p.add_argument(
        "--split_by",
        default=None,
        metavar="ACTIONS",
        help="with --summarize: summarize apart the draws in which one of these comma-separated actions comes from"
        " two or more different recordings, and the other draws",
    )
    p.add_argument(
        "--by_recording",
        action="store_true",
        help="with --summarize: summarize apart the draws of each source recording (s86_shuffled draws: each trial)",
    )
    p.add_argument(
        "--against",
        nargs="+",
        metavar="RESULTS_JSON",
        default=None,
        help="with --summarize: results.json files of another setting on the same draws; ours against theirs, paired",
    )
    a = p.parse_args(argv)
    if a.dataset == "h36m":
        p.error(
            "the H3.6M data is licensed and not distributed; read your copy with "
            "seq2seq_jax.data.readers.read_h36m_txt and use the Python API"
        )
    flags.check_dataset_flags(p, a)
    flags.check_max_clip_flag(p, a)
    a.config = flags.resolve(p, a)
    flags.check_together_flags(p, a)
    return a


def _fits(a, seeds):
    """Yields (seed, drawn, ([(params, meta)] per model of the draw's ensemble, z, seconds)) per draw: trained (or
    resumed) one by one, or all at once with --together."""
    actions = [s for s in a.actions.split(",") if s] if a.actions else None
    cfg = a.config
    off = a.train_seed_offset  # its models in their own subfolder: a folder trained with another seed is not reused
    train_dir = Path(a.train_dir) / f"train_seed_offset{off}" if off else a.train_dir
    draws = (
        protocols.concat_draw(
            s,
            a.num_actions,
            a.total_num_actions,
            actions,
            a.split,
            train_dir,
            a.data_dir,
            a.mirror,
            blend_s=a.blend,
            max_clip_s=a.max_clip_s,
            turn_clips=a.turn_clips,
            dataset=a.dataset,
        )
        for s in seeds
    )
    n = cfg.train.models
    if a.together:
        drawn = list(draws)
        t0 = time.perf_counter()
        seqs, dirs, infos = zip(*drawn)
        kw = {"load_step": a.load, "progress": not a.quiet, "seeds": [s + off for s in seeds]}
        fits = fitting.fit_ensembles_together([q.frames for q in seqs], cfg.model, cfg.train, dirs, infos, **kw)
        print(f"trained {len(seeds) * n} models together in {time.perf_counter() - t0:.0f} s", flush=True)
        yield from zip(seeds, drawn, fits)
        return
    for s, (seq, workdir, info) in zip(seeds, draws):
        train = dataclasses.replace(cfg.train, seed=s + off)
        fit = fitting.fit_ensemble(seq.frames, cfg.model, train, workdir, info, load_step=a.load, progress=not a.quiet)
        yield s, (seq, workdir, info), fit


def _setting(doc: dict) -> dict:
    """What must agree for draws to be pooled: the data drawn and the preset (the training seed aside, which
    --seed sets per sweep). A field the file's version of the code did not have yet reads as its default (the
    behaviour that version had: files written before ModelConfig.root trained on the channels as given)."""
    a, preset = doc["args"], json.loads(json.dumps(doc["preset"]))
    for block, cls in (("model", ModelConfig), ("train", TrainConfig), ("segment", SegmentConfig)):
        if block in preset:
            for f in dataclasses.fields(cls):
                if f.default is not dataclasses.MISSING:
                    preset[block].setdefault(f.name, f.default)
    preset.get("train", {}).pop("seed", None)
    keys = ("dataset", "num_actions", "total_num_actions", "actions", "split", "blend", "max_clip_s")
    data = {k: a.get(k) for k in keys}
    data["turn_clips"] = bool(a.get("turn_clips"))  # files written before the flag: clips as recorded
    return {"data": data, "preset": preset}


def _differences(a, b, path="") -> list[str]:
    """The settings that differ between two ``_setting``s; a field only one of them has (added or removed by a
    later version of the code, which kept the behaviour of before as its default) is not compared."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) & set(b)) for d in _differences(a[k], b[k], f"{path}.{k}".strip("."))]
    return [] if a == b else [f"{path} {a!r} vs {b!r}"]


def _pool(paths) -> tuple[list[dict], dict]:
    """The draws of results.json files of one setting, sorted by seed, and that setting with the training-seed offsets
    of the files and the processors that ran them (``train_seed_offsets``, ``machines``; files may pool across
    them); raises ValueError naming the file that cannot be read, holds no draws, was run with other settings than
    the first, or repeats a draw."""
    rows, first, seen, offsets, machines = [], None, {}, set(), set()
    for path in paths:
        try:
            doc = json.loads(Path(path).read_text())
            runs, setting = doc["runs"], _setting(doc)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f"cannot read {path} as a concat_cmu.py results.json ({e!r})") from None
        if not runs:
            raise ValueError(f"{path} holds no draws")
        offsets.add(doc["args"].get("train_seed_offset") or 0)  # files written before the flag: the draws' seeds
        machines.add(((doc.get("machine") or {}).get("cpu") or {}).get("model") or "unknown")
        first = first or (path, setting)
        diff = _differences(first[1], setting)
        if diff:
            raise ValueError(
                f"{path} was run with other settings than {first[0]}: "
                + "; ".join(diff[:5])
                + ". Pool only draws of one setting (compare two settings with --against)"
            )
        for r in runs:
            if r["seed"] in seen:
                raise ValueError(f"draw {r['seed']} is in both {seen[r['seed']]} and {path}")
            seen[r["seed"]] = path
            rows.append(r)
    return sorted(rows, key=lambda r: r["seed"]), {
        **first[1],
        "train_seed_offsets": sorted(offsets),
        "machines": sorted(machines),
    }


def summarize(paths, split_by=None, against=None, by_recording=False) -> int:
    """Prints the rows and ``protocols.concat_summary`` of the draws stored in ``paths`` (results.json files of
    this script), pooled, and with ``split_by`` (action names) the summary of the draws where one of them comes from
    several recordings (``protocols.several_recordings``) and of the others apart; with ``by_recording`` those of
    each source recording apart (``protocols.strata``). ``against`` (results.json files
    of another setting, the same data): ours in ``paths`` against ours there, paired over the draws both hold.
    Returns 2 with a message when a file cannot be read, holds no draws, was run with other settings than the first
    of its pool, or repeats a draw, or when the two pools drew other data or share no draw."""
    try:
        rows, setting = _pool(paths)
        other, other_setting = _pool(against) if against else (None, None)
        groups = protocols.strata(rows, split_by, by_recording)
    except ValueError as e:
        print(f"--summarize: {e}", file=sys.stderr)
        return 2
    print(protocols.concat_header())
    for r in rows:
        print(protocols.concat_row(r))
    for i, (title, part) in enumerate(groups):
        if i:
            print(f"\n{title}:")
        if len(part) > 1:
            print(protocols.concat_summary(part))
    print(f"{len(rows)} draws from {len(paths)} file(s)")
    if other is None:
        return 0
    diff = _differences(setting["data"], other_setting["data"], "data")
    mine = {r["seed"]: r for r in rows}
    pairs = [
        {"ours": mine[r["seed"]]["ours"], "against": r["ours"], "clips": r["clips"]} for r in other if r["seed"] in mine
    ]
    if diff or not pairs:
        why = "drew other data: " + "; ".join(diff) if diff else "share no draw"
        print(f"--against: the two sets of results {why}; compare settings on the same draws", file=sys.stderr)
        return 2
    changed = _differences(setting["preset"], other_setting["preset"], "preset")
    changed += _differences(setting["train_seed_offsets"], other_setting["train_seed_offsets"], "train_seed_offset")
    changed += _differences(setting["machines"], other_setting["machines"], "machine")  # float rounding can move a draw
    print(f"\nours here - ours in --against ({'; '.join(changed) or 'the same settings'}), paired:")
    for title, part in protocols.strata(pairs, split_by, by_recording):
        if part:
            print(f"{title}: ARI {protocols.paired_text(protocols.paired(part, 'ours', 'against'))}")
    return 0


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.summarize:
        try:
            split_by = protocols.split_actions(a.split_by)
        except ValueError as e:
            print(e, file=sys.stderr)
            return 2
        return summarize(a.summarize, split_by, a.against, a.by_recording)
    if a.split_by or a.against or a.by_recording:
        print("--split_by, --by_recording and --against go with --summarize", file=sys.stderr)
        return 2
    if not flags.start_cpu_devices(a):
        return 2
    seed0 = a.config.train.seed
    seeds = list(range(seed0, seed0 + (a.seeds or 1)))
    rows, t0 = [], time.perf_counter()
    print(protocols.concat_header())

    def score_all():
        for s, (seq, workdir, _), (fits, z, t_fit) in _fits(a, seeds):
            out = None if a.no_plots else a.out
            video = (a.video_dir or a.out) if a.gen_video else None
            r = protocols.score_concat(seq, fits, z, a.config.segment, s, a.threshold, out, workdir.name, video)
            r.update({"seconds_fit": t_fit, "checkpoint": str(workdir)})
            if a.together:
                r["trained_together"] = True  # seconds_fit: the whole group's training
            rows.append(r)
            print(protocols.concat_row(r), flush=True)

    stopped = flags.run_guarded(score_all)
    if stopped is not None:
        return stopped
    if len(rows) > 1:
        print(protocols.concat_summary(rows))
    total = time.perf_counter() - t0
    info = machine.describe()
    print(f"{len(rows)} sequences in {total:.0f} s on {machine.summary(info)}")
    args = {k: v for k, v in vars(a).items() if k != "config"}
    path = fitting.write_json(
        Path(a.out) / "results.json",
        {"runs": rows, "args": args, "preset": dataclasses.asdict(a.config), "seconds_total": total, "machine": info},
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
