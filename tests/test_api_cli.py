"""Segmenting a user's own data: the Python API and the ``seq2seq-jax segment`` command."""

import csv
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.io

import seq2seq_jax
from seq2seq_jax import cli, metrics
from seq2seq_jax.data.readers import read_table
from seq2seq_jax.data.sources import DataError

FAST = dict(hidden=32, iterations=400, source=20, target=10)


def regimes(seed=0):
    """Sine, sawtooth and noise regimes of different frequencies across 4 channels, switching at known frames."""
    rng = np.random.default_rng(seed)
    lens, cls = [400, 300, 350, 300, 400, 250], [0, 1, 2, 0, 1, 2]
    parts = []
    for c, n in zip(cls, lens):
        t = np.arange(n)
        if c == 0:
            x = np.stack([np.sin(2 * np.pi * t / 40 + p) for p in range(4)], 1)
        elif c == 1:
            x = np.stack([2 * ((t / 25 + p / 4) % 1) - 1 for p in range(4)], 1)
        else:
            x = rng.normal(scale=0.7, size=(n, 4))
        parts.append(x + 0.05 * rng.normal(size=x.shape))
    return np.concatenate(parts), np.repeat(cls, lens), np.cumsum(lens)[:-1]


@pytest.fixture(scope="module")
def synthetic_result():
    x, y, cuts = regimes()
    return x, y, cuts, seq2seq_jax.segment(x, k=3, fps=30, **FAST)


def test_synthetic_regimes_are_recovered(synthetic_result):
    x, y, cuts, res = synthetic_result
    tol = int(0.01 * len(x))
    m = metrics.all_metrics(y, res.labels, metrics.windows_around(cuts, tol))
    assert m["acc_hungarian"] >= 0.95, m
    assert m["boundary_recall"] == 1.0, m  # every true boundary found within 1% of the length
    assert res.labels.shape == (len(x),) and res.embedding.shape == (len(x), 32)
    assert res.segments[0]["start"] == 0 and res.segments[-1]["end"] == len(x)
    assert sum(s["frames"] for s in res.segments) == len(x)
    assert res.segments[0]["seconds"] == pytest.approx(res.segments[0]["frames"] / 30)


def test_model_is_reusable_on_new_data(synthetic_result, tmp_path):
    x, y, _, res = synthetic_result
    x2, y2, cuts2 = regimes(seed=1)
    again = seq2seq_jax.segment(x2, k=3, fps=30, restore=res.model, **FAST)
    assert again.seconds["train"] < res.seconds["train"]  # nothing was trained
    assert metrics.accuracy_hungarian(y2, again.labels) >= 0.9
    with pytest.raises(DataError, match="trained on 4 channels, this sequence has 3"):
        res.model.embed(x2[:, :3])
    paths = res.plot(tmp_path, truth=y)
    assert all(p.stat().st_size > 5000 for p in paths)


def test_k_auto_picks_the_true_number(synthetic_result):
    x, _, _, res = synthetic_result
    auto = seq2seq_jax.segment(x, k="auto", fps=30, restore=res.model, **FAST)
    assert auto.k == 3 and set(auto.k_scores) >= {2, 3, 4}


def test_bad_input():
    x, _, _ = regimes()
    with pytest.raises(DataError, match="empty"):
        seq2seq_jax.segment(np.zeros((0, 3)), k=2)
    with pytest.raises(DataError, match="fewer than one window"):
        seq2seq_jax.segment(x[:25], k=2, **FAST)
    gap = x.copy()
    gap[[10, 11, 500]] = np.nan
    with pytest.raises(DataError, match=r"3 frames contain NaN, frames 11, 12, 501"):
        seq2seq_jax.segment(gap, k=2, **FAST)
    with pytest.raises(DataError, match="k = 500 classes need at least 500 segments"):
        seq2seq_jax.segment(x, k=500, **FAST)
    with pytest.raises(DataError, match="every dimension is constant"):
        seq2seq_jax.segment(np.ones((200, 3)), k=2, **FAST)


