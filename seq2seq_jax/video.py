"""Video of a case-(i) segmentation, as the reference's ``generate_video.py``: the skeleton (forward
kinematics of the 117-value frames), the 3-D PCA trajectory of the embedding, and the predicted and
ground-truth label bars growing in time. A GIF through Pillow always; an MP4 too through ffmpeg (the one on the
PATH, else the binary of the imageio-ffmpeg wheel, a dependency).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from seq2seq_jax import kinematics, plots  # noqa: E402


def _render(fig) -> Image.Image:
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())
    return Image.fromarray(buf[..., :3].copy())


def render_frames(
    frames_TxV, pca_Tx3, true, pred, fps: float, video_fps: float = 10.0, max_frames: int = 400, skeleton=None
):
    """PIL images of the video, sampled at ``video_fps`` (at most ``max_frames`` of them); ``skeleton``: a
    ``kinematics.Skeleton`` (default: the 117-value CMU one)."""
    skeleton = skeleton or kinematics.cmu117()
    xyz = kinematics.forward_kinematics(frames_TxV, skeleton)
    T = len(xyz)
    step = max(1, int(round(fps / video_fps)), int(np.ceil(T / max_frames)))
    ct, cp = plots.matched_colors(pred if true is None else true, pred)
    bars = [("prediction", pred, cp)] + ([("truth", true, ct)] if true is not None else [])  # top to bottom
    lim = 0.6 * np.percentile(np.abs(xyz - xyz[:, :1]).max(axis=(1, 2)), 99)  # zoomed on the body
    fig = plt.figure(figsize=(10, 6), dpi=72)
    grid = fig.add_gridspec(2, 2, height_ratios=(4, 1), left=0.1, right=0.98, top=0.95, bottom=0.08, hspace=0.15)
    ax_s = fig.add_subplot(grid[0, 0], projection="3d")
    ax_p = fig.add_subplot(grid[0, 1], projection="3d")
    ax_b = fig.add_subplot(grid[1, :])
    lo, hi = pca_Tx3.min(0), pca_Tx3.max(0)
    images = []
    for t in range(0, T, step):
        ax_s.cla()
        p, r = xyz[t], xyz[t, 0]
        for c, par in skeleton.bones():  # y is up in the CMU, ASF and BVH files
            ax_s.plot([p[c, 0], p[par, 0]], [p[c, 2], p[par, 2]], [p[c, 1], p[par, 1]], color=cp[pred[t]], lw=3)
        ax_s.set_xlim(r[0] - lim, r[0] + lim)
        ax_s.set_ylim(r[2] - lim, r[2] + lim)
        ax_s.set_zlim(r[1] - lim, r[1] + lim)
        ax_s.set_axis_off()
        ax_s.set_title(f"frame {t}  ({t / fps:.1f} s)")
        ax_p.cla()
        q = pca_Tx3[: t + 1]
        ax_p.scatter(q[:, 0], q[:, 1], q[:, 2], c=[cp[c] for c in pred[: t + 1]], s=2, depthshade=False)
        ax_p.set_xlim(lo[0], hi[0])
        ax_p.set_ylim(lo[1], hi[1])
        ax_p.set_zlim(lo[2], hi[2])
        ax_p.set_title("embedding (PCA)")
        ax_b.cla()
        for row, (_, lab, col) in enumerate(reversed(bars)):
            for a, e, c in plots._runs(lab[: t + 1]):
                ax_b.barh(row, e - a, left=a, color=col[c], height=0.8)
        ax_b.set_xlim(0, T)
        ax_b.set_yticks(range(len(bars)), [name for name, _, _ in reversed(bars)])
        ax_b.set_xlabel("frame")
        images.append(_render(fig))
    plt.close(fig)
    return images, fps / step


def ffmpeg_exe() -> str | None:
    """An ffmpeg binary: the one on the PATH, else the one the imageio-ffmpeg wheel carries (None: neither)."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None


def write_video(
    out_dir, name: str, frames_TxV, pca_Tx3, true, pred, fps: float, video_fps: float = 10.0, skeleton=None
):
    """Writes ``name.gif`` and ``name.mp4`` (H.264, when an ffmpeg binary is found) into ``out_dir``; returns the
    paths. ``skeleton``: a ``kinematics.Skeleton`` (default: the 117-value CMU one); ``true`` None: the
    prediction's bar alone."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    true = None if true is None else np.asarray(true)
    images, rate = render_frames(frames_TxV, pca_Tx3, true, np.asarray(pred), fps, video_fps, skeleton=skeleton)
    gif = out_dir / f"{name}.gif"
    images[0].save(gif, save_all=True, append_images=images[1:], duration=int(1000 / rate), loop=0)
    paths = [gif]
    ffmpeg = ffmpeg_exe()
    if ffmpeg:
        with tempfile.TemporaryDirectory() as tmp:
            for i, im in enumerate(images):
                im.save(Path(tmp) / f"{i:05d}.png")
            mp4 = out_dir / f"{name}.mp4"
            subprocess.run(
                [
                    ffmpeg,
                    "-y",
                    "-loglevel",
                    "error",
                    "-framerate",
                    f"{rate:g}",
                    "-i",
                    str(Path(tmp) / "%05d.png"),
                    "-pix_fmt",
                    "yuv420p",
                    "-vf",
                    "pad=ceil(iw/2)*2:ceil(ih/2)*2",
                    str(mp4),
                ],
                check=True,
            )
            paths.append(mp4)
    return paths
