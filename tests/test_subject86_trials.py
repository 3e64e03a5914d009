import dataclasses

import numpy as np
import pytest

from seq2seq_jax.data import readers, sources
from seq2seq_jax.data import subject86_trials as subject86
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.sources import DataError


@pytest.mark.parametrize("trial", subject86.TRIALS)
def test_table_matches_ground_truth_files(trial, data):
    gt = readers.read_ground_truth(sources.fetch(subject86.gt_path(trial), **data))
    names, cuts = subject86.TABLE[trial]
    assert [subject86.ALIASES.get(s.name, s.name) for s in gt] == list(names)
    assert len(cuts) == len(gt) - 1
    for i, (seg, cut) in enumerate(zip(gt, cuts)):
        lo, hi = seg.window
        assert lo <= cut <= hi
        if (trial, i) != ("07", 6):  # documented: the reference cuts at 5700, the file's best is 5770
            assert cut == seg.best, (trial, i)


def test_trial_01_labels_as_the_reference():
    lab = subject86.labels_for("01", 4579)
    want = np.repeat([0, 1, 0, 2, 0, 3, 2], np.diff([0, 550, 1150, 1980, 2500, 3200, 4065, 4579]))
    np.testing.assert_array_equal(lab, want)


def test_load_trial_and_normalize(data):
    t = subject86.load_trial("1", **data)
    assert t.trial == "01" and t.frames.shape == (4579, 96) and t.k == 4
    assert t.class_names == ("walking", "jump_forward", "punching", "leg_kicking")
    assert t.windows[0] == (500, 600) and t.segments()[-1] == (4065, 4579)
    stats = NormStats.fit(t.frames)
    assert stats.dim == 62
    z = stats.apply(t.frames)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-3)
    back = stats.invert(z)
    np.testing.assert_allclose(back[:, stats.keep], t.frames[:, stats.keep], atol=1e-4)
    np.testing.assert_allclose(NormStats.from_dict(stats.to_dict()).apply(t.frames), z)


def test_trial_05_keeps_the_odd_transition(data):
    t = subject86.load_trial("05", **data)
    assert t.windows[4] == (3840, 4000)


def test_unknown_trial():
    with pytest.raises(DataError, match="unknown subject-86 trial '15'.*01, 02"):
        subject86.mat_path("15")


def test_normalize_rejects_bad_input():
    with pytest.raises(DataError, match="NaN"):
        NormStats.fit(np.array([[0.0, 1.0], [np.nan, 2.0]]))
    with pytest.raises(DataError, match="constant"):
        NormStats.fit(np.ones((5, 3)))
    s = NormStats.fit(np.random.default_rng(0).normal(size=(5, 3)))
    with pytest.raises(DataError, match="fitted on 3"):
        s.apply(np.zeros((5, 4)))


def test_shuffled_trial_reorders_pieces_of_one_development_trial_and_leaves_no_splice(data, monkeypatch):
    from seq2seq_jax import segmentation

    read = []
    load = subject86.load_trial
    monkeypatch.setattr(subject86, "load_trial", lambda t, *a, **k: read.append(t) or load(t, *a, **k))
    seq = subject86.shuffled_trial(6, **data)
    assert read == ["01"]  # seed 6 -> the first development trial again; no other trial is read
    np.testing.assert_array_equal(seq.frames, subject86.shuffled_trial(6, **data).frames)  # seeded
    assert subject86.shuffled_trial(0, **data).crops != seq.crops  # another seed, other cuts of the same trial
    assert [subject86.shuffled_trial(s, **data).clips[0][1] for s in range(6)] == [
        f"trial {t}" for t in subject86.DEVELOPMENT_TRIALS
    ]
    tr = load("01", **data)
    assert seq.actions == tr.class_names and len(seq.clips) >= 2 * tr.k  # the same classes, more segments each
    order = [seq.actions.index(c[0]) for c in seq.clips]
    assert all(a != b for a, b in zip(order, order[1:]))  # every join is a change of class
    assert (np.flatnonzero(np.diff(seq.labels)) + 1).tolist() == seq.boundaries
    # each piece lies inside one ground-truth segment, outside its transitions' tolerance windows, and carries
    # that segment's class
    bounds = [0, *(w[1] for w in tr.windows)], [*(w[0] for w in tr.windows), len(tr.frames)]
    for (name, _, _, _), (a, b) in zip(seq.clips, seq.crops):
        inside = [lo <= a and b <= hi for lo, hi in zip(*bounds)]
        assert sum(inside) == 1 and tr.class_names[tr.labels[a]] == name, (a, b)
        assert 1.0 <= (b - a) / tr.fps <= subject86.PIECE_SECONDS[1] + subject86.MIN_PIECE_SECONDS
    no_blend = subject86.shuffled_trial(6, 0.0, **data)
    np.testing.assert_array_equal(no_blend.frames[: seq.crops[0][1] - seq.crops[0][0]], tr.frames[slice(*seq.crops[0])])
    # the joins are cross-faded: nothing leaps; plain joins of the same pieces do
    for q, found in ((seq, 0), (no_blend, len(seq.boundaries))):
        assert len(segmentation.splices(NormStats.fit(q.frames).apply(q.frames), q.fps)) == found
    with pytest.raises(DataError, match="blend_s must be"):
        subject86.shuffled_trial(0, 0.8, **data)


