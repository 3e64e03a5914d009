"""PNG figures, written headless (matplotlib Agg): segmentation bars, the 3-D PCA embedding, the loss curve."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from seq2seq_jax import metrics  # noqa: E402


def matched_colors(true, pred):
    """(true colours, predicted colours) per class: a predicted class takes the colour of its matched true class."""
    cmap = plt.get_cmap("tab20")
    t_cls = list(np.unique(true))
    colors_t = {c: cmap(i % 20) for i, c in enumerate(t_cls)}
    mapping = metrics.hungarian_mapping(true, pred)
    colors_p, extra = {}, len(t_cls)
    for c in np.unique(pred):
        if c in mapping:
            colors_p[c] = colors_t[mapping[c]]
        else:
            colors_p[c] = cmap(extra % 20)
            extra += 1
    return colors_t, colors_p


def _runs(labels):
    b = np.concatenate([[0], metrics.boundaries(labels), [len(labels)]])
    return [(int(a), int(e), labels[a]) for a, e in zip(b[:-1], b[1:])]


def segmentation_bars(path, true, pred, fps: float | None = None, title: str = "", class_names=None):
    """Prediction above ground truth (``true`` may be None); matched classes share a colour. Returns the path."""
    pred = np.asarray(pred)
    if true is None:  # no ground truth: the prediction alone
        true_rows, true = [], pred
    else:
        true = np.asarray(true)
        true_rows = [true]
    ct, cp = matched_colors(true, pred)
    fig, axes = plt.subplots(
        1 + len(true_rows), 1, figsize=(12, 1.4 + 1.4 * len(true_rows)), sharex=True, squeeze=False
    )
    axes = axes[:, 0]
    scale = 1.0 / fps if fps else 1.0
    rows = [(axes[0], pred, cp, "prediction")] + [(axes[1], t, ct, "ground truth") for t in true_rows]
    for ax, lab, col, name in rows:
        for a, e, c in _runs(lab):
            ax.barh(0, (e - a) * scale, left=a * scale, color=col[c], height=1.0, edgecolor="none")
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.set_xlim(0, len(true) * scale)
    if class_names is not None:
        handles = [
            matplotlib.patches.Patch(color=ct[c], label=class_names[c]) for c in np.unique(true) if c < len(class_names)
        ]
        axes[-1].legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -1.0),
            ncol=min(5, len(handles)),
            fontsize=8,
            frameon=False,
        )
    axes[-1].set_xlabel("seconds" if fps else "frames")
    if title:
        axes[0].set_title(title)
    return _save(fig, path)


def embedding_3d(path, pca_Nx3, true, pred, title: str = ""):
    """The 3-D PCA embedding coloured by ground truth (left) and by prediction (right)."""
    true, pred = np.asarray(true), np.asarray(pred)
    ct, cp = matched_colors(true, pred)
    fig = plt.figure(figsize=(11, 5))
    for i, (lab, col, name) in enumerate(((true, ct, "ground truth"), (pred, cp, "prediction"))):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        ax.scatter(pca_Nx3[:, 0], pca_Nx3[:, 1], pca_Nx3[:, 2], c=[col[c] for c in lab], s=2, depthshade=False)
        ax.plot(pca_Nx3[:, 0], pca_Nx3[:, 1], pca_Nx3[:, 2], color="0.8", lw=0.3)
        ax.set_title(name)
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
        ax.set_zlabel("PC3")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def loss_curve(path, metrics_jsonl, keys=("loss",), title: str = ""):
    """Training curves from a run's metrics.jsonl."""
    rows = [json.loads(line) for line in open(metrics_jsonl) if line.strip()]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for k in keys:
        pts = [(r["step"], r[k]) for r in rows if k in r]
        if pts:
            ax.plot(*zip(*pts), label=k)
    ax.set_xlabel("step")
    ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(fig, path)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
