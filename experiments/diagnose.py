"""Where our segmentation loses, and where the frames-only baseline does: change points or clustering
(``seq2seq_jax.diagnostics``), on the subject-86 dev trials and on blended case-(i) sequences.

    python experiments/diagnose.py                                     # the shipped subject-86 models (seed 0)
    python experiments/diagnose.py --s86_dirs checkpoints/subject86 runs/s86_seed1 runs/s86_seed2
    python experiments/diagnose.py --s86_dirs none --blend_dir /tmp/blend/ckpt --num_actions 3 --total_num_actions 5
    python experiments/diagnose.py --s86_dirs none --blend_dir /tmp/blend/ckpt --first_seed 10   # draws 10 .. 19
    python experiments/diagnose.py --s86_dirs none --blend_dir /tmp/rg/ckpt --dataset regimes_paired \
        --num_actions 4 --total_num_actions 8         # concat_cmu.py --dataset regimes_paired's draws
    python experiments/diagnose.py --s86_dirs none --blend_dir /tmp/sh/ckpt --dataset s86_shuffled --seeds 12
    python experiments/diagnose.py --headings     # where each CMU action recording faces and goes; no model
    python experiments/diagnose.py --s86_dirs none --blend_dir /tmp/blend/ckpt --first_seed 14 --seeds 1 --per_clip

Subject 86: one folder of trial_NN checkpoints per seed (``experiments/subject86.py --seed N --train_dir DIR``).
Blended draws: the checkpoints of ``experiments/concat_cmu.py --blend 0.5 --seeds N [--seed S] --train_dir DIR``
(same --num_actions, --total_num_actions, --seeds, and --first_seed S). The segmentation is the --preset's for both
(one setting for all recordings; its segmentation flags, such as --max_mean_segment_s, change it); the frames' view is
the baseline's. Of an ensemble (``--models``), the first
model is decomposed (the decomposition is of one embedding, not of the consensus). For each, the mean over trials
or draws of:

- pipeline: the segmentation (Hungarian, ARI, boundary F1);
- cuts + true labels: our change points with each piece labelled by its majority true class (the cuts' ceiling);
- true cuts + clustering: the true segments clustered into k by each segment descriptor (the clustering's
  ceiling), mean / std / mean_std / motion of the first model's states, spectrum of the input frames (the only
  descriptor of the frames, ``segment_stats="spectrum"``);
- our cuts + clustering: our change points' pieces clustered by each descriptor (the preset's is the pipeline);
- spurious and missed change points (between two pieces of one majority true class; true boundaries' tolerance
  windows no change point is matched to), the preset's clustering of the pieces left without the spurious ones,
  and of ours, how many of the spurious change points the frames' own search places too (two views seeing one
  change in the motion);
- lag: how late the change points come, median and mean over the true boundaries that have one in their tolerance
  window (seconds from the boundary to the nearest change point there; ``diagnostics.offsets``).

A third row per data set ("fcuts") does the same for the change points the same search places in the frames
alone, the pieces still clustered by the embedding (its first columns: the preset's descriptor on those pieces):
what the embedding adds to the change points, apart from the clustering.

Of an ensemble, a second table (``diagnostics.ensemble_views``): in each view of the consensus (``motion_votes``),
the models' mean ARI, their agreement with one another (mean pairwise ARI, no labels needed) and that view's
consensus alone; the pipeline (with the frames as a voter where the preset has them); and the view whose models
agree most, chosen per item; and the pipeline searching at least as many change points as the truth has changes of
class (an oracle of their number). A third: every voter of the consensus alone (each model in each view, and the frames'
own segmentation where the preset has ``frames_votes``), the voter whose classes the median consensus took, and the
best voter (a ceiling for any rule that picks one voter per item). With ``--per_clip``, for each trial or draw of
an ensemble: its true pieces (a blend's clips, each apart, with their lengths) and, for every voter and the pipeline,
the class each piece gets (a second after "+" where the first holds less than 80% of it): which clips each voter
puts together, and which it splits. With ``--counts`` (``diagnostics.count_oracle``), a last table: the pipeline with
every change-point search held to each number from k - 1 to 15 in turn, the best number for each item (an oracle of
the number: no rule that sees no labels and gives every voter one number can score more with this clustering and
consensus), and the best single voter at any number. With ``--curves`` (``diagnostics.cost_curves``), last: the
first model's two curves the number of change points is read from (the kernel cost and the cost of k classes over
the pieces, each scaled to its value at k - 1 change points), each curve's elbow, the number placed and the truth's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from seq2seq_jax import diagnostics, embed, fitting, flags, machine, metrics, protocols, train
from seq2seq_jax.data import subject86_trials as s86
from seq2seq_jax.segmentation.config import SEGMENT_STATS

REPO = Path(__file__).resolve().parents[1]


def _row(name: str, items: list[dict], stats: str) -> str:
    def m(path, key):
        vals = []
        for it in items:
            v = it
            for p in path:
                v = v[p]
            vals.append(v[key])
        return np.mean(vals)

    out = []
    for view, pre in (("ours", ""), ("frames", ""), ("fcuts", "frames_")):  # fcuts: ours on the frames' cuts
        v = "ours" if pre else view
        own = [m((v, pre + "cuts_clustered", s), "ari") for s in SEGMENT_STATS]
        seg = (v, pre + "cuts_clustered", stats) if pre else (v, "pipeline")  # the preset's descriptor on those cuts
        pipe = [m(seg, k) for k in ("acc_hungarian", "ari", "boundary_f1")]
        cut = [m((v, pre + "cuts_true_labels"), k) for k in ("ari", "boundary_f1")]
        clu = [m((v, "true_cuts_clustered", s), "ari") for s in SEGMENT_STATS]
        cuts = np.mean([it[v][pre + "cuts"] for it in items])
        wrong = "        -"  # counted for the pipeline's own change points only
        if not pre:
            wrong = f"{m((v,), 'spurious_cuts'):4.1f} {m((v,), 'missed_cuts'):4.1f} "
            wrong += f"{m((v, 'cuts_without_spurious'), 'ari'):.3f}"
            wrong += f" {m((v,), 'spurious_also_in_frames'):4.1f}" if v == "ours" else "     "
            lags = [o for it in items for o in it[v]["cut_offsets_s"]]
            wrong += f" | {np.median(lags):+.3f} {np.mean(lags):+.3f}" if lags else " |      -      -"
        out.append(
            f"{name:18s} {view:6s} {pipe[0]:.3f} {pipe[1]:.3f} {pipe[2]:.3f} | {cut[0]:.3f} {cut[1]:.3f} | "
            + " ".join(f"{c:.3f}" for c in clu)
            + " | "
            + " ".join(f"{c:.3f}" for c in own)
            + f" | {cuts:4.1f} / {np.mean([it[v]['true_cuts'] for it in items]):4.1f} | {wrong}"
        )
    return "\n".join(out)


HEADER = (
    "data               view   Hung  ARI   bF1   | cuts+true labels ARI bF1 | true cuts clustered ARI: "
    + " ".join(SEGMENT_STATS)
    + " | our cuts clustered ARI: "
    + " ".join(SEGMENT_STATS)
    + " | cuts / true | spurious missed, ARI without the spurious, (ours) spurious the frames place too"
    + " | lag s: median mean"
)


def _ensemble_rows(name: str, items: list[dict]) -> str:
    ens = [it["ensemble"] for it in items if "ensemble" in it]
    if not ens:
        return ""
    cells = []
    for view in ens[0]["views"]:
        v = [e["views"][view] for e in ens]
        models, agree = np.mean([np.mean(x["models"]) for x in v]), np.mean([x["agreement"] for x in v])
        cells.append(
            f"{view}: models {models:.3f} agree {agree:.3f} consensus {np.mean([x['consensus']['ari'] for x in v]):.3f}"
        )
    pick = np.mean([e["views"][e["by_agreement"]]["consensus"]["ari"] for e in ens])
    all_ = np.mean([e["consensus"]["ari"] for e in ens])
    counted = np.mean([e["true_count"]["ari"] for e in ens])
    line = f"{name:18s} ensemble ARI | " + " | ".join(cells) + f" | pipeline {all_:.3f} | most agreed view {pick:.3f}"
    line += f" | at least the true number of change points {counted:.3f}"
    voters = {n: np.mean([e["voters"][n] for e in ens]) for n in ens[0]["voters"]}
    median = np.mean([e["voters"][e["median_voter"]] for e in ens])
    best = np.mean([e["voters"][e["best_voter"]] for e in ens])
    return (
        line
        + f"\n{name:18s} voters ARI | "
        + " ".join(f"{n} {v:.3f}" for n, v in voters.items())
        + f" | the median's voter {median:.3f} | the best voter {best:.3f}"
    )


def _decompose(fits, z, true_T, k, fps, windows, cfg, pieces_T=None, counts=False, curves=False) -> dict:
    """The first model's decomposition, and with an ensemble its views (``diagnostics.ensemble_views``; the true
    pieces between ``pieces_T``, else the runs of the truth); with ``counts`` the pipeline at each fixed number of
    change points (``diagnostics.count_oracle``); with ``curves`` the first model's two cost curves
    (``diagnostics.cost_curves``)."""
    embs = [embed.collect(p, m.model, z) for p, m in fits]
    it = diagnostics.decompose_embedding(embs[0], z, true_T, k, fps, windows, cfg, protocols.BASELINE)
    if len(embs) > 1:
        it["ensemble"] = diagnostics.ensemble_views(embs, z, true_T, k, fps, windows, cfg, pieces_T=pieces_T)
    if counts:
        it["counts"] = diagnostics.count_oracle(embs, z, true_T, k, fps, cfg)
    if curves:
        it["curves"] = diagnostics.cost_curves(embs[0], z, true_T, k, fps, cfg)
    return it


def _curve_rows(title: str, c: dict, k: int) -> str:
    """``--curves``: one item's two cost curves, each scaled to its value at k - 1 change points, and the numbers."""
    ks = [c["kernel"][m] for m in range(k - 1, len(c["kernel"]))]
    if not ks:
        return f"{title}: k {k}, but segments of min_seg_s leave room for only {len(c['kernel']) - 1} change points"
    row = lambda v: " ".join(f"{x / max(v[0], 1e-12):.3f}" for x in v)  # noqa: E731
    return (
        f"{title}: k {k}, true changes {c['true']}, elbows: kernel {c['kernel_elbow']}, classes {c['class_elbow']}; "
        f"placed {c['placed']}\n  change points  {' '.join(str(m) for m in range(k - 1, len(c['kernel'])))}\n"
        f"  kernel cost    {row(ks)}\n  class cost     {row(c['classes'])}"
    )


