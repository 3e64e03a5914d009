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
