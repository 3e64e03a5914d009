import numpy as np
import pytest
from PIL import Image

from seq2seq_jax import kinematics, video
from seq2seq_jax.data.sources import DataError


def test_rest_pose_is_the_sum_of_offsets():
    parent, offset = kinematics.skeleton()
    f = np.zeros((1, 117))
    f[0, :3] = [1.0, 2.0, 3.0]
    xyz = kinematics.forward_kinematics(f)[0]
    for j in range(1, len(parent)):
        np.testing.assert_allclose(xyz[j], offset[j] + xyz[parent[j]], atol=1e-3)


def test_rotations_keep_bone_lengths_and_move_joints():
    parent, offset = kinematics.skeleton()
    rng = np.random.default_rng(0)
    f = np.concatenate([np.zeros((2, 3)), rng.normal(scale=0.5, size=(2, 114))], 1)
    xyz = kinematics.forward_kinematics(f)
    for j in range(1, len(parent)):
        np.testing.assert_allclose(
            np.linalg.norm(xyz[:, j] - xyz[:, parent[j]], axis=1), np.linalg.norm(offset[j]), rtol=1e-4, atol=1e-3
        )
    assert not np.allclose(xyz[0], xyz[1])
    R = kinematics.expmap_to_rotmat(rng.normal(size=(5, 3)))
    np.testing.assert_allclose(R @ np.swapaxes(R, 1, 2), np.broadcast_to(np.eye(3), R.shape), atol=1e-6)
    with pytest.raises(DataError, match="117 values"):
        kinematics.forward_kinematics(np.zeros((2, 99)))


def test_gif_and_mp4_are_written_and_decode(tmp_path):
    rng = np.random.default_rng(1)
    frames = np.concatenate([np.zeros((60, 3)), rng.normal(scale=0.1, size=(60, 114))], 1)
    lab = np.repeat([0, 1], 30)
    paths = video.write_video(
        tmp_path, "clip", frames, rng.normal(size=(60, 3)), lab, lab[::-1], fps=30.0, video_fps=10
    )
    gif = Image.open(paths[0])
    assert paths[0].suffix == ".gif" and gif.n_frames == 20 and gif.size[0] > 300
    # the MP4 (ffmpeg of the imageio-ffmpeg wheel when none is on the PATH) decodes to the same 20 frames
    import imageio_ffmpeg

    assert video.ffmpeg_exe() is not None and [p.suffix for p in paths] == [".gif", ".mp4"]
    reader = imageio_ffmpeg.read_frames(str(paths[1]))
    meta = next(reader)
    decoded = list(reader)
    assert len(decoded) == 20 and tuple(meta["size"]) == (gif.size[0] + gif.size[0] % 2, gif.size[1] + gif.size[1] % 2)
    assert len(decoded[0]) == meta["size"][0] * meta["size"][1] * 3  # RGB frames of that size