def _turned(frames, angle, shift):
    """The frames turned by ``angle`` about the vertical axis and moved by ``shift`` across the floor (the turn is
    tested against forward kinematics in test_windows_cmu.py)."""
    from seq2seq_jax import kinematics

    return kinematics.turn_about_vertical(frames, angle, (shift, -shift))


def test_upright_root_ignores_where_the_body_stands_and_faces_but_not_its_tilt(data):
    from seq2seq_jax import kinematics

    f = subject86.load_trial("01", **data).frames[:600]
    moved = _turned(f, 2.0, 30.0)
    assert np.abs(moved[:, :6] - f[:, :6]).max() > 1  # the root's channels do change
    u = kinematics.upright_root(f)
    assert u.shape == (600, 93) and u.dtype == np.float32
    np.testing.assert_array_equal(u[:, 3:], f[:, 6:])  # the joints pass through
    np.testing.assert_allclose(kinematics.upright_root(moved), u, atol=1e-4)
    # the lean: two components of the up direction seen from the root, which a tilt of the body moves
    from scipy.spatial.transform import Rotation

    up = Rotation.from_rotvec(f[:, 3:6].astype(np.float64)).as_matrix()[:, :, 1]
    np.testing.assert_allclose(u[:, 1:3], up[:, [0, 2]], atol=1e-6)

    tilted = f.astype(np.float64).copy()
    tilted[:, 3:6] = (Rotation.from_euler("x", 0.5) * Rotation.from_rotvec(tilted[:, 3:6]).inv()).inv().as_rotvec()
    assert np.abs(kinematics.upright_root(tilted.astype(np.float32))[:, 1:3] - u[:, 1:3]).max() > 0.1
    np.testing.assert_array_equal(u[:, 0], f[:, 1])  # the height
    with pytest.raises(DataError, match="root='keep'"):
        kinematics.upright_root(f[:, :6])


def test_normalize_with_the_upright_root_travels_with_its_statistics(data):
    f = subject86.load_trial("01", **data).frames
    s = NormStats.fit(f, root="upright")
    assert s.root == "upright" and s.dim_in == 96 and len(s.mean) == 93
    z = s.apply(f)
    np.testing.assert_allclose(s.apply(_turned(f, -1.0, 12.0)), z, atol=1e-3)  # unlike the channels as given
    assert np.abs(NormStats.fit(f).apply(_turned(f, -1.0, 12.0)) - NormStats.fit(f).apply(f)).max() > 1
    back = NormStats.from_dict({k: np.asarray(v).tolist() for k, v in s.to_dict().items()})  # as a checkpoint
    assert back.root == "upright"
    np.testing.assert_array_equal(back.apply(f), z)
    old = {k: v for k, v in NormStats.fit(f).to_dict().items() if k != "root"}  # saved before the field
    assert NormStats.from_dict(old).root == "keep"
    with pytest.raises(ValueError, match="root must be one of"):
        NormStats.fit(f, root="heading")
    with pytest.raises(DataError, match="fitted on 96"):
        s.apply(f[:, :90])


def test_per_recording_normalization_z_scores_each_recording_by_itself_and_travels_with_a_checkpoint(data, tmp_path):
    """A pooled model's statistics with per_recording z-score any recording by its own mean and spread on the
    dimensions kept in every training recording (fitting.fit_pooled); the flag survives a checkpoint, and one saved
    before the field applies its stored statistics."""
    from seq2seq_jax import fitting, presets, train

    a, b = (subject86.load_trial(t, **data).frames for t in ("01", "09"))
    p = presets.get("subject86")
    tiny = (dataclasses.replace(p.model, hidden=8, source=10, target=5), dataclasses.replace(p.train, iterations=2))
    fits, _ = fitting.fit_pooled([a, b], *tiny, tmp_path / "each", {"t": "01 09"}, False, per_recording=True)
    norm = fits[0][1].norm
    keep = sorted(set(NormStats.fit(a).keep.tolist()) & set(NormStats.fit(b).keep.tolist()))
    assert norm.per_recording and norm.keep.tolist() == keep
    for f in (a, b, a[:500] * 2 + 1):  # each by itself: a scaled, shifted copy gives its own z-scores
        own = NormStats.fit(f)
        np.testing.assert_allclose(norm.apply(f), own.apply(f)[:, np.searchsorted(own.keep, keep)], atol=1e-4)
    np.testing.assert_allclose(norm.apply(a[:500] * 2 + 1), norm.apply(a[:500]), atol=1e-4)
    assert train.load(tmp_path / "each" / "model_0")[1].norm.per_recording  # stored with the checkpoint
    pooled, _ = fitting.fit_pooled([a, b], *tiny, tmp_path / "pooled", {"t": "01 09"}, False)
    stats = pooled[0][1].norm
    assert not stats.per_recording and np.abs(stats.apply(a[:500] * 2 + 1) - stats.apply(a[:500])).max() > 1
    old = {k: v for k, v in stats.to_dict().items() if k != "per_recording"}  # saved before the field
    assert not NormStats.from_dict(old).per_recording