def _count_rows(name: str, items: list[dict]) -> str:
    """``--counts``: the pipeline (the preset's own number of change points), at the best fixed number per item, and
    at each fixed number (mean over the items that have it), and the best single voter at any number."""
    got = [it for it in items if "counts" in it]
    if not got:
        return ""
    own = np.mean([(it["ensemble"]["consensus"] if "ensemble" in it else it["ours"]["pipeline"])["ari"] for it in got])
    curve = {}
    for it in got:
        for n, a in zip(it["counts"]["counts"], it["counts"]["pipeline"]):
            curve.setdefault(n, []).append(a)
    chosen = " ".join(str(it["counts"]["best_count"]) for it in got)
    return (
        f"{name:18s} change points ARI | the preset's number {own:.3f} | the best fixed number per item (an oracle) "
        f"{np.mean([it['counts']['best'] for it in got]):.3f} (numbers: {chosen}) | the best voter at any number "
        f"{np.mean([it['counts']['best_voter']['ari'] for it in got]):.3f}\n{name:18s} at each fixed number | "
        + " ".join(f"{n}: {np.mean(v):.3f}" for n, v in curve.items())
    )


def _pieces(title: str, pieces: dict, names, fps: float, n_frames: int) -> str:
    """Which true pieces each voter puts together (``--per_clip``): per piece, its class in that voter's labels, and
    a second class after "+" where the first holds less than 80% of the piece (class numbers are each voter's
    own)."""
    bounds = [0, *pieces["cuts"], n_frames]
    head = ", ".join(f"{names[c]} {(b - a) / fps:.1f}s" for c, a, b in zip(pieces["true"], bounds, bounds[1:]))
    rows = [f"{title}: true pieces {head}"]
    for key, shares in pieces["shares"].items():
        cells = []
        for sh in shares:
            top = np.argsort(sh)[::-1]
            cells.append(f"{top[0]}" + (f"+{top[1]}" if sh[top[0]] < 0.8 else ""))
        rows.append(f"  {key:15s} " + " ".join(f"{c:4s}" for c in cells))
    return "\n".join(rows)


