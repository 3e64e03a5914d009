"""The study behind the subject-86 preset: model and training settings x seeds x subject-86 trials, each
checkpoint scored under several segmentation settings (only k given), plus the raw-frame baselines.

``run_study`` trains what is missing (checkpoints under ``train_dir/<config>/seed<N>/trial_<NN>``, an ensemble's
models in model_0, model_1, ... there; reused when present), appends one row per (config, seed, trial) to
``study.jsonl`` and rewrites the table ``study.md``.
Run by ``experiments/study.py``; the table is docs/study.md.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import embed, fitting, machine, metrics, presets, protocols, segmentation
from seq2seq_jax.config import ModelConfig
from seq2seq_jax.data import subject86_trials as subject86
from seq2seq_jax.data.normalize import NormStats

BASE_M = ModelConfig(hidden=256)  # 50 frames in, 25 predicted: the stored rows' model (pinned, whatever the presets)
# one model of 1,000 steps (the stored rows' training; the subject86 preset is the config h256_it500_x3_src25)
BASE_T = dataclasses.replace(presets.ONE_MODEL, save_every=presets.ONE_MODEL.iterations, keep=1)

CONFIGS = {
    "h256": (BASE_M, BASE_T),
    "h128": (dataclasses.replace(BASE_M, hidden=128), BASE_T),
    "h512": (dataclasses.replace(BASE_M, hidden=512), BASE_T),
    "h256_it2000": (BASE_M, dataclasses.replace(BASE_T, iterations=2000, save_every=2000)),
    "h256_it500": (BASE_M, dataclasses.replace(BASE_T, iterations=500, save_every=500)),
    "h256_it300": (BASE_M, dataclasses.replace(BASE_T, iterations=300, save_every=300)),
    "h256_it100": (BASE_M, dataclasses.replace(BASE_T, iterations=100, save_every=100)),
    "h256_untrained": (BASE_M, dataclasses.replace(BASE_T, iterations=0, save_every=1)),
    "h256_lr3e-4": (BASE_M, dataclasses.replace(BASE_T, lr=3e-4)),
    "h256_untied": (dataclasses.replace(BASE_M, tied=False), BASE_T),
    "h256_src25": (dataclasses.replace(BASE_M, source=25), BASE_T),
    "h256_joint": (dataclasses.replace(BASE_M, adversarial="joint"), BASE_T),
    "h256_alternating": (dataclasses.replace(BASE_M, adversarial="alternating"), BASE_T),
    "paper": (presets.PAPER.model, dataclasses.replace(presets.PAPER.train, keep=1)),
    # ensembles (TrainConfig.models): "seed N" is the ensemble of training seeds N * models .. N * models + models - 1
    "h256_x3": (BASE_M, dataclasses.replace(BASE_T, models=3)),
    "h256_it500_x3": (BASE_M, dataclasses.replace(BASE_T, iterations=500, save_every=500, models=3)),
}
# the same training, the readout predicting each frame's change from the one before (ModelConfig.residual)
CONFIGS["h256_it500_x3_res"] = (dataclasses.replace(BASE_M, residual=True), CONFIGS["h256_it500_x3"][1])
# the same training with a 25-frame encoder, as the blended case-(i) checks have been run (the concat_cmu preset's)
CONFIGS["h256_it500_x3_src25"] = (dataclasses.replace(BASE_M, source=25), CONFIGS["h256_it500_x3"][1])
# ... and the root's position on the floor and heading dropped, its height and tilt kept (ModelConfig.root)
CONFIGS["h256_it500_x3_src25_upright"] = (
    dataclasses.replace(BASE_M, source=25, root="upright"),
    CONFIGS["h256_it500_x3"][1],
)

# Pinned to no smoothing and no minimum number of segments whatever the library defaults: the stored rows of these
# names were scored without them.
_S = functools.partial(segmentation.SegmentConfig, cpd_smooth_s=0.0, min_segments_over_k=0)
SEGMENTATIONS = {  # frames_weight 0: decoder states only; "smooth": features smoothed in time before change points
    "cpd": _S(linkage="ward", frames_weight=0.0),
    "cpd_l2": _S(linkage="ward", l2_normalize=True, frames_weight=0.0),
    "cpd_min2s": _S(linkage="ward", min_seg_s=2.0, frames_weight=0.0),
    "cpd_average": _S(linkage="average", frames_weight=0.0),
    "cpd_average_frames0.5": _S(linkage="average", frames_weight=0.5),
    "cpd_average_frames1": _S(linkage="average", frames_weight=1.0),
    "cpd_average_frames0.5_smooth0.25": _S(linkage="average", frames_weight=0.5, cpd_smooth_s=0.25),
    "cpd_average_frames0.5_smooth0.5": _S(linkage="average", frames_weight=0.5, cpd_smooth_s=0.5),
    "cpd_average_frames0.5_smooth0.25_minseg": _S(
        linkage="average", frames_weight=0.5, cpd_smooth_s=0.25, min_segments_over_k=1
    ),
    "kmeans_1s": _S(method="kmeans", frames_weight=0.0),
    # whitened Ward (clustering.whitened_ward) on the same cuts as the last average-linkage rows; "states": the
    # segments clustered by the decoder states alone (the frames serve the change points)
    "cpd_wward_smooth0.25_minseg": _S(
        linkage="ward_whitened", frames_weight=0.0, cpd_smooth_s=0.25, min_segments_over_k=1
    ),
    "cpd_wward_frames0.5_smooth0.25_minseg": _S(
        linkage="ward_whitened", frames_weight=0.5, cpd_smooth_s=0.25, min_segments_over_k=1
    ),
    "cpd_wward_states_frames0.5_smooth0.25_minseg": _S(
        linkage="ward_whitened", frames_weight=0.5, cpd_smooth_s=0.25, min_segments_over_k=1, frames_in_clustering=False
    ),
    "cpd_wward_states_frames0.5_smooth0.25_minseg2": _S(
        linkage="ward_whitened", frames_weight=0.5, cpd_smooth_s=0.25, min_segments_over_k=2, frames_in_clustering=False
    ),
}
# the same, and each model's segments clustered by how they move ("motion") also vote in the consensus
SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion"] = dataclasses.replace(
    SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2"], motion_votes=True
)
# ... and the frames' own segmentation voting too, the classes taken from the labelling that agrees most with the
# others (SegmentConfig.consensus "median")
SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv"] = dataclasses.replace(
    SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion"], consensus="median", frames_votes=True
)
# The default of 2026-12-03 to 12-07 (whitening fully) with plain Ward on segment means instead of whitened Ward (each
# piece counted once, not by its length): the clustering that transferred better to blended case-(i) draws
# (docs/results/heldout_draws.md)
SEGMENTATIONS["cpd_ward_states_frames0.5_smooth0.25_minseg2_motion_median_fv"] = dataclasses.replace(
    SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv"], linkage="ward"
)
# That default with a floor on the number of change points from the recording's length (at least one per 6, 8 or 10 s:
# SegmentConfig.max_mean_segment_s) beside the floor from k: the blends' long recordings asked for more change points
# than the elbow places (docs/results/count_oracle.md)
for _s in (6, 8, 10):
    SEGMENTATIONS[f"cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_meanseg{_s}"] = dataclasses.replace(
        SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv"], max_mean_segment_s=float(_s)
    )
# That default with whitened Ward whitening part of the way (SegmentConfig.whiten_shrink): full whitening split one
# action done in two places on the shuffled trials; 0.5 is the subject86 / mocap presets' since 2026-12-07
# (docs/results/partial_whitening.md)
for _w in (0.25, 0.5, 0.75):
    SEGMENTATIONS[f"cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink{_w:g}"] = dataclasses.replace(
        SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv"], whiten_shrink=_w
    )
# The default since 2026-12-07 (whiten_shrink 0.5) with the number of change points also at least the elbow of the
# cost of k classes over the pieces (SegmentConfig.count_rule "class_elbow"): the elbow of the kernel cost stopped
# short on the shuffled trials and on the regimes in 12 segments (docs/results/class_elbow.md)
SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5_classelbow"] = (
    dataclasses.replace(
        SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5"],
        count_rule="class_elbow",
    )
)
# The same with the mean view's pieces clustered by how near their samples lie (linkage "chamfer") instead of
# whitened Ward on their means: a long recording of recurring motions stays one class wherever it is cut
# (docs/results/chamfer.md)
SEGMENTATIONS["cpd_chamfer_states_frames0.5_smooth0.25_minseg2_motion_median_fv_classelbow"] = dataclasses.replace(
    SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5_classelbow"],
    linkage="chamfer",
)
# The default with a third view: each model's pieces also clustered by linkage "chamfer" (SegmentConfig.chamfer_votes)
SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5_classelbow_chamfervotes"] = (
    dataclasses.replace(
        SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5_classelbow"],
        chamfer_votes=True,
    )
)
# The default with a fourth view: each model's pieces also clustered by the log band power of the input frames in them
# (SegmentConfig.spectrum_votes)
SEGMENTATIONS[
    "cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5_classelbow_chamfervotes_spectrumvotes"
] = dataclasses.replace(
    SEGMENTATIONS["cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5_classelbow_chamfervotes"],
    spectrum_votes=True,
)
KEYS = ("acc_hungarian", "acc_first", "ari", "boundary_f1")
# The configs added with ensembles are scored under the whitened-Ward segmentations and the plain-Ward variant of the
# default only (the others lost to them on every model config above; an ensemble is segmented once per model and
# once more for the consensus).
_ENSEMBLE_ROWS = tuple(n for n in SEGMENTATIONS if n.startswith(("cpd_wward", "cpd_ward_states", "cpd_chamfer")))
SCORED_ONLY = {
    name: _ENSEMBLE_ROWS
    for name in (
        "h256_it500",
        "h256_x3",
        "h256_it500_x3",
        "h256_it500_x3_res",
        "h256_it500_x3_src25",
        "h256_it500_x3_src25_upright",
    )
}


def score_checkpoint(trial, fits, only=None) -> dict:
    """Every segmentation setting (or those in ``only``) of the embeddings of ``fits``, [(params, meta)] one per
    model of an ensemble (``segmentation.segment_ensemble``)."""
    z = fits[0][1].norm.apply(trial.frames)
    embs = [embed.collect(p, m.model, z) for p, m in fits]
    out = {}
    for name, sc in SEGMENTATIONS.items():
        if only is not None and name not in only:
            continue
        pred = segmentation.segment_ensemble(embs, trial.k, trial.fps, sc, frames_TxD=z)
        out[name] = {
            k: v
            for k, v in metrics.all_metrics(trial.labels, pred, trial.windows).items()
            if isinstance(v, (int, float))
        }
    return out


RAW = {  # the BENCHMARKS baseline (protocols.BASELINE); our segmentation on the frames instead of decoder states
    "raw_frames": protocols.BASELINE,
    "raw_frames_average": _S(linkage="average", frames_weight=0.0),
    "raw_frames_average_smooth0.25": _S(linkage="average", frames_weight=0.0, cpd_smooth_s=0.25),
    "raw_frames_average_minseg": _S(linkage="average", frames_weight=0.0, min_segments_over_k=1),
}


def score_raw(trial, cfg: segmentation.SegmentConfig) -> dict:
    z = NormStats.fit(trial.frames).apply(trial.frames)
    pred = segmentation.segment_embedding(z, trial.k, trial.fps, cfg)
    return {
        k: v for k, v in metrics.all_metrics(trial.labels, pred, trial.windows).items() if isinstance(v, (int, float))
    }


def write_table(jsonl: Path, md: Path) -> None:
    rows = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    raw = {name: {} for name in RAW}
    for r in rows:
        if r["config"] in RAW:
            raw[r["config"]][r["trial"]] = r["scores"]

    def with_fit(r, sc):  # rows before "trained" was stored: 0 s means restored
        return sc, r["seconds_fit"] if r.get("trained", r["seconds_fit"] > 1.0) else 0.0

    by = procedures(rows, min_seeds=1, value=with_fit)
    lines = [
        "# Study: model, training and segmentation settings on subject 86 (honest protocol, only k)",
        "",
        "Produced by `python experiments/study.py` (see its docstring); each cell is the mean over the trials",
        "listed, then mean ± standard deviation over seeds. `fit s` is the training time per trial, averaged over the",
        "runs that trained in the study (not those restored from a checkpoint of an interrupted run).",
        "",
    ]
    what = {
        "raw_frames": "Raw-frame baseline of BENCHMARKS (PCA 95% + kernel CPD at the elbow + Ward on segment means)",
        "raw_frames_average": "Our segmentation (average-cosine linkage) on raw frames instead of decoder states",
        "raw_frames_average_smooth0.25": "The same with the features smoothed in time (Gaussian, 0.25 s) "
        "before change points",
        "raw_frames_average_minseg": "Our segmentation on raw frames with at least k change points "
        "(more segments than classes)",
    }
    for name, per in raw.items():
        if per:
            trials = sorted(per)
            m = {k: np.mean([per[t][k] for t in trials]) for k in KEYS}
            lines += [f"{what[name]}, trials {' '.join(trials)}: " + ", ".join(f"{k} {m[k]:.3f}" for k in KEYS), ""]
    lines += [
        "| config | segmentation | seeds | trials | " + " | ".join(KEYS) + " | fit s |",
        "|---" * (5 + len(KEYS)) + "|",
    ]
    for (cfg, seg_name), seeds in sorted(by.items()):
        common = sorted(set.intersection(*[set(v) for v in seeds.values()]))
        if not common:
            continue
        per_seed = {k: [np.mean([seeds[s][t][0][k] for t in common]) for s in seeds] for k in KEYS}
        fits = [seeds[s][t][1] for s in seeds for t in common if seeds[s][t][1] > 0]  # 0: restored, not trained
        fit = np.mean(fits) if fits else float("nan")
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" if len(v) > 1 else f"{v[0]:.3f}" for v in per_seed.values()]
        lines.append(
            f"| {cfg} | {seg_name} | {len(seeds)} | {' '.join(common)} | " + " | ".join(cells) + f" | {fit:.0f} |"
        )
    md.write_text("\n".join(lines) + "\n")


def fill_missing(jsonl: Path, loaded: dict, train_dir: Path, configs) -> None:
    """Scores the existing checkpoints of ``configs`` under segmentation settings added since they were scored
    (rewrites the file after each checkpoint, so an interrupted run keeps what it rescored)."""
    if not jsonl.exists():
        return
    rows = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    for r in rows:
        names = SCORED_ONLY.get(r["config"], SEGMENTATIONS)
        missing = [n for n in names if r["config"] in configs and n not in r["scores"]]
        workdir = train_dir / r["config"] / f"seed{r['seed']}" / f"trial_{r['trial']}"
        dirs = fitting.saved_members(workdir) if workdir.is_dir() else []
        if missing and r["trial"] in loaded and dirs and all((d / "checkpoints").exists() for d in dirs):
            from seq2seq_jax import train

            fits = [train.load(d)[:2] for d in dirs]
            r["scores"].update(score_checkpoint(loaded[r["trial"]], fits, only=missing))
            jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
            print(f"rescored {r['config']} seed {r['seed']} trial {r['trial']}: {', '.join(missing)}", flush=True)


def run_study(configs, seeds, trial_spec, train_dir, out, data_dir=None, mirror=None) -> Path:
    """Trains and scores what is missing for ``configs`` x ``seeds`` x trials; returns the path of study.md."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / "study.jsonl"
    for c in configs:
        if c not in CONFIGS:
            raise ValueError(f"unknown config {c!r}; --list shows them")
    names = [s for item in trial_spec for s in item.split(",")]
    trials = subject86.available_trials(data_dir, mirror) if names == ["all"] else names
    done = set()
    if jsonl.exists():
        for line in jsonl.read_text().splitlines():
            r = json.loads(line)
            done.add((r["config"], r["seed"], r["trial"]))
    loaded = {tr: subject86.load_trial(tr, data_dir, mirror) for tr in trials}
    fill_missing(jsonl, loaded, Path(train_dir), configs)
    on = machine.summary(machine.describe())  # every new row names the machine that scored (and trained) it
    with open(jsonl, "a") as log:
        for tr, trial in loaded.items():
            for name, raw_cfg in RAW.items():
                if (name, 0, tr) not in done:
                    log.write(
                        json.dumps(
                            {
                                "config": name,
                                "seed": 0,
                                "trial": tr,
                                "scores": score_raw(trial, raw_cfg),
                                "seconds_fit": 0.0,
                                "machine": on,
                            }
                        )
                        + "\n"
                    )
                    log.flush()
        for c in configs:
            m, t = CONFIGS[c]
            for seed in seeds:
                for tr, trial in loaded.items():
                    if (c, seed, tr) in done:
                        continue
                    workdir = Path(train_dir) / c / f"seed{seed}" / f"trial_{tr}"
                    finished = all(  # restored, not trained here
                        (d / "checkpoints" / str(t.iterations)).exists() for d in fitting.member_dirs(workdir, t.models)
                    )
                    fits, _, t_fit = fitting.fit_ensemble(
                        trial.frames,
                        m,
                        dataclasses.replace(t, seed=seed),
                        workdir,
                        {"subject86_trial": tr},
                        progress=False,
                    )
                    scores = score_checkpoint(trial, fits, only=SCORED_ONLY.get(c))
                    log.write(
                        json.dumps(
                            {
                                "config": c,
                                "seed": seed,
                                "trial": tr,
                                "scores": scores,
                                "seconds_fit": t_fit,
                                "trained": not finished,
                                "time": time.time(),
                                "machine": on,
                            }
                        )
                        + "\n"
                    )
                    log.flush()
                    shown = "cpd" if "cpd" in scores else next(iter(scores))
                    print(
                        f"{c} seed {seed} trial {tr} ({shown}): "
                        + ", ".join(f"{k} {scores[shown][k]:.3f}" for k in KEYS)
                        + f" ({t_fit:.0f} s)",
                        flush=True,
                    )
                write_table(jsonl, out / "study.md")
    write_table(jsonl, out / "study.md")
    return out / "study.md"


