"""Seq2SeqSegmenter: a scikit-learn estimator, driven the way an aeon / tsseg benchmark harness drives one."""

import numpy as np
import pytest
from sklearn.base import clone
from test_api_cli import FAST, regimes

from seq2seq_jax import Seq2SeqSegmenter, metrics


def _harness(detector_cls, params, series):
    """A benchmark loop as such harnesses write it: construct from keywords, clone, fit_predict each series."""
    proto = detector_cls(**params)
    return [clone(proto).fit_predict(x) for x in series]


def test_the_estimator_follows_the_scikit_learn_protocol_and_segments_regimes():
    params = {
        "n_states": 3,
        "fps": 30.0,
        "hidden": FAST["hidden"],
        "iterations": FAST["iterations"],
        "source": FAST["source"],
        "target": FAST["target"],
        "seed": 0,
    }
    seg = Seq2SeqSegmenter(**params)
    assert seg.get_params()["n_states"] == 3 and seg.get_params()["preset"] == "generic"
    assert clone(seg).get_params() == seg.get_params()
    assert seg.set_params(n_states=4).n_states == 4 and not hasattr(seg, "model_")  # no work in the constructor
    x, y, _ = regimes()
    (labels,) = _harness(Seq2SeqSegmenter, params, [x])
    assert labels.shape == (len(x),) and metrics.accuracy_hungarian(y, labels) >= 0.95
    est = Seq2SeqSegmenter(**params).fit(x)
    assert est.n_states_ == 3 and est.n_channels_ == 4 and len(est.change_points_) >= 5
    np.testing.assert_array_equal(est.change_points_, metrics.boundaries(est.labels_))
    # predict on a second recording with the same channels reuses the fitted model
    x2, y2, _ = regimes(seed=1)
    assert metrics.accuracy_hungarian(y2, est.predict(x2)) >= 0.9
    # aeon's layout (n_channels, n_timepoints) with axis=1 gives the same labels; a 1-D series is one channel
    np.testing.assert_array_equal(Seq2SeqSegmenter(**params, axis=1).fit_predict(x.T), labels)
    assert Seq2SeqSegmenter(**{**params, "n_states": 2}).fit_predict(x[:, 0]).shape == (len(x),)


def test_the_estimator_refuses_what_it_cannot_do():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Seq2SeqSegmenter().predict(np.zeros((100, 2)))
    with pytest.raises(ValueError, match="axis must be 0"):
        Seq2SeqSegmenter(axis=2).fit(np.zeros((100, 2)))
    with pytest.raises(ValueError, match="k must be"):
        Seq2SeqSegmenter(n_states=2.5).fit(np.zeros((100, 2)))