def _headings(data) -> None:
    """Prints, for every CMU action recording the blends draw from, where its root faces and goes: the circular
    mean of its heading (``kinematics.heading``, degrees) and the length of that mean (1: always the same way), how
    far the root ends from where it started across the floor, and the mean height and lean (``upright_root``)."""
    from seq2seq_jax import kinematics
    from seq2seq_jax.data import cmu

    print("recording                 frames  heading deg  same way  start-end distance  height  lean x  lean z")
    for files in cmu.available_actions(**data).values():
        for path in files:
            x = cmu.read_recording(path, **data)
            unit = np.exp(1j * kinematics.heading(x)).mean()
            far = np.linalg.norm(x[-1, kinematics.FLOOR_AXES] - x[0, kinematics.FLOOR_AXES])
            up = kinematics.upright_root(x)[:, :3].mean(0)
            name = Path(path).stem
            print(
                f"{name:25s} {len(x):6d}  {np.degrees(np.angle(unit)):11.0f}  {abs(unit):8.2f}  {far:18.1f}"
                f"  {up[0]:6.2f}  {up[1]:+6.3f}  {up[2]:+6.3f}"
            )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    flags.add_preset_flags(p, "mocap", model=False, train=False)  # the segmentation settings: a preset and its flags
    p.add_argument("--s86_dirs", nargs="+", default=[str(REPO / "checkpoints" / "subject86")], help="'none': skip")
    p.add_argument("--trial", nargs="+", default=["all"], help="subject-86 trials (default: all that can be had)")
    p.add_argument("--blend_dir", default=None, help="checkpoints of concat_cmu.py --blend draws")
    p.add_argument("--blend", type=float, default=0.5)
    p.add_argument(
        "--dataset",
        default="cmu",
        choices=("cmu",) + protocols.DRAWN_DATASETS,
        help="what --blend_dir's draws are (concat_cmu.py --dataset): CMU clips, synthetic regimes or shuffled trials",
    )
    flags.add_max_clip_flag(p)
    flags.add_turn_flag(p)
    p.add_argument("--num_actions", type=int, default=None, help="default 3")
    p.add_argument("--total_num_actions", type=int, default=None, help="default 5")
    p.add_argument("--seeds", type=int, default=10, help="blended draws: N of them, from --first_seed")
    p.add_argument("--first_seed", type=int, default=0, help="the first blended draw's seed")
    p.add_argument("--out", default=None, help="write the per-item decompositions and the machine here (JSON)")
    p.add_argument(
        "--headings",
        action="store_true",
        help="print where each CMU action recording faces and goes (no model) and stop",
    )
    p.add_argument(
        "--counts",
        action="store_true",
        help="also segment with every change-point search held to each number from k - 1 to 15: the best number per "
        "trial or draw is an oracle for any rule that gives every voter one number (slow: one pipeline per number)",
    )
    p.add_argument(
        "--curves",
        action="store_true",
        help="also print the first model's two cost curves for each trial or draw (the kernel cost and the cost of k "
        "classes over the pieces, from k - 1 change points on) with each curve's elbow, the number placed and the "
        "truth's (docs/results/class_elbow.md)",
    )
    p.add_argument(
        "--per_clip",
        action="store_true",
        help="of an ensemble, also print for each trial or draw which true pieces (a blend's clips) each voter and "
        "the pipeline put in one class",
    )
    flags.add_data_flags(p)
    a = p.parse_args(argv)
    if a.headings:
        _headings({"data_dir": a.data_dir, "mirror": a.mirror})
        return 0
    flags.check_dataset_flags(p, a, 3, 5)
    flags.check_max_clip_flag(p, a)
    cfg = flags.resolve(p, a).segment
    data = {"data_dir": a.data_dir, "mirror": a.mirror}
    results, ensemble, per_clip, counts, curves = {}, "", [], "", []
    print(HEADER)
    if a.s86_dirs != ["none"]:
        items = []
        for d in a.s86_dirs:
            for t in protocols.trials_with_checkpoints(s86.resolve_trials(a.trial, **data), Path(d)):
                tr = s86.load_trial(t, **data)
                fits = [train.load(m)[:2] for m in fitting.saved_members(Path(d) / f"trial_{t}")]
                z = fits[0][1].norm.apply(tr.frames)
                it = _decompose(fits, z, tr.labels, tr.k, tr.fps, tr.windows, cfg, counts=a.counts, curves=a.curves)
                items.append({"trial": t, "models": str(d), **it})
                if a.curves:
                    curves.append(_curve_rows(f"trial {t} ({d})", it["curves"], tr.k))
                if "ensemble" in it:
                    title, names = f"trial {t} ({d})", tr.class_names
                    per_clip.append(_pieces(title, it["ensemble"]["pieces"], names, tr.fps, len(z)))
        if items:
            print(_row(f"subject86 ({len(items)})", items, cfg.segment_stats))
            ensemble = _ensemble_rows(f"subject86 ({len(items)})", items)
            counts = _count_rows(f"subject86 ({len(items)})", items)
            results["subject86"] = items
    if a.blend_dir:
        items = []
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            seq, ckpt, _ = protocols.concat_draw(
                seed,
                a.num_actions,
                a.total_num_actions,
                None,
                "train",
                a.blend_dir,
                blend_s=a.blend,
                max_clip_s=a.max_clip_s,
                turn_clips=a.turn_clips,
                dataset=a.dataset,
                **data,
            )
            fits = [train.load(m)[:2] for m in fitting.saved_members(ckpt)]
            z = fits[0][1].norm.apply(seq.frames)
            windows = metrics.windows_around(seq.boundaries, int(protocols.CONCAT_TOLERANCE_S * seq.fps))
            it = _decompose(
                fits, z, seq.labels, len(seq.actions), seq.fps, windows, cfg, seq.boundaries, a.counts, a.curves
            )
            items.append({"seed": seed, **it})
            if a.curves:
                curves.append(_curve_rows(f"draw {seed}", it["curves"], len(seq.actions)))
            if "ensemble" in it:
                per_clip.append(_pieces(f"draw {seed}", it["ensemble"]["pieces"], seq.actions, seq.fps, len(z)))
        size = "" if a.dataset == protocols.SHUFFLED_DATASET else f" {a.num_actions}a{a.total_num_actions}c"
        name = f"{'blend' if a.dataset == 'cmu' else a.dataset}{size} ({len(items)})"
        print(_row(name, items, cfg.segment_stats))
        ensemble += "\n" + _ensemble_rows(name, items)
        counts += "\n" + _count_rows(name, items)
        results[name] = items
    if ensemble.strip():
        print("\n" + ensemble.strip())
    if counts.strip():
        print("\n" + counts.strip())
    if a.per_clip:
        print("\n" + ("\n".join(per_clip) or "--per_clip: no ensemble among these models, so no voters to show"))
    if a.curves:
        print("\ncost curves of the first model, each scaled to its value at k - 1 change points\n" + "\n".join(curves))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        results["machine"] = machine.describe()
        Path(a.out).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
