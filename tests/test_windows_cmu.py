import numpy as np
import pytest

from seq2seq_jax.data import cmu, windows
from seq2seq_jax.data.sources import DataError


def test_window_layout():
    z = np.arange(20, dtype=np.float32)[:, None]
    win, starts = windows.sliding_windows(z, 4, 3, stride=3)
    np.testing.assert_array_equal(starts, [0, 3, 6, 9, 12])
    enc, dec, tgt = windows.split(win, 4)
    np.testing.assert_array_equal(enc[1, :, 0], [3, 4, 5, 6])
    np.testing.assert_array_equal(dec[1, :, 0], [6, 7, 8])
    np.testing.assert_array_equal(tgt[1, :, 0], [7, 8, 9])


def test_random_windows_are_reproducible_and_inside():
    seqs = [np.arange(30, dtype=np.float32)[:, None], 100 + np.arange(8, dtype=np.float32)[:, None]]
    a = windows.random_windows(seqs, 5, 3, 64, np.random.default_rng(1))
    b = windows.random_windows(seqs, 5, 3, 64, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert np.all(np.diff(a[..., 0], axis=1) == 1)  # contiguous frames of one sequence
    first = a[:, 0, 0]
    assert set(first[first < 100].astype(int)) <= set(range(23))  # 30 frames hold starts 0..22
    assert set(first[first >= 100].astype(int)) == {100}  # the 8-frame sequence holds exactly one window


def test_too_short_sequence():
    with pytest.raises(DataError, match="10 frames, fewer than one window of 50 \\+ 25 = 75"):
        windows.sliding_windows(np.zeros((10, 3)), 50, 25)
    with pytest.raises(DataError, match="no sequence has the 75 frames"):
        windows.random_windows(np.zeros((10, 3)), 50, 25, 4, np.random.default_rng(0))


def test_case_i_sequence(data):
    s = cmu.make_sequence(seed=3, num_actions=3, total_num_actions=5, **data)
    again = cmu.make_sequence(seed=3, num_actions=3, total_num_actions=5, **data)
    assert s.clips == again.clips and len(s.clips) == 5 and len(set(s.actions)) == 3
    assert [c[0] for c in s.clips[:3]] == list(s.actions)
    assert s.frames.shape[1] == 117 and len(s.labels) == len(s.frames)
    for a, _, lo, hi in s.clips:  # labels are per action, so a repeated action keeps its label
        assert (s.labels[lo:hi] == s.actions.index(a)).all()
    assert s.boundaries == [c[2] for c in s.clips[1:]]


def test_case_i_by_name_and_errors(data):
    s = cmu.make_sequence(actions=["walking", "running"], **data)
    assert s.actions == ("walking", "running") and len(s.clips) == 2
    with pytest.raises(DataError, match="unknown action 'dancing'"):
        cmu.make_sequence(actions=["dancing"], **data)
    if data["mirror"] is not None:
        with pytest.raises(DataError, match="'washwindow' has no recording available in train/.*available: walking"):
            cmu.make_sequence(actions=["washwindow"], **data)
        t = cmu.make_sequence(actions=["washwindow"], split="test", **data)
        assert t.clips[0][1] == "cmu_mocap/test/washwindow/washwindow_1.txt"


def test_blended_case_i_sequences_leave_no_splice_to_find(data):
    from seq2seq_jax import segmentation
    from seq2seq_jax.data.normalize import NormStats

    plain = cmu.make_sequence(1, 3, 5, **data)
    blended = cmu.make_sequence(1, 3, 5, blend_s=0.5, **data)
    overlap = int(0.5 * cmu.FPS)
    assert len(blended.frames) == len(plain.frames) - 4 * overlap  # each of the 4 joins overlaps half a second
    assert blended.labels.shape == (len(blended.frames),) and blended.actions == plain.actions
    assert [b - a for a, b in zip(plain.boundaries, blended.boundaries)] == [
        -overlap // 2 - i * overlap for i in range(4)
    ]
    for seq, found in ((plain, 4), (blended, 0)):  # the plain joins are splices; the blended ones are not
        z = NormStats.fit(seq.frames).apply(seq.frames)
        assert len(segmentation.splices(z, seq.fps)) == found
    z = NormStats.fit(blended.frames).apply(blended.frames)
    jump = np.abs(np.diff(z, axis=0)).max(1)
    assert all(jump[b - 1] < 10 * np.median(jump) for b in blended.boundaries)  # no channel leaps at a join
    # the horizontal root position walks on across each join instead of jumping back
    root = blended.frames[:, [0, 2]]
    step = np.linalg.norm(np.diff(root, axis=0), axis=1)
    assert all(step[b - 1] < 20 * np.median(step) + 1e-6 for b in blended.boundaries)
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(DataError, match="blend_s must be >= 0 seconds and finite"):
            cmu.make_sequence(1, 3, 5, blend_s=bad, **data)


def test_case_i_recordings_cut_to_max_clip_s(data):
    """max_clip_s cuts each longer recording to a seeded random window of that length, drawn apart from the clips:
    the same seed draws the same recordings, and the sequence holds exactly those windows."""
    from seq2seq_jax.data import readers, sources

    kw = dict(actions=["basketball_signal", "walking"], total_num_actions=3, blend_s=0.5, **data)
    whole = cmu.make_sequence(5, **kw)
    cut = cmu.make_sequence(5, max_clip_s=4.0, **kw)
    assert cmu.make_sequence(5, max_clip_s=4.0, **kw).crops == cut.crops
    assert [c[:2] for c in cut.clips] == [c[:2] for c in whole.clips]
    keep = int(4.0 * cmu.FPS)
    assert len(whole.crops) == len(cut.crops) == 3
    for (first, end), (_, n) in zip(cut.crops, whole.crops):
        assert end - first == min(n, keep) and 0 <= first and end <= n
    assert cut.crops[0][0] > 0  # the gesture recording (26-27 s) is cut somewhere inside
    rec = readers.read_expmap_txt(sources.fetch(cut.clips[0][1], data["data_dir"], data["mirror"]), readers.CMU_VALUES)
    first = cut.crops[0][0]
    np.testing.assert_allclose(cut.frames[:100], rec[first : first + 100], rtol=1e-6)  # the first clip is not moved
    assert len(cut.frames) < len(whole.frames) and len(cut.labels) == len(cut.frames)
    for a, _, lo, hi in cut.clips:
        assert (cut.labels[lo:hi] == cut.actions.index(a)).all() and hi - lo <= keep
    for bad in (0, -2.0, float("inf"), float("nan")):
        with pytest.raises(DataError, match="max_clip_s must be > 0 seconds and finite"):
            cmu.make_sequence(5, max_clip_s=bad, **kw)
    # a cut draw has its own checkpoint folder, and its models record the windows (a restore checks them)
    from seq2seq_jax import protocols

    args = (5, None, 3, ["basketball_signal", "walking"], "train", "/ckpt", data["data_dir"], data["mirror"], 0.5)
    _, d_whole, info_whole = protocols.concat_draw(*args)
    _, d_cut, info_cut = protocols.concat_draw(*args, max_clip_s=4.0)
    assert d_cut.name == d_whole.name + "_max4s" and "case_i_crops" not in info_whole
    assert info_cut["case_i_crops"] == [list(c) for c in cut.crops] and info_cut["max_clip_s"] == 4.0


def test_turn_about_vertical_turns_and_moves_the_body_it_draws(data):
    """kinematics.turn_about_vertical: the joint positions of forward kinematics are those of the frames as given,
    turned about the vertical and moved across the floor; the joints' angles and the upright root do not change."""
    from scipy.spatial.transform import Rotation

    from seq2seq_jax import kinematics

    f = cmu.make_sequence(3, 2, **data).frames[:200]
    g = kinematics.turn_about_vertical(f, 1.2, (5.0, -3.0))
    assert g.dtype == f.dtype and g.shape == f.shape
    np.testing.assert_array_equal(g[:, 6:], f[:, 6:])
    xyz, moved = kinematics.forward_kinematics(f), kinematics.forward_kinematics(g)
    want = Rotation.from_euler("y", 1.2).apply(xyz.reshape(-1, 3)).reshape(xyz.shape) + np.array([5.0, 0.0, -3.0])
    scale = np.abs(xyz).max()
    assert np.abs(moved - xyz).max() > 0.1 * scale  # it does move
    np.testing.assert_allclose(moved, want, atol=1e-6 * scale)
    np.testing.assert_allclose(kinematics.upright_root(g), kinematics.upright_root(f), atol=1e-5)
    turned = np.angle(np.exp(1j * (kinematics.heading(g) - kinematics.heading(f))))  # the heading turns with it
    np.testing.assert_allclose(turned, 1.2, atol=1e-5)
    with pytest.raises(DataError, match="no root in that layout"):
        kinematics.turn_about_vertical(f[:, :5], 1.0)


def test_case_i_clips_turned_about_the_vertical(data):
    """turn_clips turns each clip by its own seeded angle (within a quarter turn) before the joins: the same
    recordings, labels and joint angles, another heading per clip, the same upright root away from the joins, and
    no splice left; a turned draw has its own checkpoint folder and its models record the angles."""
    from seq2seq_jax import kinematics, protocols, segmentation
    from seq2seq_jax.data.normalize import NormStats

    kw = dict(actions=["walking", "soccer"], total_num_actions=3, blend_s=0.5, **data)
    plain, turned = cmu.make_sequence(5, **kw), cmu.make_sequence(5, turn_clips=True, **kw)
    assert turned.turns == tuple(cmu.turn_angles(5, 3)) and plain.turns == ()
    assert all(abs(t) <= np.pi / 2 for t in turned.turns) and len(set(turned.turns)) == 3
    assert turned.clips == plain.clips and (turned.labels == plain.labels).all()
    np.testing.assert_allclose(turned.frames[:, 6:], plain.frames[:, 6:], atol=1e-5)
    assert np.abs(turned.frames[:, 3:6] - plain.frames[:, 3:6]).max() > 0.1
    away = np.ones(len(plain.frames), bool)
    for b in plain.boundaries:
        away[b - 60 : b + 60] = False  # the cross-fades (0.5 s at 120 fps) mix two headings
    up_p, up_t = kinematics.upright_root(plain.frames), kinematics.upright_root(turned.frames)
    np.testing.assert_allclose(up_t[away], up_p[away], atol=1e-4)
    assert len(segmentation.splices(NormStats.fit(turned.frames).apply(turned.frames), turned.fps)) == 0
    args = (5, None, 3, ["walking", "soccer"], "train", "/ckpt", data["data_dir"], data["mirror"], 0.5)
    _, d_plain, info_plain = protocols.concat_draw(*args)
    _, d_turned, info_turned = protocols.concat_draw(*args, turn_clips=True)
    assert d_turned.name == d_plain.name + "_turned" and "case_i_turns" not in info_plain
    assert info_turned["case_i_turns"] == list(turned.turns)
    with pytest.raises(DataError, match="--turn_clips"):
        protocols.concat_draw(1, 3, 5, None, "train", "/ckpt", blend_s=0.5, dataset="regimes", turn_clips=True)


def test_switching_regimes_recur_change_at_every_join_and_leave_no_splice():
    from seq2seq_jax import segmentation
    from seq2seq_jax.data import synthetic
    from seq2seq_jax.data.normalize import NormStats

    seq = synthetic.switching_regimes(3, 4, 9)
    again = synthetic.switching_regimes(3, 4, 9)
    np.testing.assert_array_equal(seq.frames, again.frames)  # seeded
    assert not np.array_equal(seq.frames[:100], synthetic.switching_regimes(4, 4, 9).frames[:100])
    order = [seq.actions.index(c[0]) for c in seq.clips]
    assert len(order) == 9 and sorted(set(order)) == [0, 1, 2, 3]  # every regime, then recurrences
    assert all(a != b for a, b in zip(order, order[1:]))  # every join is a change of regime
    cuts = np.flatnonzero(np.diff(seq.labels)) + 1
    assert cuts.tolist() == seq.boundaries and len(seq.labels) == len(seq.frames)
    lengths = np.diff([0, *seq.boundaries, len(seq.frames)]) / seq.fps
    lo, hi = synthetic.REGIME_SECONDS
    assert lengths.min() > lo - 0.6 and lengths.max() < hi + 0.6  # each segment 3-10 s, less or more half a blend
    z = NormStats.fit(seq.frames).apply(seq.frames)
    assert len(segmentation.splices(z, seq.fps)) == 0  # the joins are cross-faded: nothing leaps
    jump = np.abs(np.diff(z, axis=0)).max(1)
    assert all(jump[b - 1] < 10 * np.median(jump) for b in seq.boundaries)
    # plain joins (no blend) do leap: the regimes differ, so the test above could fail
    assert (
        len(segmentation.splices(NormStats.fit(f := synthetic.switching_regimes(3, 4, 9, 0.0).frames).apply(f), 120))
        > 0
    )
    # regimes_paired: regimes 2i and 2i + 1 sit about one posture, so their segments' means are far closer than
    # those of two regimes of different pairs
    paired = synthetic.switching_regimes(5, 4, 12, shared_postures=True)
    lab = paired.labels
    means = np.stack([paired.frames[lab == r].mean(0) for r in range(4)])
    d = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert max(d[0, 1], d[2, 3]) < 0.5 * min(d[0, 2], d[0, 3], d[1, 2], d[1, 3])
    for k, n, blend, why in ((1, 4, 0.5, "k >= 2"), (4, 3, 0.5, "segments >= k"), (3, 6, 2.0, "blend_s must be")):
        with pytest.raises(DataError, match=why):
            synthetic.switching_regimes(0, k, n, blend)
