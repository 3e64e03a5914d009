"""The ``seq2seq-jax`` command (also ``python -m seq2seq_jax``).

    seq2seq-jax segment FILE --k 3 [--fps 120] [--columns a,b,c] [--key NAME] [--out DIR]
    seq2seq-jax segment FILE --k auto
    seq2seq-jax segment FILE --k 4 --fps 120 --preset mocap      # the settings validated on motion capture
    seq2seq-jax segment NEW_FILE --k 3 --restore OUT/model        # reuse a trained model

Writes into --out: labels.csv (frame, label), segments.csv (start, end, label, frames, seconds),
segmentation.png, segmentation_pca.png, summary.json (config, timings, the k scores when --k auto), and the
model checkpoint in model/.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from seq2seq_jax import flags


def _segment_cmd(a) -> int:
    from seq2seq_jax import api
    from seq2seq_jax.checkpoint import CheckpointError
    from seq2seq_jax.data.readers import read_table
    from seq2seq_jax.data.sources import DataError

    try:
        cols = [c for c in a.columns.split(",") if c] if a.columns else None
        x, names = read_table(a.file, key=a.key, columns=cols)
        out = Path(a.out or f"{Path(a.file).stem}_seq2seq")
        res = api.segment(
            x,
            a.k,
            fps=a.fps,
            preset=a.config,
            workdir=None if a.restore else out / "model",
            restore=a.restore,
            progress=not a.quiet,
        )
    except (DataError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["frame", "label"])
        w.writerows(enumerate(res.labels.tolist()))
    with open(out / "segments.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["start", "end", "label", "frames", "seconds"])
        w.writeheader()
        w.writerows(res.segments)
    pngs = [] if a.no_plots else [str(p) for p in res.plot(out)]
    summary = {
        "file": str(a.file),
        "frames": len(x),
        "channels": names,
        "fps": a.fps,
        "k": res.k,
        "k_scores": res.k_scores,
        "segments": len(res.segments),
        "seconds": res.seconds,
        "model": res.workdir,
        "preset": res.config.name,
        "config": {
            "model": vars(res.model.meta.model),
            "train": vars(res.model.meta.train),
            "segmentation": vars(res.config.segment),
        },
        "plots": pngs,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(
        f"{len(x)} frames, {len(names)} channels -> {len(res.segments)} segments in k = {res.k} classes"
        + (
            f" (k chosen by silhouette: {', '.join(f'{k}: {v:.3f}' for k, v in res.k_scores.items())})"
            if res.k_scores
            else ""
        )
    )
    for s in res.segments[:20]:
        print(f"  {s['start']:7d} - {s['end']:7d}  label {s['label']}  {s['seconds']:8.2f} s")
    if len(res.segments) > 20:
        print(f"  ... {len(res.segments) - 20} more in {out / 'segments.csv'}")
    print(
        f"wrote {out}/labels.csv, segments.csv, summary.json"
        + (", plots" if pngs else "")
        + f"; model in {res.workdir}"
    )
    return 0


def _k(v: str):
    if v == "auto":
        return v
    try:
        return int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes a whole number or 'auto', got {v!r}") from None


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="seq2seq-jax", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("segment", help="segment a multichannel time series (CSV, TSV, NPY, MAT)")
    s.add_argument("file")
    s.add_argument("--k", type=_k, required=True, help="number of classes, or 'auto'")
    s.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    s.add_argument("--columns", default=None, help="comma-separated channel names or 0-based indices")
    s.add_argument("--key", default=None, help="array name in a MATLAB file")
    s.add_argument("--out", default=None, help="output folder (default FILE-stem_seq2seq/)")
    s.add_argument("--restore", default=None, help="a model folder (OUT/model) to reuse instead of training")
    flags.add_preset_flags(s, "generic")
    s.add_argument("--no_plots", action="store_true")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    a.config = flags.resolve(s, a)
    return a


def main(argv=None) -> int:
    return _segment_cmd(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
