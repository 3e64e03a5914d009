"""The two experiments' scoring protocols, side by side: subject 86 (continuous recordings, Barbic et al.'s
segmentation) and case (i) (CMU clips concatenated). Each scores ours (only k given) beside a baseline or the
reference's rule on the same sequence, and formats the rows the scripts print.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import embed, fitting, metrics, plots, segmentation
from seq2seq_jax.checkpoint import CheckpointError
from seq2seq_jax.data import cmu, synthetic
from seq2seq_jax.data import subject86_trials as subject86
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.sources import DataError
from seq2seq_jax.presets import Preset

ORACLE_NOTE = "uses the ground-truth boundaries (the reference's protocol)"
# The strongest off-the-shelf k-only method of ../docs BENCHMARKS: ruptures KernelCPD (RBF) on PCA (95%) of the
# normalized frames at 30 fps, change points at the elbow, Ward clustering of the segment means into k
# (no smoothing in time, no minimum number of segments: those are ours).
BASELINE = segmentation.SegmentConfig(linkage="ward", frames_weight=0.0, cpd_smooth_s=0.0, min_segments_over_k=0)
BASELINE_NOTE = "ruptures KernelCPD on PCA of the frames, elbow, Ward on segment means (no model)"
FRAMES_NOTE = "our segmentation, the same settings, on PCA of the frames as the models see them (no model)"
CONCAT_TOLERANCE_S = 1.0  # case (i): a predicted boundary within this of a clip join is a hit
REGIME_DATASETS = ("regimes", "regimes_paired")  # concat_draw's synthetic draws (synthetic.switching_regimes)
SHUFFLED_DATASET = "s86_shuffled"  # concat_draw's development trials cut and re-ordered (subject86.shuffled_trial)
DRAWN_DATASETS = REGIME_DATASETS + (SHUFFLED_DATASET,)  # concat_draw's draws other than CMU clips


def baseline_labels(frames_TxD, k: int, fps: float):
    """The baseline's labels (``BASELINE``) of the frames as given, z-scored: whatever a model's ``root``, the
    baseline sees every channel."""
    return segmentation.segment_embedding(NormStats.fit(frames_TxD).apply(frames_TxD), k, fps, BASELINE)


def frames_only(z_TxD, k: int, fps: float, seg_cfg: segmentation.SegmentConfig):
    """Our segmentation with the same settings on the normalized frames instead of an embedding (no model): what
        the embedding adds over the rest of the pipeline. The frames are segmented as one model's embedding (every
        frame covered) by ``segment_ensemble``, so that with ``motion_votes`` both views vote as in an ensemble (and
    with ``frames_votes`` the frames do not vote twice)."""
    z = np.asarray(z_TxD)
    frames = embed.Embedding(z, np.zeros(len(z)), np.ones(len(z), bool), None, None, None)
    return segmentation.segment_ensemble(
        [frames], k, fps, dataclasses.replace(seg_cfg, frames_weight=0.0, frames_votes=False), frames_TxD=z
    )


# ----------------------------------------------------------------------------------------------- subject 86
def subject86_models(
    trials,
    train_dir: Path,
    preset: Preset,
    restore: bool = False,
    together: bool = False,
    load_step: int | None = None,
    data_dir=None,
    mirror=None,
    progress: bool = True,
    data_parallel: bool = False,
):
    """Yields (Trial, [(params, meta)] one per model of the trial's ensemble (``preset.train.models``), seconds of
    fitting, folder) per trial: restored, trained one by one (each as soon as it is ready), or, with ``together``,
    all trained at once first (``fitting.fit_ensembles_together``)."""
    dirs = [Path(train_dir) / f"trial_{tr}" for tr in trials]
    infos = [{"subject86_trial": tr} for tr in trials]
    if together:
        loaded = [subject86.load_trial(tr, data_dir, mirror) for tr in trials]
        t0 = time.perf_counter()
        fits = fitting.fit_ensembles_together(
            [t.frames for t in loaded], preset.model, preset.train, dirs, infos, load_step, progress
        )
        print(f"trained {len(trials)} trials together in {time.perf_counter() - t0:.0f} s", flush=True)
        for t, (members, _, seconds), d in zip(loaded, fits, dirs):
            yield t, members, seconds, d
        return
    for tr, d, info in zip(trials, dirs, infos):
        try:
            trial = subject86.load_trial(tr, data_dir, mirror)
            fits, _, seconds = fitting.fit_ensemble(
                trial.frames,
                preset.model,
                preset.train,
                d,
                info,
                restore=restore,
                load_step=load_step,
                progress=progress,
                data_parallel=data_parallel,
            )
        except (DataError, CheckpointError) as err:
            raise type(err)(f"trial {tr}: {err}") from None
        yield trial, fits, seconds, d


def trials_with_checkpoints(trials, train_dir: Path) -> list[str]:
    """The trials that have a checkpoint folder (one model, or an ensemble's first) in ``train_dir``; says which it
    skips."""

    def saved(t):
        d = Path(train_dir) / f"trial_{t}"
        return (d / "checkpoints").is_dir() or (d / "model_0" / "checkpoints").is_dir()

    missing = [t for t in trials if not saved(t)]
    if missing:
        print(f"no checkpoint in {train_dir} for trials {' '.join(missing)}: skipped (train them without --restore)")
    return [t for t in trials if t not in missing]


def score_subject86(
    trial: subject86.Trial,
    fits,
    seg_cfg: segmentation.SegmentConfig,
    out_dir=None,
    oracle: bool = True,
    baseline: bool = True,
) -> dict:
    """Both protocols on one trial: ours (only k) and, when ``oracle``, the reference's (ground-truth cuts);
    with ``baseline``, the off-the-shelf baseline on the same frames (ruptures on PCA of the frames). ``fits``:
    [(params, meta)], one per model of the trial's ensemble (segmented by ``segmentation.segment_ensemble``); the
    reference's protocol is of one model, the first.

    Returns a JSON-able dict with the metrics, timings and the output files.
    """
    params, meta = fits[0]
    z = meta.norm.apply(trial.frames)
    t0 = time.perf_counter()
    embs = [embed.collect(p, m.model, z) for p, m in fits]
    t_embed = time.perf_counter() - t0
    pred = segmentation.segment_ensemble(embs, trial.k, trial.fps, seg_cfg, frames_TxD=z)
    t_seg = time.perf_counter() - t0 - t_embed
    res = {
        "trial": trial.trial,
        "k": trial.k,
        "frames": len(z),
        "models": len(fits),
        "ours": metrics.all_metrics(trial.labels, pred, trial.windows),
        "seconds_embed": t_embed,
        "seconds_segment": t_seg,
    }
    if baseline:
        base = baseline_labels(trial.frames, trial.k, trial.fps)
        res["baseline"] = {**metrics.all_metrics(trial.labels, base, trial.windows), "note": BASELINE_NOTE}
        fr = frames_only(z, trial.k, trial.fps, seg_cfg)
        res["frames_ours"] = {**metrics.all_metrics(trial.labels, fr, trial.windows), "note": FRAMES_NOTE}
    oracle_pred = None
    if oracle:
        oracle_pred = segmentation.reference_oracle(params, meta.model, z, trial.segments(), trial.k)
        res["oracle"] = {**metrics.all_metrics(trial.labels, oracle_pred, trial.windows), "note": ORACLE_NOTE}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        name = f"trial_{trial.trial}"
        files = [
            plots.segmentation_bars(
                out / f"{name}_segmentation.png",
                trial.labels,
                pred,
                trial.fps,
                f"subject 86 trial {trial.trial}: ours (only k = {trial.k} given)",
                trial.class_names,
            )
        ]
        if oracle_pred is not None:
            files.append(
                plots.segmentation_bars(
                    out / f"{name}_segmentation_oracle.png",
                    trial.labels,
                    oracle_pred,
                    trial.fps,
                    f"trial {trial.trial}: reference protocol ({ORACLE_NOTE})",
                    trial.class_names,
                )
            )
        p3, _ = embed.pca(embed.combine(embs).states[::4], 3)
        files.append(
            plots.embedding_3d(
                out / f"{name}_pca.png", p3, trial.labels[::4], pred[::4], f"trial {trial.trial}: decoder states, PCA"
            )
        )
        np.savez_compressed(
            out / f"{name}_labels.npz",
            true=trial.labels,
            ours=pred,
            **({"oracle": oracle_pred} if oracle_pred is not None else {}),
        )
        res["files"] = [str(f) for f in files]
    return res


SUBJECT86_COLS = (
    ("acc_hungarian", "Hung"),
    ("acc_first", "1st"),
    ("ari", "ARI"),
    ("nmi", "NMI"),
    ("boundary_f1", "bF1"),
)


def _fmt86(m):
    return " ".join(f"{m[k]:5.3f}" for k, _ in SUBJECT86_COLS) + f" {m['n_segments']:4d}/{m['n_segments_true']:<3d}"


def subject86_row(r: dict) -> str:
    """One trial's line, printed as soon as it is scored."""
    s = f"trial {r['trial']}  ours: {_fmt86(r['ours'])}"
    if "oracle" in r:
        s += f" | GT-boundaries: {_fmt86(r['oracle'])}"
    return s


def subject86_table(rows: list[dict]) -> str:
    """The table of every trial, the means, and the baseline's mean."""
    oracle = "oracle" in rows[0]
    head = " ".join(f"{n:>5s}" for _, n in SUBJECT86_COLS) + "  segs   "
    lines = [
        "",
        f"{'':5s}  ours (only k given)".ljust(48) + ("| reference protocol (uses GT boundaries)" if oracle else ""),
        f"trial  {head}" + (f"| {head}" if oracle else ""),
    ]
    for r in rows:
        lines.append(f"{r['trial']:5s}  {_fmt86(r['ours'])}  " + (f"| {_fmt86(r['oracle'])}" if oracle else ""))
    mean = {k: float(np.mean([r["ours"][k] for r in rows])) for k, _ in SUBJECT86_COLS}
    s = f"{'mean':5s}  " + " ".join(f"{mean[k]:5.3f}" for k, _ in SUBJECT86_COLS)
    if oracle:
        mo = {k: float(np.mean([r["oracle"][k] for r in rows])) for k, _ in SUBJECT86_COLS}
        s += " " * 11 + "| " + " ".join(f"{mo[k]:5.3f}" for k, _ in SUBJECT86_COLS)
    lines.append(s)
    if "baseline" in rows[0]:
        mb = {k: float(np.mean([r["baseline"][k] for r in rows])) for k, _ in SUBJECT86_COLS}
        lines.append(f"baseline ({BASELINE_NOTE}), mean: " + ", ".join(f"{n} {mb[k]:.3f}" for k, n in SUBJECT86_COLS))
    if "frames_ours" in rows[0]:
        mf = {k: float(np.mean([r["frames_ours"][k] for r in rows])) for k, _ in SUBJECT86_COLS}
        lines.append(f"frames only ({FRAMES_NOTE}), mean: " + ", ".join(f"{n} {mf[k]:.3f}" for k, n in SUBJECT86_COLS))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- case (i)
def concat_draw(
    seed: int,
    num_actions: int,
    total_num_actions: int | None,
    actions,
    split: str,
    train_dir,
    data_dir=None,
    mirror=None,
    blend_s: float = 0.0,
    max_clip_s: float | None = None,
    dataset: str = "cmu",
    turn_clips: bool = False,
):
    """(sequence, its checkpoint folder, data description) of one case-(i) draw (joins blended over
    ``blend_s`` seconds when > 0: ``cmu.blend_clips``; recordings cut to ``max_clip_s`` seconds when given:
    ``cmu.crop_windows``; each clip turned about the vertical with ``turn_clips``). ``dataset`` "regimes" or
    "regimes_paired": a synthetic draw instead (``synthetic.switching_regimes``: ``num_actions`` regimes in
    ``total_num_actions`` segments, the second with regimes in pairs that share a posture); ``actions``, ``split``,
    ``max_clip_s`` and ``turn_clips`` are CMU's only. ``dataset`` "s86_shuffled": a subject-86 development trial
    cut into pieces and re-ordered (``subject86.shuffled_trial``; the seed picks the trial and the cuts, so
    ``num_actions`` and ``total_num_actions`` must be None)."""
    if dataset == SHUFFLED_DATASET:
        if actions or max_clip_s or turn_clips or num_actions is not None or total_num_actions is not None:
            raise DataError(
                f"--dataset {dataset}: the seed picks the trial, its classes and its pieces; leave out --actions, "
                "--max_clip_s, --turn_clips, --num_actions and --total_num_actions"
            )
        seq = subject86.shuffled_trial(seed, blend_s, data_dir, mirror)
        trial = seq.clips[0][1].split()[-1]
        name = f"{dataset}_seed{seed}_trial{trial}_{len(seq.actions)}k_{len(seq.clips)}segments_blend{blend_s:g}"
        info = {"subject86_shuffled": trial, "seed": seed, "blend_s": blend_s, "pieces": [list(c) for c in seq.crops]}
        return seq, Path(train_dir) / name, info
    if dataset in REGIME_DATASETS:
        if actions or max_clip_s or turn_clips:
            raise DataError(
                f"--dataset {dataset} draws its regimes: leave out --actions, --max_clip_s and --turn_clips"
            )
        seq = synthetic.switching_regimes(
            seed, num_actions, total_num_actions, blend_s, shared_postures=dataset == "regimes_paired"
        )
        name = f"{dataset}_seed{seed}_{num_actions}k_{len(seq.clips)}segments_blend{blend_s:g}"
        return seq, Path(train_dir) / name, {"synthetic": dataset, "seed": seed, "blend_s": blend_s}
    seq = cmu.make_sequence(
        seed, num_actions, total_num_actions, actions, split, data_dir, mirror, blend_s, max_clip_s, turn_clips
    )
    name = (
        f"seed{seed}_"
        + "-".join(seq.actions)
        + f"_{len(seq.clips)}clips"
        + (f"_blend{blend_s:g}" if blend_s else "")
        + (f"_max{max_clip_s:g}s" if max_clip_s else "")
        + ("_turned" if turn_clips else "")
    )
    info = {
        "case_i_clips": [c[1] for c in seq.clips],
        **({"blend_s": blend_s} if blend_s else {}),
        **({"case_i_crops": [list(c) for c in seq.crops], "max_clip_s": max_clip_s} if max_clip_s else {}),
        **({"case_i_turns": list(seq.turns)} if turn_clips else {}),
    }
    return seq, Path(train_dir) / name, info


def score_concat(
    seq: cmu.Sequence,
    fits,
    z,
    seg_cfg: segmentation.SegmentConfig,
    seed: int = 0,
    threshold: float = 1.0,
    out_dir=None,
    name: str = "draw",
    video_dir=None,
) -> dict:
    """Ours (k = the number of actions; cut at the splices found in the frames) and the reference's cut rule
    (windows cut where the prediction error exceeds ``threshold``) on one draw; plots into ``out_dir`` and a
    GIF/MP4 into ``video_dir`` when given. ``fits``: [(params, meta)], one per model of the draw's ensemble
    (segmented by ``segmentation.segment_ensemble``); the reference's rule is of one model, the first."""
    k = len(seq.actions)
    windows = metrics.windows_around(seq.boundaries, int(CONCAT_TOLERANCE_S * seq.fps))
    params, meta = fits[0]
    embs = [embed.collect(p, m.model, z) for p, m in fits]
    found = segmentation.states_splices(embs[0], z, seq.fps, seg_cfg)  # the models share their covered frames
    ours = segmentation.segment_ensemble(embs, k, seq.fps, seg_cfg, seed=seed, frames_TxD=z, splices_T=found)
    ref, cuts = segmentation.reference_cut_rule(params, meta.model, z, k, threshold)
    base = baseline_labels(seq.frames, k, seq.fps)
    fr = frames_only(z, k, seq.fps, seg_cfg)
    res = {
        "seed": seed,
        "actions": list(seq.actions),
        "clips": [list(c) for c in seq.clips],
        "crops": [list(c) for c in seq.crops],
        "frames": len(z),
        "models": len(fits),
        "ours": {**metrics.all_metrics(seq.labels, ours, windows), "splices": found.tolist()},
        "reference_cut_rule": {**metrics.all_metrics(seq.labels, ref, windows), "cuts": cuts},
        "baseline": {**metrics.all_metrics(seq.labels, base, windows), "note": BASELINE_NOTE},
        "frames_ours": {**metrics.all_metrics(seq.labels, fr, windows), "note": FRAMES_NOTE},
    }
    p3 = embed.pca(embed.combine(embs).states, 3)[0] if out_dir is not None or video_dir is not None else None
    files = []
    if out_dir is not None:
        out, names = Path(out_dir), list(seq.actions)
        files += [
            plots.segmentation_bars(
                out / f"{name}_segmentation.png", seq.labels, ours, seq.fps, f"{name}: ours (k = {k})", names
            ),
            plots.segmentation_bars(
                out / f"{name}_segmentation_cutrule.png", seq.labels, ref, seq.fps, f"{name}: reference cut rule", names
            ),
            plots.embedding_3d(
                out / f"{name}_pca.png", p3[::2], seq.labels[::2], ours[::2], f"{name}: decoder states, PCA"
            ),
        ]
    if video_dir is not None:
        from seq2seq_jax import video

        files += video.write_video(video_dir, name, seq.frames, p3, seq.labels, ours, seq.fps)
    if files:
        res["files"] = [str(f) for f in files]
    return res


CONCAT_COLS = (("ari", "ARI"), ("ami", "AMI"), ("v_measure", "V"), ("acc_hungarian", "Hung"), ("boundary_f1", "bF1"))


def _fmt_concat(m):
    return " ".join(f"{m[k]:5.3f}" for k, _ in CONCAT_COLS)


def concat_header() -> str:
    head = " ".join(f"{n:>5s}" for _, n in CONCAT_COLS)
    return f"{'seed':>4s}  ours: {head} | reference cut rule: {head} | baseline ARI | frames ARI  actions"


def concat_row(r: dict) -> str:
    return (
        f"{r['seed']:4d}  ours: {_fmt_concat(r['ours'])} | reference cut rule: {_fmt_concat(r['reference_cut_rule'])}"
        f" | {r['baseline']['ari']:5.3f} | {r['frames_ours']['ari']:5.3f}  {'+'.join(c[0] for c in r['clips'])}  "
        f"splices {len(r['ours']['splices'])}/{len(r['clips']) - 1}"
    )


LEVEL = 0.005  # a paired difference of ARI below this counts as level (the rows print three decimals)


def paired(rows: list[dict], a: str, b: str, key: str = "ari") -> dict:
    """``a`` against ``b`` draw by draw (the same draws): the mean difference, its standard error (sample
    standard deviation of the differences over sqrt(draws); nan for one draw), and on how many draws ``a`` is
    ahead, level (within ``LEVEL``) or behind. Draws differ far more from one another than methods do, so only
    a paired difference says whether one method leads; a mean difference within about two standard errors is
    no lead."""
    d = np.array([r[a][key] - r[b][key] for r in rows], np.float64)
    if not len(d):
        raise ValueError("paired needs at least one draw")
    se = float(np.std(d, ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    return {
        "draws": len(d),
        "mean": float(d.mean()),
        "se": se,
        "ahead": int((d >= LEVEL).sum()),
        "level": int((np.abs(d) < LEVEL).sum()),
        "behind": int((d <= -LEVEL).sum()),
    }


def paired_text(d: dict) -> str:
    """A ``paired`` result in words: "+0.014 ± 0.044 (standard error); ahead on 4, level on 10, behind on 6"."""
    return (
        f"{d['mean']:+.3f} ± {d['se']:.3f} (standard error);"
        f" ahead on {d['ahead']}, level on {d['level']}, behind on {d['behind']}"
    )


def several_recordings(run: dict, actions) -> bool:
    """Whether one of ``actions`` comes from two or more different recordings in the draw ``run`` (a stored row whose
    "clips" are (action, file, ...)). With only k given, two recordings of one gesture category (CMU's
    basketball_signal and directing_traffic are 25-31 s recordings of different signals) are not one class in the
    motion: such draws are a different task, summarized apart (docs/results/heldout_draws.md)."""
    files: dict[str, set] = {}
    for action, path, *_ in run["clips"]:
        files.setdefault(action, set()).add(path)
    return any(len(files.get(a, ())) > 1 for a in actions)


def source_recording(run: dict) -> str | None:
    """The one recording a stored draw (its "clips": (action, file, ...)) is cut from, such as "trial 10" for a
    shuffled-trial draw; None for a draw that joins several."""
    files = {c[1] for c in run["clips"]}
    return next(iter(files)) if len(files) == 1 else None


def strata(rows: list[dict], split_by, by_recording: bool = False) -> list[tuple[str, list[dict]]]:
    """[(title, draws)]: all of ``rows``; with ``split_by`` (actions) those in which one of them comes from several
    recordings (``several_recordings``) and the others; with ``by_recording`` the draws of each source recording
    apart (draws cut from one recording each, as ``s86_shuffled``'s; raises ValueError for a draw of several)."""
    out = [(f"{len(rows)} draws", rows)]
    if split_by:
        inside = [several_recordings(r, split_by) for r in rows]
        for want, name in ((True, "in which one of"), (False, "in which none of")):
            part = [r for r, i in zip(rows, inside) if i == want]
            out.append((f"{len(part)} draws {name} {', '.join(split_by)} comes from two or more recordings", part))
    if by_recording:
        sources: dict[str, list[dict]] = {}
        for r in rows:
            source = source_recording(r)
            if source is None:
                raise ValueError(
                    f"--by_recording: draw {r.get('seed')} joins {len({c[1] for c in r['clips']})} recordings; it "
                    "summarizes draws cut from one recording each (--dataset s86_shuffled)"
                )
            sources.setdefault(source, []).append(r)
        out += [(f"{len(part)} draws of {name}", part) for name, part in sorted(sources.items())]
    return out


def split_actions(spec: str | None) -> list[str]:
    """The action names of a comma-separated ``--split_by``; raises ValueError naming any that is not a CMU action."""
    names = [x for x in (spec or "").split(",") if x]
    unknown = [x for x in names if x not in cmu.ACTIONS]
    if unknown:
        raise ValueError(f"--split_by: unknown action(s) {unknown}; actions are {', '.join(cmu.ACTIONS)}")
    return names


def concat_summary(rows: list[dict]) -> str:
    """Mean ± standard deviation over the draws, for ours, the reference's cut rule, the baseline and our
    segmentation on the frames; then ours and the frames' against the baseline, and ours against the frames,
    paired draw by draw (``paired``); last, the best of the four on each draw (an oracle that knows which to pick: a
    ceiling for any rule that chooses among them per recording)."""
    lines = []
    protos = ("ours", "reference_cut_rule", "baseline", "frames_ours")
    for proto in protos:
        mean = {k: np.mean([r[proto][k] for r in rows]) for k, _ in CONCAT_COLS}
        sd = {k: np.std([r[proto][k] for r in rows]) for k, _ in CONCAT_COLS}
        lines.append(f"{proto}: " + ", ".join(f"{n} {mean[k]:.3f} ± {sd[k]:.3f}" for k, n in CONCAT_COLS))
    for a, b in (("ours", "baseline"), ("frames_ours", "baseline"), ("ours", "frames_ours")):
        d = paired(rows, a, b)
        lines.append(f"{a} - {b}, paired over {d['draws']} draws: ARI {paired_text(d)}")
    best = [max(r[p]["ari"] for p in protos) for r in rows]
    lines.append(f"the best of the four on each draw (an oracle): ARI {np.mean(best):.3f} ± {np.std(best):.3f}")
    return "\n".join(lines)