def test_constant_channels_are_dropped(tmp_path):
    x, y, _ = regimes()
    xc = np.concatenate([x, np.full((len(x), 1), 7.0)], 1)
    res = seq2seq_jax.segment(xc, k=3, fps=30, workdir=tmp_path, **FAST)
    assert res.model.meta.norm.dim == 4 and res.model.channels == 5
    assert metrics.accuracy_hungarian(y, res.labels) >= 0.95


def test_table_reader(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("hip,knee\n1,2\n3,4\n5,6\n")
    x, names = read_table(p)
    assert names == ["hip", "knee"] and x.shape == (3, 2)
    x, names = read_table(p, columns=["knee"])
    np.testing.assert_array_equal(x[:, 0], [2, 4, 6])
    (tmp_path / "b.tsv").write_text("1\t2\n3\t4\n")
    assert read_table(tmp_path / "b.tsv")[0].shape == (2, 2)
    np.save(tmp_path / "c.npy", np.arange(5.0))
    assert read_table(tmp_path / "c.npy")[0].shape == (5, 1)
    scipy.io.savemat(tmp_path / "d.mat", {"sig": np.ones((4, 3))})
    assert read_table(tmp_path / "d.mat", key="sig")[0].shape == (4, 3)
    for text, match in [
        ("", "empty"),
        ("a,b\n", "only a header"),
        ("1,2\n3,x\n", r"line 2, column 2: 'x' is not a number"),
        ("1,2\n3\n", "line 2 has 1 values separated by commas, expected 2"),
        ("1,2\n,4\n5,nan\n", r"2 frames have missing values.*frames 2, 3"),
    ]:
        (tmp_path / "bad.csv").write_text(text)
        with pytest.raises(DataError, match=match):
            read_table(tmp_path / "bad.csv")
    with pytest.raises(DataError, match="no column 'ankle'"):
        read_table(p, columns=["ankle"])
    with pytest.raises(DataError, match="needs --key"):
        read_table(tmp_path / "d.mat")


def test_command_on_a_hand_written_csv(tmp_path, capsys):
    x, y, _ = regimes()
    f = tmp_path / "my data.csv"
    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "c", "d"])
        w.writerows(np.round(x, 4).tolist())
    out = tmp_path / "out"
    args = [
        str(f),
        "--k",
        "3",
        "--fps",
        "30",
        "--hidden",
        "32",
        "--iterations",
        "400",
        "--source",
        "20",
        "--target",
        "10",
        "--out",
        str(out),
        "--quiet",
    ]
    assert cli.main(["segment"] + args) == 0
    labels = np.loadtxt(out / "labels.csv", delimiter=",", skiprows=1, dtype=int)
    assert labels.shape == (len(x), 2) and metrics.accuracy_hungarian(y, labels[:, 1]) >= 0.95
    segs = list(csv.DictReader(open(out / "segments.csv")))
    assert segs[0]["start"] == "0" and int(segs[-1]["end"]) == len(x)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 3 and summary["channels"] == ["a", "b", "c", "d"] and len(summary["plots"]) == 2
    assert summary["preset"] == "generic" and summary["config"]["segmentation"]["cpd_smooth_s"] == 0.0
    assert "segments in k = 3 classes" in capsys.readouterr().out
    # reuse the model on the same file: no training, same labels
    assert (
        cli.main(
            [
                "segment",
                str(f),
                "--k",
                "3",
                "--fps",
                "30",
                "--restore",
                str(out / "model"),
                "--out",
                str(tmp_path / "again"),
                "--quiet",
                "--no_plots",
            ]
        )
        == 0
    )
    again = np.loadtxt(tmp_path / "again" / "labels.csv", delimiter=",", skiprows=1, dtype=int)
    np.testing.assert_array_equal(again, labels)
    (tmp_path / "empty.csv").write_text("")
    assert cli.main(["segment", str(tmp_path / "empty.csv"), "--k", "2"]) == 2
    assert "empty" in capsys.readouterr().err