LOO_CRITERION = ("acc_hungarian", "ari", "boundary_f1")  # a procedure is chosen by the mean of these


def procedures(rows: list[dict], min_seeds: int = 3, value=lambda row, scores: scores) -> dict:
    """{(config, segmentation): {seed: {trial: value(row, scores)}}} of the study rows, for the model configs
    with at least ``min_seeds`` seeds (the raw-frame baselines are left out)."""
    by: dict = {}
    for r in rows:
        if r["config"] in RAW:
            continue
        for seg_name, sc in r["scores"].items():
            by.setdefault((r["config"], seg_name), {}).setdefault(r["seed"], {})[r["trial"]] = value(r, sc)
    return {k: v for k, v in by.items() if len(v) >= min_seeds}


def model_steps(config: str) -> int:
    """The training a config costs per trial, in model-steps (steps x models; the time grows with it on a CPU)."""
    _, t = CONFIGS[config]
    return t.iterations * t.models


def leave_one_trial_out(
    rows: list[dict], criterion=LOO_CRITERION, min_seeds: int = 3, max_model_steps: int | None = None
) -> dict:
    """What choosing a procedure (model config x segmentation setting) on five trials scores on the sixth.

    For each held-out trial: among the procedures with ``min_seeds`` seeds on every trial, the one with the
    highest mean of ``criterion`` over the other trials and the seeds is chosen, and its scores on the held-out
    trial are kept, per seed. Returns {"per_trial": {trial: {"chosen", "scores": {seed: scores}}}, "seeds":
    {seed: mean scores over the held-out trials}, "in_sample": the procedure best on all trials and its means}.
    """
    procs = procedures(rows, min_seeds)
    if max_model_steps is not None:  # only the configs whose training fits the budget (unknown configs are kept out)
        procs = {p: v for p, v in procs.items() if p[0] in CONFIGS and model_steps(p[0]) <= max_model_steps}
    if not procs:
        raise ValueError(f"no procedure has {min_seeds} seeds in the study rows; train more seeds first")
    trials = sorted(set.intersection(*[set(t) for seeds in procs.values() for t in seeds.values()]))
    seeds = sorted(set.intersection(*[set(s) for s in procs.values()]))

    def fitness(proc, on):
        return float(np.mean([procs[proc][s][t][m] for s in seeds for t in on for m in criterion]))

    per_trial = {}
    for held in trials:
        rest = [t for t in trials if t != held]
        chosen = max(sorted(procs), key=lambda p: fitness(p, rest))
        per_trial[held] = {"chosen": chosen, "scores": {s: procs[chosen][s][held] for s in seeds}}
    keys = ("acc_hungarian", "ari", "boundary_f1")
    by_seed = {s: {k: float(np.mean([per_trial[t]["scores"][s][k] for t in trials])) for k in keys} for s in seeds}
    best = max(sorted(procs), key=lambda p: fitness(p, trials))
    in_sample = {s: {k: float(np.mean([procs[best][s][t][k] for t in trials])) for k in keys} for s in seeds}
    return {
        "trials": trials,
        "seeds": by_seed,
        "per_trial": per_trial,
        "in_sample": {"chosen": best, "seeds": in_sample},
        "candidates": len(procs),
    }


