"""ASF/AMC and BVH readers: CMU's AMC files give the subject-86 MAT channels, forward kinematics agrees with the
formats' own definitions, and bad files are refused with the file, the line and the field."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from seq2seq_jax import Model, Seq2SeqSegmenter, cli, kinematics
from seq2seq_jax.data import motion, readers, sources
from seq2seq_jax.data import subject86_trials as s86
from seq2seq_jax.data.sources import DataError


@pytest.fixture(scope="module")
def asf_file(data):
    return sources.fetch(s86.ASF_PATH, **data)


@pytest.mark.parametrize("trial", ["01", "09"])
def test_amc_gives_the_subject86_mat_channels(trial, data):
    m = s86.load_amc(trial, **data)
    mat = readers.read_subject86_mat(sources.fetch(s86.mat_path(trial), **data))
    assert m.frames.shape == mat.shape and m.fps == 120.0 and len(m.names) == mat.shape[1]
    assert m.names[:6] == ("root.tx", "root.ty", "root.tz", "root.e0", "root.e1", "root.e2")
    # every channel, every frame: float32 rounding (the MAT files are float64; see docs/motion_files.md)
    np.testing.assert_allclose(m.frames, mat, rtol=0, atol=1e-5)
    assert np.abs(m.frames[:, 3:]).max() > 1.0  # real rotations, not zeros


def _raw_amc(path, frame_number):
    lines = path.read_text().splitlines()
    i = lines.index(str(frame_number))
    out = {}
    for line in lines[i + 1 :]:
        t = line.split()
        if len(t) == 1:
            break
        out[t[0]] = [float(v) for v in t[1:]]
    return out


def test_amc_forward_kinematics_is_the_acclaim_definition(data):
    """Positions from the exp-map frames equal the Acclaim formula on the raw degrees (column vectors:
    W = W_parent C M C^-1, end = parent end + length W direction)."""
    asf = motion.read_asf(sources.fetch(s86.ASF_PATH, **data))
    amc = sources.fetch(s86.amc_path("01"), **data)
    m = motion.read_amc(amc, asf)
    bones = {b.name: b for b in asf.bones}
    for t in (0, 960, 3000):
        raw = _raw_amc(amc, t + 1)
        pos = {"root": np.array(raw["root"][:3])}
        W = {"root": Rotation.from_euler("xyz", raw["root"][3:], degrees=True).as_matrix()}
        for name in m.skeleton.names[1:]:
            b, ang = bones[name], np.zeros(3)
            for d, v in zip(b.dof, raw.get(name, [])):
                ang["xyz".index(d[1])] = v
            W[name] = (
                W[asf.parent[name]] @ b.axis @ Rotation.from_euler("xyz", ang, degrees=True).as_matrix() @ b.axis.T
            )
            pos[name] = pos[asf.parent[name]] + b.length * W[name] @ b.direction
        xyz = kinematics.forward_kinematics(m.frames[t : t + 1], m.skeleton)[0]
        np.testing.assert_allclose(xyz, np.array([pos[n] for n in m.skeleton.names]), atol=1e-4)
    assert len(m.skeleton.bones()) == 30


def _bvh(tmp_path, angles, name="take.bvh", frame_time="0.0166667", extra=""):
    """A small BVH: root (6 channels, ZXY), a spine (YXZ), an arm (XYZ) with an end site."""
    T = len(angles)
    pos = np.stack([np.linspace(0, 10, T), np.full(T, 90.0), np.zeros(T)], 1)
    text = f"""HIERARCHY
