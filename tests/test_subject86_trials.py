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
