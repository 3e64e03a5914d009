"""CMU's own ASF/AMC files against the subject-86 MAT files they were converted into (docs/motion_files.md).

    python experiments/motion_files.py                 # reads 86.asf + 86_01.amc / 86_09.amc, compares every channel
    python experiments/motion_files.py --segment       # and runs the command a user would on the AMC file:
                                                       # seq2seq-jax segment 86_TT.amc --k K --preset mocap

The AMC reader (``seq2seq_jax.data.motion``) gives the MAT files' 96 channels; the table prints, per trial, the
largest difference to the MAT file (float64) and to the MAT file rounded to float32 (the frames are float32).
With ``--segment`` the labels are scored against the Barbic et al. segmentation as ``experiments/subject86.py``
scores them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.io

from seq2seq_jax import cli, flags, metrics
from seq2seq_jax.data import sources
from seq2seq_jax.data import subject86_trials as s86

REPO = Path(__file__).resolve().parents[1]
TRIALS = ("01", "09")  # the trials whose AMC files the shared data holds


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", default=",".join(TRIALS))
    p.add_argument("--segment", action="store_true", help="also segment each AMC file with the command")
    p.add_argument("--out", default=str(REPO / "out" / "motion_files"))
    flags.add_data_flags(p)
    a = p.parse_args(argv)
    data = {"data_dir": a.data_dir, "mirror": a.mirror}
    print("trial  frames  channels  read (s)  max |AMC - MAT|  max |AMC - float32(MAT)|  channels off by > 1e-5")
    for trial in a.trials.split(","):
        t0 = time.perf_counter()
        m = s86.load_amc(trial, **data)
        seconds = time.perf_counter() - t0
        mat64 = scipy.io.loadmat(sources.fetch(s86.mat_path(trial), **data))["expmapchannels"]
        d64 = np.abs(m.frames.astype(np.float64) - mat64)
        d32 = np.abs(m.frames - mat64.astype(np.float32))
        off = [m.names[c] for c in np.flatnonzero(d64.max(0) > 1e-5)]
        print(
            f"{trial:>5}  {len(m.frames):6d}  {m.frames.shape[1]:8d}  {seconds:8.2f}  {d64.max():15.3g}  "
            f"{d32.max():24.3g}  {', '.join(off) or 'none'}"
        )
        if a.segment:
            tr = s86.load_trial(trial, **data)
            out = Path(a.out) / trial
            cmd = ["segment", str(sources.fetch(s86.amc_path(trial), **data)), "--k", str(tr.k), "--preset", "mocap"]
            cmd += ["--asf", str(sources.fetch(s86.ASF_PATH, **data)), "--out", str(out), "--force", "--quiet"]
            print("  seq2seq-jax " + " ".join(cmd))
            rc = cli.main(cmd)
            if rc:
                return rc
            labels = np.loadtxt(out / "labels.csv", delimiter=",", skiprows=1, dtype=int)[:, 1]
            s = metrics.all_metrics(tr.labels, labels, list(tr.windows))
            print(
                f"  against Barbic et al.: Hungarian {s['acc_hungarian']:.3f}, ARI {s['ari']:.3f}, "
                f"boundary F1 {s['boundary_f1']:.3f}, {s['n_segments']} segments for {s['n_segments_true']}"
            )
            _same_model_check(m.frames, tr, out / "model", REPO / "checkpoints" / "subject86" / f"trial_{trial}")
    return 0


def _same_model_check(amc_frames, tr, command_model, shipped_model) -> None:
    """Segments the AMC and the MAT frames with the same model (the command's, and the shipped one of
    ``experiments/subject86.py`` when there is one): equal scores say the two inputs segment alike."""
    import jax

    from seq2seq_jax import api, fitting, train

    models = {"command's model": command_model}
    if shipped_model.is_dir():
        models["shipped model"] = shipped_model
    for name, path in models.items():
        acc = [
            metrics.accuracy_hungarian(tr.labels, api.segment(f, tr.k, tr.fps, preset="mocap", restore=path).labels)
            for f in (amc_frames, tr.frames)
        ]
        print(f"  {name}: Hungarian {acc[0]:.4f} on the AMC frames, {acc[1]:.4f} on the MAT frames")
    if len(models) == 2:  # of an ensemble, its models in turn
        pairs = list(zip(*(fitting.saved_members(p) for p in models.values())))
        for i, pair in enumerate(pairs):
            a, b = (train.load(p)[0] for p in pair)
            d = max(float(abs(x - y).max()) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
            which = f" {i}" if len(pairs) > 1 else ""
            print(f"  largest weight difference between the two models{which}: {d:.3g}")


if __name__ == "__main__":
    sys.exit(main())
