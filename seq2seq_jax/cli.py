"""The ``seq2seq-jax`` command (also ``python -m seq2seq_jax``).

    seq2seq-jax segment FILE --k 3 [--fps 120] [--columns a,b,c] [--key NAME] [--out DIR]
    seq2seq-jax segment FILE --k auto
    seq2seq-jax segment FILE --k 4 --fps 120 --preset mocap      # the settings validated on motion capture
    seq2seq-jax segment 86_01.amc --k 4 --preset mocap           # CMU's ASF/AMC (86.asf beside it, or --asf)
    seq2seq-jax segment take.bvh --k 3 --preset mocap --video    # BVH (rate from its Frame Time); GIF + MP4
    seq2seq-jax segment NEW_FILE --k 3 --restore OUT/model        # reuse a trained model

Writes into --out: labels.csv (frame, label), segments.csv (start, end, label, frames, seconds),
segmentation.png, segmentation_pca.png, summary.json (config, timings, the k scores when --k auto), the model
checkpoint in model/, and with --video (motion capture) segmentation.gif / .mp4 of the skeleton.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from seq2seq_jax import flags


def _segment_cmd(a) -> int:
    from seq2seq_jax import api, train
    from seq2seq_jax.checkpoint import CheckpointError
    from seq2seq_jax.data import motion
    from seq2seq_jax.data.readers import pick_columns, read_table_info
    from seq2seq_jax.data.sources import DataError

    try:
        cols = [c for c in a.columns.split(",") if c] if a.columns else None
        fps, m = a.fps, None
        if motion.is_motion_file(a.file):
            m = motion.read_motion(a.file, a.asf, a.fps)
            x, names, header, fps = m.frames, list(m.names), None, m.fps
            if cols:
                x, names = pick_columns(x, names, cols, a.file)
            print(f"{a.file}: {len(x)} frames at {fps:g} fps, {len(names)} channels (root position, exp-map joints)")
        else:
            if a.asf:
                raise DataError(f"--asf is the skeleton of an .amc motion; {a.file} is not one")
            if a.video:
                raise DataError(
                    f"--video draws the skeleton of a motion-capture file (.amc, .bvh); {a.file} is not one"
                )
            x, names, header = read_table_info(a.file, key=a.key, columns=cols)
            fps = 30.0 if fps is None else fps
        upright = a.config.model.root == "upright" and not a.restore
        if upright and m is not None and tuple(names[:6]) != m.names[:6]:
            raise DataError(
                "--root upright reads the first six channels as the root's position and rotation "
                f"({', '.join(m.names[:6])}); --columns left {', '.join(names[:6])} there: keep those six first, "
                "or use --root keep"
            )
        if upright and m is None:
            print(
                f"{a.file}: channels 0-2 read as the root's position and 3-5 as its exponential map (--root upright); "
                "for data in another layout use --root keep"
            )
        if header is not None:
            print(
                f"{a.file}: "
                + (
                    f"first row read as channel names ({', '.join(names[:8])}{', ...' if len(names) > 8 else ''})"
                    if header
                    else "no header: the first row is read as data (channels named 0, 1, ...)"
                )
            )
        out = Path(a.out or f"{Path(a.file).stem}_seq2seq")
        data = api.fingerprint(x)["user_sequence"]
        _claim_output(out, a.file, data, a.force, a.restore)
        res = api.segment(
            x,
            a.k,
            fps=fps,
            preset=a.config,
            workdir=None if a.restore else out / "model",
            restore=a.restore,
            progress=not a.quiet,
        )
    except (DataError, CheckpointError, ValueError) as err:
        hint = " (use another --out, or --force to replace it)" if "was trained on" in str(err) else ""
        print(f"error: {err}{hint}", file=sys.stderr)
        return 2
    except train.TrainingInterrupted as err:
        print(f"{err}; no results were written", file=sys.stderr)
        return err.exit_code
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
    videos = []
    if a.video:
        from seq2seq_jax import embed, video

        p3, _ = embed.pca(res.embedding, 3)
        # the skeleton draws all of the file's channels, whichever --columns were segmented
        paths = video.write_video(out, "segmentation", m.frames, p3, None, res.labels, fps, skeleton=m.skeleton)
        videos = [str(p) for p in paths]
    summary = {
        "file": str(a.file),
        "data": data,
        "classes": len(set(res.labels.tolist())),
        "frames": len(x),
        "channels": names,
        "fps": fps,
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
        "video": videos,
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
        + (" and the video" if a.video else "")
        + f"; model in {res.workdir}"
    )
    return 0


def _claim_output(out: Path, file, data: dict, force: bool, restore) -> None:
    """Refuses an output folder that holds the results (or the model) of another recording unless ``force``,
    which removes them first; a folder of the same recording is reused (training resumes there)."""
    import shutil

    from seq2seq_jax.data.sources import DataError

    summary = out / "summary.json"
    if summary.exists():
        try:
            before = json.loads(summary.read_text()).get("data")
        except (OSError, json.JSONDecodeError):
            before = None
        if before != data:
            if not force:
                raise DataError(
                    f"{out} holds the results of another recording ({before or 'unknown data'}); this one is "
                    f"{file} ({data}); use another --out, or --force to replace them"
                )
            for name in ("labels.csv", "segments.csv", "summary.json", "segmentation.png", "segmentation_pca.png"):
                (out / name).unlink(missing_ok=True)
            if not restore and (out / "model").exists():
                shutil.rmtree(out / "model")
    elif force and not restore and (out / "model").exists():
        shutil.rmtree(out / "model")


def _k(v: str):
    if v == "auto":
        return v
    try:
        k = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes a whole number or 'auto', got {v!r}") from None
    if k < 1:
        raise argparse.ArgumentTypeError(f"--k must be >= 1 (or 'auto'), got {k}")
    return k


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="seq2seq-jax", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("segment", help="segment a multichannel time series (CSV, TSV, NPY, MAT, AMC, BVH)")
    s.add_argument("file", help="the recording: .csv .tsv .txt .npy .mat, or motion capture .amc (with its .asf) .bvh")
    s.add_argument("--k", type=_k, required=True, help="number of classes, or 'auto'")
    s.add_argument(
        "--fps",
        type=float,
        default=None,
        help="frames per second (default: a .bvh file's own rate, 120 for .amc as CMU's, else 30)",
    )
    s.add_argument("--asf", default=None, help="the skeleton of an .amc motion (default: NN.asf beside NN_MM.amc)")
    s.add_argument("--columns", default=None, help="comma-separated channel names or 0-based indices")
    s.add_argument("--key", default=None, help="array name in a MATLAB file")
    s.add_argument("--out", default=None, help="output folder (default FILE-stem_seq2seq/)")
    s.add_argument("--restore", default=None, help="a model folder (OUT/model) to reuse instead of training")
    flags.add_preset_flags(s, "generic")
    s.add_argument(
        "--force",
        action="store_true",
        help="replace the results and model in --out even when they come from another recording",
    )
    s.add_argument("--no_plots", action="store_true")
    s.add_argument(
        "--video", action="store_true", help="motion capture: a GIF and an MP4 of the skeleton coloured by segment"
    )
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    a.config = flags.resolve(s, a)
    return a


def main(argv=None) -> int:
    return _segment_cmd(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