def loo_report(rows: list[dict], max_model_steps: int | None = None) -> str:
    """The leave-one-trial-out table beside the in-sample choice and the raw-frame baseline, as Markdown."""
    res = leave_one_trial_out(rows, max_model_steps=max_model_steps)
    keys = ("acc_hungarian", "ari", "boundary_f1")

    def cell(per_seed):
        vals = {k: [v[k] for v in per_seed.values()] for k in keys}
        return " | ".join(f"{np.mean(v):.3f} ± {np.std(v):.3f}" for v in vals.values())

    base = {r["trial"]: r["scores"] for r in rows if r["config"] == "raw_frames"}
    covered = bool(base) and all(t in base for t in res["trials"])
    b = {k: float(np.mean([base[t][k] for t in res["trials"]])) for k in keys} if covered else None
    lines = [
        f"Leave-one-trial-out over trials {' '.join(res['trials'])}: for each trial, the procedure (model "
        f"config x segmentation) with the best mean of {', '.join(LOO_CRITERION)} on the other trials, among "
        f"{res['candidates']} with {len(res['seeds'])} seeds"
        + ("" if max_model_steps is None else f" and at most {max_model_steps} model-steps of training per trial")
        + ", scored on the held-out trial; mean over the trials, ± over seeds.",
        "",
        "| | Hungarian | ARI | boundary F1 |",
        "|---|---|---|---|",
        f"| leave-one-trial-out (what choosing on five gives on the sixth) | {cell(res['seeds'])} |",
        f"| in-sample: `{' / '.join(res['in_sample']['chosen'])}` chosen and scored on all trials | "
        f"{cell(res['in_sample']['seeds'])} |",
    ]
    if b:
        lines.append("| baseline (no model; deterministic) | " + " | ".join(f"{b[k]:.3f}" for k in keys) + " |")
    lines += ["", "| held-out trial | chosen on the others | Hungarian (mean over seeds) |", "|---|---|---|"]
    for t, r in res["per_trial"].items():
        h = np.mean([v["acc_hungarian"] for v in r["scores"].values()])
        lines.append(f"| {t} | `{' / '.join(r['chosen'])}` | {h:.3f} |")
    return "\n".join(lines) + "\n"


