"""Case (i): CMU action clips concatenated, then segmented and clustered without labels.

    python experiments/concat_cmu.py --num_actions 3 --total_num_actions 5 --seed 0
    python experiments/concat_cmu.py --actions walking,running,jumping --gen_video
    python experiments/concat_cmu.py --num_actions 3 --total_num_actions 5 --seeds 10   # a sweep over seeds 0..9
    python experiments/concat_cmu.py --num_actions 3 --total_num_actions 5 --seeds 10 --together --cpu_devices 2

Prints, for ours (only k = number of actions given; the sequence is cut at the splices found in the frames,
where most channels jump at once, and each piece is one segment: ``--within_recordings none``; the pieces are
clustered by how they move, the spread of their features: ``--segment_stats std``) and for the
reference's cut rule (windows cut where the prediction error exceeds 1.0, states clustered by cosine single
linkage): ARI, AMI, V-measure, Hungarian accuracy and boundary F1 (a hit within 1 s of a true clip boundary),
and the number of splices found / clip joins.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import embed, metrics, pipeline, plots, segmentation
from seq2seq_jax.checkpoint import CheckpointError
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data import cmu
from seq2seq_jax.data.sources import DataError

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ModelConfig(hidden=256, source=25, target=25)
DEFAULT_TRAIN = TrainConfig(lr=1e-3, batch=16, iterations=1000, save_every=500, keep=2)
TOLERANCE_S = 1.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="cmu", choices=("cmu", "h36m"))
    p.add_argument("--num_actions", type=int, default=3)
    p.add_argument("--total_num_actions", type=int, default=None, help="clips in all (default: num_actions)")
    p.add_argument("--actions", default=None, help="comma-separated action names instead of a random draw")
    p.add_argument("--split", default="train", choices=("train", "test"))
    p.add_argument("--seed", type=int, default=0, help="draws the actions and clips, and seeds training")
    p.add_argument("--seeds", type=int, default=None, help="sweep: run seeds seed .. seed+N-1 and report mean and spread")
    pipeline.add_together_args(p, "the draws of --seeds")
    m, t = DEFAULT_MODEL, DEFAULT_TRAIN
    p.add_argument("--hidden", "--rnn_size", type=int, default=m.hidden)
    p.add_argument("--source_seq_len", type=int, default=m.source)
    p.add_argument("--target_seq_len", type=int, default=m.target)
    p.add_argument("--learning_rate", type=float, default=t.lr)
    p.add_argument("--batch_size", type=int, default=t.batch)
    p.add_argument("--iterations", type=int, default=t.iterations)
    p.add_argument("--train_dir", default=str(REPO / "runs" / "concat_cmu"), help="checkpoints go to a subfolder per draw")
    p.add_argument("--load", type=int, default=None, help="resume from (or evaluate) this saved step")
    p.add_argument("--segmentation", choices=segmentation.METHODS, default=segmentation.SegmentConfig.method)
    p.add_argument("--within_recordings", choices=segmentation.RECORDING_MODES, default="none",
                   help="ours: 'none' (default) takes each piece between detected splices as one segment, as every "
                        "clip here is one action; 'cpd' also cuts inside the pieces")
    p.add_argument("--segment_stats", choices=segmentation.SEGMENT_STATS, default="std",
                   help="how segments are described before clustering: 'std' (default here: per-feature spread, how a "
                        "clip moves, compared by Euclidean distance; recordings of one action differ more in posture "
                        "than in movement), 'mean' (the default for continuous recordings) or 'mean_std'")
    p.add_argument("--threshold", type=float, default=1.0, help="MSE threshold of the reference's cut rule")
    p.add_argument("--gen_video", action="store_true", help="write a GIF (and an MP4 when ffmpeg exists)")
    p.add_argument("--video_dir", default=None, help="where videos go (default: --out)")
    p.add_argument("--out", default=str(REPO / "out" / "concat_cmu"))
    p.add_argument("--data_dir", default=None)
    p.add_argument("--mirror", default=None)
    p.add_argument("--no_plots", action="store_true")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    pipeline.check_together_args(p, a)
    return a


KEYS = (("ari", "ARI"), ("ami", "AMI"), ("v_measure", "V"), ("acc_hungarian", "Hung"), ("boundary_f1", "bF1"))


def draw(a, seed: int):
    """(sequence, its checkpoint folder, data description) of one draw."""
    actions = [s for s in a.actions.split(",") if s] if a.actions else None
    seq = cmu.make_sequence(seed, a.num_actions, a.total_num_actions, actions, a.split, a.data_dir, a.mirror)
    name = f"seed{seed}_" + "-".join(seq.actions) + f"_{len(seq.clips)}clips"
    return seq, Path(a.train_dir) / name, {"case_i_clips": [c[1] for c in seq.clips]}


def configs(a, seed: int):
    mcfg = ModelConfig(hidden=a.hidden, source=a.source_seq_len, target=a.target_seq_len)
    tcfg = TrainConfig(lr=a.learning_rate, batch=a.batch_size, iterations=a.iterations, seed=seed,
                       save_every=DEFAULT_TRAIN.save_every, keep=DEFAULT_TRAIN.keep)
    return mcfg, tcfg


def fit_together(a, seeds):
    """Draws every seed, then trains their models at once; [(drawn, fit)] in seed order."""
    drawn = [draw(a, s) for s in seeds]
    mcfg, tcfg = configs(a, seeds[0])
    t0 = time.perf_counter()
    fits = pipeline.fit_together([d[0].frames for d in drawn], mcfg, tcfg, [d[1] for d in drawn], [d[2] for d in drawn],
                                 load_step=a.load, progress=not a.quiet, seeds=list(seeds))
    print(f"trained {len(seeds)} models together in {time.perf_counter() - t0:.0f} s", flush=True)
    return list(zip(drawn, fits))


def run_one(a, seed: int, drawn=None, fit=None) -> dict:
    """One draw: drawn and trained here unless given (``fit_together``), then segmented and scored."""
    seq, workdir, data_info = drawn or draw(a, seed)
    name, together = workdir.name, fit is not None
    if fit is None:
        mcfg, tcfg = configs(a, seed)
        fit = pipeline.fit_or_restore(seq.frames, mcfg, tcfg, workdir, data_info, load_step=a.load, progress=not a.quiet)
    params, meta, z, t_fit = fit
    k = len(seq.actions)
    windows = metrics.windows_around(seq.boundaries, int(TOLERANCE_S * seq.fps))
    emb = embed.collect(params, meta.model, z)
    seg_cfg = segmentation.SegmentConfig(method=a.segmentation, within_recordings=a.within_recordings,
                                          segment_stats=a.segment_stats)
    found = segmentation.states_splices(emb, z, seq.fps, seg_cfg)
    ours = segmentation.segment_states(emb, k, seq.fps, seg_cfg, seed=seed, frames_TxD=z, splices_T=found)
    ref, cuts = segmentation.reference_cut_rule(params, meta.model, z, k, a.threshold)
    res = {"seed": seed, "actions": list(seq.actions), "clips": [list(c) for c in seq.clips], "frames": len(z),
           "ours": {**metrics.all_metrics(seq.labels, ours, windows), "splices": found.tolist()},
           "reference_cut_rule": {**metrics.all_metrics(seq.labels, ref, windows), "cuts": cuts},
           "seconds_fit": t_fit, "checkpoint": str(workdir)}
    if together:
        res["trained_together"] = True  # seconds_fit: the whole group's training
    out = Path(a.out)
    if not a.no_plots:
        p3, _ = embed.pca(emb.states, 3)
        names = list(seq.actions)
        res["files"] = [
            str(plots.segmentation_bars(out / f"{name}_segmentation.png", seq.labels, ours, seq.fps, f"{name}: ours (k = {k})", names)),
            str(plots.segmentation_bars(out / f"{name}_segmentation_cutrule.png", seq.labels, ref, seq.fps,
                                        f"{name}: reference cut rule", names)),
            str(plots.embedding_3d(out / f"{name}_pca.png", p3[::2], seq.labels[::2], ours[::2], f"{name}: decoder states, PCA")),
        ]
    if a.gen_video:
        from seq2seq_jax import video

        p3, _ = embed.pca(emb.states, 3)
        res.setdefault("files", []).extend(
            str(p) for p in video.write_video(a.video_dir or out, name, seq.frames, p3, seq.labels, ours, seq.fps))
    return res


def _fmt(m):
    return " ".join(f"{m[k]:5.3f}" for k, _ in KEYS)


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.dataset == "h36m":
        print("error: the H3.6M data is licensed and not distributed; read your copy with "
              "seq2seq_jax.data.readers.read_h36m_txt and use the Python API", file=sys.stderr)
        return 2
    err = pipeline.setup_cpu_devices(a)
    if err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    seeds = range(a.seed, a.seed + (a.seeds or 1))
    rows, t0 = [], time.perf_counter()
    together = {}
    head = " ".join(f"{n:>5s}" for _, n in KEYS)
    for s in seeds:
        try:
            if a.together and not together:
                together = dict(zip(seeds, fit_together(a, seeds)))
            if s == seeds[0]:
                print(f"{'seed':>4s}  ours: {head} | reference cut rule: {head}  actions")
            r = run_one(a, s, *together.get(s, (None, None)))
        except (DataError, CheckpointError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as err:
            print(err, file=sys.stderr)
            return 0
        rows.append(r)
        print(f"{s:4d}  ours: {_fmt(r['ours'])} | reference cut rule: {_fmt(r['reference_cut_rule'])}  "
              f"{'+'.join(c[0] for c in r['clips'])}  splices {len(r['ours']['splices'])}/{len(r['clips']) - 1}", flush=True)
    if len(rows) > 1:
        for proto in ("ours", "reference_cut_rule"):
            mean = {k: np.mean([r[proto][k] for r in rows]) for k, _ in KEYS}
            sd = {k: np.std([r[proto][k] for r in rows]) for k, _ in KEYS}
            print(f"{proto}: " + ", ".join(f"{n} {mean[k]:.3f} ± {sd[k]:.3f}" for k, n in KEYS))
    total = time.perf_counter() - t0
    print(f"{len(rows)} sequences in {total:.0f} s")
    path = pipeline.write_json(Path(a.out) / "results.json", {"runs": rows, "args": vars(a), "seconds_total": total})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