def test_module_entry_point_help():
    r = subprocess.run([sys.executable, "-m", "seq2seq_jax", "segment", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--k" in r.stdout


def test_docstring_example_runs():
    import doctest

    import seq2seq_jax.api

    failures, tried = doctest.testmod(seq2seq_jax.api, optionflags=doctest.ELLIPSIS)
    assert tried >= 4 and failures == 0


def test_cli_and_api_take_their_settings_from_a_named_preset(capsys):
    from seq2seq_jax import presets

    assert cli.parse_args(["segment", "f.csv", "--k", "2"]).config == presets.GENERIC
    mocap = cli.parse_args(["segment", "f.csv", "--k", "2", "--preset", "mocap", "--iterations", "7"]).config
    assert mocap.segment == presets.MOCAP.segment and mocap.model == presets.MOCAP.model and mocap.train.iterations == 7
    short = cli.parse_args(["segment", "f.csv", "--k", "2", "--preset", "mocap", "--min_seg_s", "0.5"]).config
    assert short.segment == dataclasses.replace(presets.MOCAP.segment, min_seg_s=0.5)
    for bad, msg in (
        (["--preset", "nope"], "invalid choice"),
        (["--segment_stats", "median"], "invalid choice"),
        (["--cpd_smooth_s", "-0.5"], "cpd_smooth_s must be >= 0"),
        (["--min_seg_s", "0"], "min_seg_s must be > 0"),
    ):
        with pytest.raises(SystemExit):
            cli.parse_args(["segment", "f.csv", "--k", "2", *bad])
        assert msg in capsys.readouterr().err
    x = np.sin(np.arange(400) / 5.0)[:, None] * [1.0, 0.5]
    res = seq2seq_jax.segment(x, 2, preset="mocap", hidden=8, iterations=3)
    assert res.config.segment == presets.MOCAP.segment and res.model.meta.model.hidden == 8
    assert res.model.meta.train.lr == presets.MOCAP.train.lr
    with pytest.raises(ValueError, match="unknown preset"):
        seq2seq_jax.segment(x, 2, preset="nope")


def test_an_ensemble_is_trained_saved_restored_and_refused_where_ambiguous(tmp_path):
    from seq2seq_jax.checkpoint import CheckpointError

    x, y, _ = regimes()
    tiny = dict(hidden=16, iterations=150, source=20, target=10)
    res = seq2seq_jax.segment(x, k=3, fps=30, models=2, seed=1, workdir=tmp_path / "m", **tiny)
    assert isinstance(res.model, seq2seq_jax.Ensemble) and len(res.model.models) == 2
    assert [m.meta.train.seed for m in res.model.models] == [2, 3]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model_0", "model_1"]
    assert res.embedding.shape[0] == len(x) and res.embedding.shape[1] <= 32  # two models' PCA blocks side by side
    assert metrics.accuracy_hungarian(y, res.labels) >= 0.8
    loaded = seq2seq_jax.load(tmp_path / "m")
    assert isinstance(loaded, seq2seq_jax.Ensemble)
    again = seq2seq_jax.segment(x, k=3, fps=30, restore=tmp_path / "m")
    np.testing.assert_array_equal(again.labels, res.labels)
    np.testing.assert_allclose(loaded.embed(x), res.embedding, atol=1e-5)
    # a folder with one model and an ensemble beside it: which one is meant is not guessed
    single = seq2seq_jax.segment(x, k=3, fps=30, workdir=tmp_path / "m", **{**tiny, "iterations": 20})
    assert isinstance(single.model, seq2seq_jax.Model)
    with pytest.raises(CheckpointError, match="both one model .* and an ensemble"):
        seq2seq_jax.load(tmp_path / "m")