def spread_report(rows: list[dict], config: str, segmentation_name: str, key: str = "acc_hungarian") -> str:
    """How one procedure's ``key`` varies over the seeds on each trial (the stability of a default), as Markdown:
    a row per trial with each seed's score and the spread (largest minus smallest)."""
    procs = procedures(rows, min_seeds=1)
    if (config, segmentation_name) not in procs:
        known = sorted({c for c, _ in procs})
        raise ValueError(f"no study rows for {config} / {segmentation_name}; configs with rows: {', '.join(known)}")
    by_seed = procs[(config, segmentation_name)]
    seeds = sorted(by_seed)
    trials = sorted(set.union(*[set(v) for v in by_seed.values()]))
    lines = [
        f"`{config} / {segmentation_name}`: {key} per trial and seed, and its spread over the seeds",
        "",
        "| trial | " + " | ".join(f"seed {s}" for s in seeds) + " | spread |",
        "|---" * (len(seeds) + 2) + "|",
    ]
    for t in trials:
        vals = [by_seed[s][t][key] if t in by_seed[s] else None for s in seeds]
        got = [v for v in vals if v is not None]
        cells = " | ".join("" if v is None else f"{v:.3f}" for v in vals)
        lines.append(f"| {t} | {cells} | {max(got) - min(got):.3f} |")
    return "\n".join(lines) + "\n"