ROOT Hips
{{
  OFFSET 0.0 0.0 0.0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {{
    OFFSET 0.0 10.0 1.0
    CHANNELS 3 Yrotation Xrotation Zrotation
    JOINT Arm
    {{
      OFFSET 15.0 2.0 0.0
      CHANNELS 3 Xrotation Yrotation Zrotation
      End Site
      {{
        OFFSET 20.0 0.0 0.0
      }}
    }}
  }}
}}
{extra}MOTION
Frames: {T}
Frame Time: {frame_time}
"""
    rows = np.concatenate([pos, angles], 1)
    text += "\n".join(" ".join(f"{v:.6f}" for v in r) for r in rows) + "\n"
    path = tmp_path / name
    path.write_text(text)
    return path, pos


def test_bvh_frames_rate_and_forward_kinematics(tmp_path):
    rng = np.random.default_rng(0)
    angles = rng.uniform(-80, 80, size=(30, 9))
    path, pos = _bvh(tmp_path, angles)
    m = motion.read_bvh(path)
    assert m.frames.shape == (30, 12) and m.fps == 60.0
    assert m.names[3:7] == ("Hips.e0", "Hips.e1", "Hips.e2", "Spine.e0")
    np.testing.assert_allclose(m.frames[:, :3], pos, atol=1e-5)
    # BVH's own definition, column vectors: W = W_parent R(channels in order, intrinsic), p = p_parent + W_parent o
    xyz = kinematics.forward_kinematics(m.frames, m.skeleton)
    for t in range(0, 30, 7):
        W0 = Rotation.from_euler("ZXY", angles[t, 0:3], degrees=True).as_matrix()
        W1 = W0 @ Rotation.from_euler("YXZ", angles[t, 3:6], degrees=True).as_matrix()
        W2 = W1 @ Rotation.from_euler("XYZ", angles[t, 6:9], degrees=True).as_matrix()
        p1 = pos[t] + W0 @ [0, 10, 1]
        p2 = p1 + W1 @ [15, 2, 0]
        p3 = p2 + W2 @ [20, 0, 0]
        np.testing.assert_allclose(xyz[t], [pos[t], p1, p2, p3], atol=1e-3)
    # one rotation alone: the exp map of its inverse, as the AMC channels (a knee bent by +40 degrees gives -0.698)
    one = np.zeros((1, 9))
    one[0, 6] = 40.0
    e = motion.read_bvh(_bvh(tmp_path, one, "one.bvh")[0]).frames[0, 9:12]
    np.testing.assert_allclose(e, [-np.deg2rad(40), 0, 0], atol=1e-6)
    assert motion.read_bvh(path, fps=50).fps == 50.0


def test_segment_command_and_estimator_read_motion_files(tmp_path, asf_file, data, capsys):
    # the first 1,150 frames of trial 01 (walking, then jump_forward) as an AMC file of its own, beside 86.asf
    src = sources.fetch(s86.amc_path("01"), **data).read_text().splitlines()
    cut = src.index("1151")
    folder = tmp_path / "cmu"
    folder.mkdir()
    (folder / "86_01.amc").write_text("\n".join(src[:cut]) + "\n")
    shutil.copy(asf_file, folder / "86.asf")
    tiny = ["--hidden", "16", "--iterations", "30", "--source", "20", "--target", "10", "--quiet", "--no_plots"]
    out = tmp_path / "out"
    assert cli.main(["segment", str(folder / "86_01.amc"), "--k", "2", "--out", str(out), *tiny]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fps"] == 120.0 and summary["frames"] == 1150 and len(summary["channels"]) == 96
    assert summary["channels"][3] == "root.e0"
    assert "1150 frames at 120 fps, 96 channels" in capsys.readouterr().out
    # the root's position and heading dropped (--root upright): the model sees 93 channels, reads the file's 96
    up = ["segment", str(folder / "86_01.amc"), "--k", "2", "--root", "upright", *tiny]
    assert cli.main(up + ["--out", str(tmp_path / "up")]) == 0
    model = Model.load(tmp_path / "up" / "model")
    assert model.meta.norm.root == "upright" and model.channels == 96 and len(model.meta.norm.mean) == 93
    picked = ["--columns", "lfemur.e0,lfemur.e1,root.tx,root.ty,root.tz,root.e0,root.e1"]
    assert cli.main(up + picked + ["--out", str(tmp_path / "up2")]) == 2
    assert "--columns left lfemur.e0, lfemur.e1, root.tx" in capsys.readouterr().err
    # the skeleton elsewhere: --asf; a wrong one: the unknown bone, by line
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(folder / "86_01.amc", other / "take.amc")
    assert cli.main(["segment", str(other / "take.amc"), "--k", "2", "--out", str(tmp_path / "o2"), *tiny]) == 2
    assert "pass --asf SKELETON.asf" in capsys.readouterr().err
    assert (
        cli.main(
            ["segment", str(other / "take.amc"), "--asf", str(asf_file), "--k", "2", "--out", str(tmp_path / "o3")]
            + tiny
        )
        == 0
    )
    assert cli.main(["segment", str(asf_file), "--k", "2", "--out", str(tmp_path / "o4"), *tiny]) == 2
    assert "is a skeleton, not a motion" in capsys.readouterr().err
    # BVH through the command (rate from Frame Time) and the estimator (a path as X)
    rng = np.random.default_rng(1)
    angles = np.repeat(rng.uniform(-60, 60, size=(2, 9)), 150, axis=0) + rng.normal(scale=2, size=(300, 9))
    bvh, _ = _bvh(tmp_path, angles, frame_time="0.01")  # 3 s: a short video
    joints = ["Spine.e0", "Spine.e1", "Spine.e2", "Arm.e0", "Arm.e1", "Arm.e2"]
    args = [str(bvh), "--k", "2", "--columns", ",".join(joints), "--out", str(tmp_path / "b"), "--video", *tiny]
    assert cli.main(["segment", *args]) == 0
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["fps"] == 100.0 and summary["channels"] == joints  # the video still draws the whole skeleton
    assert [Path(v).suffix for v in summary["video"]] == [".gif", ".mp4"]
    from PIL import Image

    assert Image.open(summary["video"][0]).n_frames == 30  # 3 s at the video's 10 frames a second
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n3,4\n")
    assert cli.main(["segment", str(table), "--k", "2", "--video", "--out", str(tmp_path / "t")]) == 2
    assert "--video draws the skeleton of a motion-capture file" in capsys.readouterr().err
    est = Seq2SeqSegmenter(n_states=2, hidden=16, iterations=30, source=20, target=10)
    labels = est.fit_predict(str(bvh))
    assert labels.shape == (300,) and est.fps_ == 100.0 and est.n_channels_ == 12
    assert est.predict(bvh).shape == (300,)
    est = Seq2SeqSegmenter(n_states=2, hidden=16, iterations=30, source=20, target=10, root="upright")
    assert est.fit_predict(str(bvh)).shape == (300,) and est.model_.meta.norm.root == "upright"
    assert est.model_.channels == 12 and len(est.model_.meta.norm.mean) == 9


def _asf_with(asf_file, tmp_path, old, new):
    text = asf_file.read_text()
    assert old in text
    p = tmp_path / "bad.asf"
    p.write_text(text.replace(old, new, 1))
    return p


def test_bad_amc_and_asf_files_name_the_line_and_field(tmp_path, asf_file, data):
    asf = motion.read_asf(asf_file)
    src = sources.fetch(s86.amc_path("09"), **data).read_text().splitlines()[:100]  # header and 3 frames

    def amc(lines):
        p = tmp_path / "bad.amc"
        p.write_text("\n".join(lines) + "\n")
        return p

    good = amc(src[: src.index("4")])
    assert motion.read_amc(good, asf).frames.shape == (3, 96)
    i = src.index("2") + 3  # a bone line of frame 2
    bone = src[i].split()[0]
    cases = {
        "unknown bone 'lwing'": [*src[:i], "lwing 1 2 3", *src[i + 1 : src.index("4")]],
        f"line {i + 1}: bone '{bone}' has 1 values, the skeleton declares 3": [
            *src[:i],
            f"{bone} 5",
            *src[i + 1 : src.index("4")],
        ],
        "no :DEGREES": [ln for ln in src[: src.index("4")] if ln != ":DEGREES"],
        f"frame 2 (line {src.index('2') + 1}) has no values for {bone}": [*src[:i], *src[i + 1 : src.index("4")]],
        "frame 3 follows frame 1": [ln if ln != "2" else "3" for ln in src[: src.index("3")]],
        f"line {i + 1}: bone '{bone}': 'x' is not a number": [
            *src[:i],
            f"{bone} 1 x 3",
            *src[i + 1 : src.index("4")],
        ],
    }
    for message, lines in cases.items():
        with pytest.raises(DataError, match=r"bad\.amc: .*" + message.replace("(", r"\(").replace(")", r"\)")):
            motion.read_amc(amc(lines), asf)
    with pytest.raises(DataError, match=r"bad\.asf: line \d+: bone lfemur: dof 'rx ry l'"):
        motion.read_asf(_asf_with(asf_file, tmp_path, "dof rx ry rz", "dof rx ry l"))
    with pytest.raises(DataError, match=r"bad\.asf: line \d+: the hierarchy names 'ltibiaa'"):
        motion.read_asf(_asf_with(asf_file, tmp_path, "lfemur ltibia", "lfemur ltibiaa"))
    with pytest.raises(DataError, match=r"bad\.asf: line \d+: direction needs 3 values, got 2"):
        motion.read_asf(_asf_with(asf_file, tmp_path, "direction 0.34202 -0.939693 0", "direction 0.34 -0.93"))


def test_bad_bvh_files_name_the_line_and_field(tmp_path):
    angles = np.zeros((5, 9))
    good, _ = _bvh(tmp_path, angles)
    text = good.read_text()

    def bvh(t):
        p = tmp_path / "bad.bvh"
        p.write_text(t)
        return p

    lines = text.splitlines()
    cases = {
        r"line 24: 1 values, the HIERARCHY declares 12 channels \(the line may be truncated\)": "\n".join(
            [*lines[:23], "0.0", *lines[24:]]
        ),
        r"no MOTION section": text[: text.index("MOTION")],
        r"'Frames: 5' \(line 22\) but 4 frame lines follow \(the file may be truncated\)": "\n".join(lines[:-1]),
        r"line 5: unknown channel 'Wrotation'": text.replace("Zrotation Xrotation Yrotation", "Wrotation X Y", 1),
        r"line 5: CHANNELS needs a count and that many names": text.replace("CHANNELS 6", "CHANNELS 5", 1),
        r"line 1: a BVH file starts with HIERARCHY": text.replace("HIERARCHY", "HIERARCHIE"),
        r"line 23: Frame Time must be > 0": text.replace("Frame Time: 0.0166667", "Frame Time: 0"),
        r"line 23: Frame Time must be > 0 seconds and finite, got inf": text.replace(
            "Frame Time: 0.0166667", "Frame Time: inf"
        ),
        r"line 6: unknown keyword 'JOINTS'": text.replace("JOINT Spine", "JOINTS Spine"),
        r"ends inside joint 'Hips' \(missing '}'\)": text.replace("}\nMOTION", "MOTION"),
    }
    for message, t in cases.items():
        with pytest.raises(DataError, match=r"bad\.bvh: .*" + message):
            motion.read_bvh(bvh(t))
    with pytest.raises(DataError, match="holds its own skeleton"):
        motion.read_motion(good, asf="86.asf")
