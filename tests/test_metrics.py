import numpy as np
import pytest

from seq2seq_jax import metrics


def test_permuted_perfect_prediction_scores_one():
    true = np.array([0, 0, 1, 1, 2, 2, 0])
    pred = np.array([5, 5, 3, 3, 9, 9, 5])
    m = metrics.all_metrics(true, pred)
    for k in ("acc_hungarian", "acc_first", "ari", "ami", "nmi", "v_measure"):
        assert m[k] == pytest.approx(1.0), k
    assert m["n_segments"] == 4


def test_first_appearance_is_harsher_than_hungarian():
    true = [0, 1, 2, 2]
    pred = [0, 0, 1, 1]  # an early merge shifts every later label
    assert metrics.accuracy_first_appearance(true, pred) == pytest.approx(0.25)
    assert metrics.accuracy_hungarian(true, pred) == pytest.approx(0.75)
    np.testing.assert_array_equal(metrics.order_labels([7, 7, 3, 9, 3]), [0, 0, 1, 2, 1])


def test_hungarian_is_one_to_one():
    true = [0, 0, 0, 1, 1, 1]
    pred = [0, 0, 0, 0, 0, 0]  # one predicted class cannot be matched to both true classes
    assert metrics.accuracy_hungarian(true, pred) == pytest.approx(0.5)
    assert metrics.hungarian_mapping([0, 0, 1, 1], [1, 1, 0, 0]) == {1: 0, 0: 1}


def test_boundaries_and_segments():
    np.testing.assert_array_equal(metrics.boundaries([0, 0, 1, 1, 1, 0]), [2, 5])
    assert metrics.n_segments([4, 4, 4]) == 1  # the end of the sequence is no boundary


def test_two_boundaries_in_one_window_count_once():
    s = metrics.boundary_scores([12, 15, 55, 80], [(10, 20), (50, 60)])
    assert s["boundaries_matched"] == 2
    assert s["boundary_precision"] == pytest.approx(0.5)
    assert s["boundary_recall"] == pytest.approx(1.0)
    assert s["boundary_f1"] == pytest.approx(2 / 3)


def test_boundary_matching_is_optimal_not_greedy():
    # 7 lies in both windows, 3 only in the first: greedy 7->first would match one, optimal matches two.
    s = metrics.boundary_scores([7, 3], [(0, 10), (5, 15)])
    assert s["boundaries_matched"] == 2 and s["boundary_f1"] == pytest.approx(1.0)


def test_boundary_edge_cases():
    assert metrics.boundary_scores([], [(0, 5)])["boundary_f1"] == 0.0
    assert metrics.boundary_scores([], [])["boundary_f1"] == 1.0
    assert metrics.boundary_scores([3], [])["boundary_precision"] == 0.0
    assert metrics.windows_around([100, 500], 120) == [(-20, 220), (380, 620)]


def test_all_metrics_with_windows_and_bad_input():
    true = np.repeat([0, 1, 0], 100)
    pred = np.repeat([0, 1, 0], [95, 110, 95])
    m = metrics.all_metrics(true, pred, windows=[(90, 110), (190, 210)])
    assert m["boundary_f1"] == pytest.approx(1.0) and m["acc_hungarian"] == pytest.approx(290 / 300)
    with pytest.raises(ValueError, match="3 true labels but 2 predicted"):
        metrics.all_metrics([0, 1, 1], [0, 1])


def _draw(seed, ours, baseline, frames=0.5):
    cols = ("ari", "ami", "v_measure", "acc_hungarian", "boundary_f1")
    row = {"seed": seed}
    for proto, v in (("ours", ours), ("reference_cut_rule", 0.1), ("baseline", baseline), ("frames_ours", frames)):
        row[proto] = {c: v for c in cols}
    return row


def test_paired_difference_counts_draws_ahead_level_and_behind():
    from seq2seq_jax import protocols

    rows = [_draw(0, 0.9, 0.8), _draw(1, 0.5, 0.502), _draw(2, 0.7, 0.9)]
    d = protocols.paired(rows, "ours", "baseline")
    assert d["mean"] == pytest.approx((0.1 - 0.002 - 0.2) / 3)
    assert d["se"] == pytest.approx(np.std([0.1, -0.002, -0.2], ddof=1) / np.sqrt(3))
    assert (d["draws"], d["ahead"], d["level"], d["behind"]) == (3, 1, 1, 1)
    assert np.isnan(protocols.paired(rows[:1], "ours", "baseline")["se"])
    with pytest.raises(ValueError, match="at least one draw"):
        protocols.paired([], "ours", "baseline")
    text = protocols.concat_summary(rows)
    assert f"ours - baseline, paired over 3 draws: ARI {d['mean']:+.3f} ± {d['se']:.3f} (standard error)" in text
    assert "ahead on 1, level on 1, behind on 1" in text