def _draw_trial(run: dict) -> str:
    """The development trial a shuffled-trial draw (``concat_cmu.py --dataset s86_shuffled``) was cut from."""
    source = protocols.source_recording(run)
    if source is None or not source.startswith("trial "):
        files = sorted({c[1] for c in run["clips"]})
        raise ValueError(f"draw {run.get('seed')} is not cut from one subject-86 trial (its clips: {files})")
    return source.split()[-1]


def layouts_loo(rows: list[dict], config: str, draws: dict[str, list[dict]]) -> dict:
    """Leave-one-trial-out over both layouts of the development trials: each candidate segmentation (a name of
    ``SEGMENTATIONS``, scored for ``config`` in the study ``rows``) with its shuffled-trial draws (``draws[name]``,
    the runs of ``concat_cmu.py --dataset s86_shuffled`` with that segmentation, on the same draws for every
    candidate). A trial's score is the mean of ``LOO_CRITERION`` over its own order (mean over seeds) and over its
    draws (mean over draws), the two layouts weighing alike; for each trial the candidate with the best mean over the
    other trials is chosen and scored on it. Returns {"trials", "chosen": {trial: name}, "own"/"shuffled":
    {name or "chosen" or "baseline": {key: mean over trials}}}; raises ValueError naming what is missing."""
    names = list(draws)
    unknown = [n for n in names if n not in SEGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown segmentation(s) {unknown}; the study's are listed in studies.SEGMENTATIONS")
    mine = [r for r in rows if r["config"] == config]
    trials = sorted({r["trial"] for r in mine})
    if len(trials) < 2:
        raise ValueError(f"leave-one-trial-out needs study rows of {config} for two trials or more, got {trials}")
    seeds_of = [{r["seed"] for r in mine if r["trial"] == t and n in r["scores"]} for n in names for t in trials]
    if any(s != seeds_of[0] for s in seeds_of) or not seeds_of[0]:
        raise ValueError(
            f"the study rows of {config} do not score every candidate on the same seeds of every trial; rescore them "
            f"(python experiments/study.py --configs {config} --seeds ...)"
        )

    def mean_of(items, get):
        return {k: float(np.mean([get(i)[k] for i in items])) for k in LOO_CRITERION}

    if any(sorted(r["seed"] for r in draws[n]) != sorted(r["seed"] for r in draws[names[0]]) for n in names):
        raise ValueError("every candidate's shuffled-trial draws must be the same draws (seeds)")
    own, shuf = {}, {}
    for n in names:
        by_trial = {}
        for run in draws[n]:
            by_trial.setdefault(_draw_trial(run), []).append(run)
        missing = [t for t in trials if t not in by_trial]
        if missing:
            raise ValueError(f"no shuffled-trial draw of trial(s) {missing} for {n}")
        for t in trials:
            own[n, t] = mean_of([r for r in mine if r["trial"] == t], lambda r, n=n: r["scores"][n])
            shuf[n, t] = mean_of(by_trial[t], lambda r: r["ours"])
            if n == names[0]:  # the baseline: the same draws and frames for every candidate
                shuf["baseline", t] = mean_of(by_trial[t], lambda r: r["baseline"])
    for r in rows:
        if r["config"] == "raw_frames" and r["trial"] in trials:
            own["baseline", r["trial"]] = {k: r["scores"][k] for k in LOO_CRITERION}

    def both(n, t):
        return np.mean([own[n, t][k] for k in LOO_CRITERION] + [shuf[n, t][k] for k in LOO_CRITERION])

    chosen = {t: max(names, key=lambda n: np.mean([both(n, u) for u in trials if u != t])) for t in trials}
    out = {"trials": trials, "chosen": chosen, "own": {}, "shuffled": {}}
    for layout, got in (("own", own), ("shuffled", shuf)):
        for n in names + ["chosen", "baseline"]:
            if n == "chosen":
                vals = [got[chosen[t], t] for t in trials]
            elif all((n, t) in got for t in trials):
                vals = [got[n, t] for t in trials]
            else:
                continue
            out[layout][n] = {k: float(np.mean([v[k] for v in vals])) for k in LOO_CRITERION}
    return out


def layouts_loo_report(res: dict) -> str:
    """``layouts_loo``'s result as Markdown."""
    lines = [
        f"Leave-one-trial-out over both layouts of trials {' '.join(res['trials'])} (own order, mean over seeds; "
        f"shuffled draws, mean over draws): for each trial the candidate with the best mean of "
        f"{', '.join(LOO_CRITERION)} over both layouts of the other trials, scored on both layouts of the held-out "
        "trial; mean over the trials.",
        "",
        "| | own order: Hungarian | ARI | boundary F1 | shuffled: Hungarian | ARI | boundary F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    order = [n for n in res["shuffled"] if n not in ("chosen", "baseline")] + ["chosen", "baseline"]
    for n in order:
        cells = [
            " | ".join(f"{res[layout][n][k]:.3f}" for k in LOO_CRITERION) if n in res[layout] else "- | - | -"
            for layout in ("own", "shuffled")
        ]
        label = {"chosen": "**leave-one-trial-out** (chosen on five trials, scored on the sixth)"}.get(n, f"`{n}`")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    lines += ["", "| held-out trial | chosen on the other five |", "|---|---|"]
    lines += [f"| {t} | `{n}` |" for t, n in res["chosen"].items()]
    return "\n".join(lines) + "\n"
