"""Can the embedding tell, without labels, when training is done? (the paper's claim)

    python experiments/training_signal.py --trial 01 09 --iterations 2000 --log_every 100

While a subject-86 model trains, every --log_every steps it logs an unsupervised score of the embedding
(the silhouette of KMeans with k clusters on the decoder states of a fixed probe set of windows: every
window of the trial at stride T) and, for evaluation only, the Hungarian accuracy of our segmentation against
the ground truth. Writes docs/training_signal.png and docs/training_signal.json, and prints the rank
correlation between the two curves for each trial. Nothing here feeds back into training.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from seq2seq_jax import embed, fitting, flags, metrics, plots, segmentation, train
from seq2seq_jax.data import subject86_trials as subject86
from seq2seq_jax.data.normalize import NormStats

REPO = Path(__file__).resolve().parents[1]


def silhouette_score_of_states(states_NxH, k: int, seed: int = 0) -> float:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    lab = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(states_NxH)
    return float(silhouette_score(states_NxH, lab)) if len(np.unique(lab)) > 1 else 0.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trial", nargs="+", default=["01", "09"])
    flags.add_preset_flags(p, "subject86", segment=False)
    p.add_argument("--log_every", type=int, default=100)
    p.add_argument("--train_dir", default=str(REPO / "runs" / "training_signal"))
    p.add_argument("--out", default=str(REPO / "docs"))
    flags.add_data_flags(p)
    a = p.parse_args(argv)
    cfg = flags.resolve(p, a)
    curves = {}
    for tr in a.trial:
        trial = subject86.load_trial(tr, a.data_dir, a.mirror)
        norm = NormStats.fit(trial.frames)
        z = norm.apply(trial.frames)
        mcfg = dataclasses.replace(cfg.model, dim=norm.dim)
        tcfg = dataclasses.replace(cfg.train, log_every=a.log_every, save_every=cfg.train.iterations, keep=1)

        def on_log(step, state, trial=trial, z=z, mcfg=mcfg):
            params = state["params"]
            emb = embed.collect(params, mcfg, z)
            sil = silhouette_score_of_states(emb.states[emb.covered][::5], trial.k)
            pred = segmentation.segment_states(emb, trial.k, trial.fps, cfg.segment, frames_TxD=z)
            acc = metrics.accuracy_hungarian(trial.labels, pred)  # evaluation only, never used in training
            print(f"trial {trial.trial} step {step}: silhouette {sil:.3f}, Hungarian accuracy {acc:.3f}", flush=True)
            return {"silhouette": sil, "acc_hungarian": acc}

        r = train.train(
            mcfg,
            tcfg,
            z,
            norm,
            Path(a.train_dir) / f"trial_{tr}",
            {"subject86_trial": tr},
            progress=False,
            on_log=on_log,
        )
        curves[tr] = [{k: h[k] for k in ("step", "mse", "silhouette", "acc_hungarian") if k in h} for h in r.history]
    import matplotlib.pyplot as plt
    from scipy.stats import spearmanr

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), squeeze=False)
    summary = {}
    for ax, (tr, rows) in zip(axes[0], curves.items()):
        rows = [r for r in rows if "silhouette" in r]
        steps = [r["step"] for r in rows]
        sil = [r["silhouette"] for r in rows]
        acc = [r["acc_hungarian"] for r in rows]
        rho = float(spearmanr(sil, acc).statistic) if len(rows) > 2 else float("nan")
        summary[tr] = {"spearman_silhouette_vs_accuracy": rho, "curve": rows}
        ax.plot(steps, acc, label="Hungarian accuracy (ground truth)")
        ax.plot(steps, sil, label="silhouette of KMeans(k) on states (no labels)")
        ax.set_title(f"trial {tr}: Spearman rho = {rho:.2f}")
        ax.set_xlabel("training step")
        ax.legend(fontsize=7)
        print(f"trial {tr}: Spearman correlation of silhouette and accuracy over training: {rho:.2f}")
    out = Path(a.out)
    fig.tight_layout()
    plots._save(fig, out / "training_signal.png")
    fitting.write_json(out / "training_signal.json", {"args": vars(a), "trials": summary})
    print(f"wrote {out / 'training_signal.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
