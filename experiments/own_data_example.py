"""A worked example on a non-mocap signal: a simulated 3-axis wrist accelerometer at 50 Hz.

    python experiments/own_data_example.py          # writes out/own_data/activity.csv, then runs the command on it

The signal strings together rest (gravity plus sensor noise), walking (2 Hz steps), running (3 Hz, larger and
sharper), rest, walking again and arm waving (1.2 Hz, mostly one axis), 8-20 s each, with slow drifts of the
wrist orientation. It is written as a CSV with a header (t, ax, ay, az) and segmented exactly as a user would,
with ``seq2seq-jax segment FILE --k 4 --fps 50 --columns ax,ay,az``; then the labels are scored against the
simulation's truth and the figures are copied into docs/own_data/.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

from seq2seq_jax import cli, metrics, plots
from seq2seq_jax.data.synthetic import ACTIVITIES, FPS, wrist_accelerometer

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(REPO / "out" / "own_data"))
    p.add_argument("--docs", default=str(REPO / "docs" / "own_data"))
    p.add_argument("--iterations", type=int, default=None, help="training steps (default: the generic preset's)")
    a = p.parse_args(argv)
    x, y, cuts = wrist_accelerometer()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "activity.csv"
    t = np.arange(len(x)) / FPS
    np.savetxt(csv_path, np.column_stack([t, x]), delimiter=",", header="t,ax,ay,az", comments="", fmt="%.4f")
    print(f"wrote {csv_path} ({len(x)} frames, {len(x) / FPS:.0f} s)")
    cmd = [
        "segment",
        str(csv_path),
        "--k",
        "4",
        "--fps",
        str(FPS),
        "--columns",
        "ax,ay,az",
        "--out",
        str(out / "result"),
        "--quiet",
    ] + (["--iterations", str(a.iterations)] if a.iterations else [])
    print("seq2seq-jax " + " ".join(cmd))
    rc = cli.main(cmd)
    if rc:
        return rc
    labels = np.loadtxt(out / "result" / "labels.csv", delimiter=",", skiprows=1, dtype=int)[:, 1]
    m = metrics.all_metrics(y, labels, metrics.windows_around(cuts, int(FPS)))
    print(
        f"against the simulation's truth: Hungarian accuracy {m['acc_hungarian']:.3f}, ARI {m['ari']:.3f}, "
        f"boundary F1 {m['boundary_f1']:.3f} (a hit within 1 s), {m['n_segments']} segments for {m['n_segments_true']}"
    )
    docs = Path(a.docs)
    docs.mkdir(parents=True, exist_ok=True)
    plots.segmentation_bars(
        docs / "segmentation_vs_truth.png",
        y,
        labels,
        FPS,
        "simulated wrist accelerometer: ours (k = 4)",
        list(ACTIVITIES),
    )
    for f in ("segmentation_pca.png",):
        shutil.copy(out / "result" / f, docs / f)
    (docs / "README.md").write_text(
        "# Worked example: a simulated wrist accelerometer\n\n"
        "Produced by `python experiments/own_data_example.py` (see its docstring), which writes the signal to a CSV\n"
        "and runs `seq2seq-jax segment activity.csv --k 4 --fps 50 --columns ax,ay,az` on it.\n\n"
        f"Result against the simulation's truth: Hungarian accuracy {m['acc_hungarian']:.3f}, ARI {m['ari']:.3f}, "
        f"boundary F1 {m['boundary_f1']:.3f} (within 1 s), {m['n_segments']} segments predicted for "
        f"{m['n_segments_true']}.\n\n"
        "![segmentation](segmentation_vs_truth.png)\n\n![embedding](segmentation_pca.png)\n"
    )
    print(f"wrote {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
