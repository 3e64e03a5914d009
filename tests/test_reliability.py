"""Nothing silent, nothing lost: one test per finding of a hostile afternoon of use (tiny models)."""

import json
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import seq2seq_jax
from seq2seq_jax import cli, train
from seq2seq_jax.checkpoint import CheckpointError
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.readers import read_table, read_table_info
from seq2seq_jax.data.sources import DataError

TINY = ["--hidden", "8", "--iterations", "20", "--source", "10", "--target", "5", "--quiet", "--no_plots"]
TINY_API = dict(hidden=8, iterations=20, source=10, target=5)


def _recording(seed, n=600, c=4):
    t = np.arange(n)[:, None]
    rng = np.random.default_rng(seed)
    return np.sin(t / (3.0 + np.arange(c))) * rng.uniform(0.5, 2.0, c) + 0.05 * rng.normal(size=(n, c))


def _csv(path, x, header=True):
    names = ",".join(f"c{i}" for i in range(x.shape[1]))
    np.savetxt(path, x, delimiter=",", header=names if header else "", comments="", fmt="%.6f")
    return path


def test_finding1_a_reused_output_folder_with_other_data_is_refused_not_reused(tmp_path, capsys):
    (tmp_path / "day1").mkdir()
    (tmp_path / "day2").mkdir()
    day1 = _csv(tmp_path / "day1" / "rec.csv", _recording(1))
    day2 = _csv(tmp_path / "day2" / "rec.csv", _recording(2))  # same 600 x 4 shape, other values
    out = tmp_path / "out"
    assert cli.main(["segment", str(day1), "--k", "2", "--out", str(out)] + TINY) == 0
    labels_day1 = (out / "labels.csv").read_text()
    capsys.readouterr()
    assert cli.main(["segment", str(day2), "--k", "2", "--out", str(out)] + TINY) == 2
    err = capsys.readouterr().err
    assert "holds the results of another recording" in err and "--force" in err and str(day2) in err
    assert (out / "labels.csv").read_text() == labels_day1  # nothing of day 1 was overwritten
    # the model folder alone (no summary) is refused too, naming both data fingerprints
    (out / "summary.json").unlink()
    assert cli.main(["segment", str(day2), "--k", "2", "--out", str(out)] + TINY) == 2
    err = capsys.readouterr().err
    assert "was trained on" in err and err.count("sha256") == 2
    assert cli.main(["segment", str(day2), "--k", "2", "--out", str(out), "--force"] + TINY) == 0
    assert (
        json.loads((out / "summary.json").read_text())["data"]
        == seq2seq_jax.api.fingerprint(read_table(day2)[0])["user_sequence"]
    )
    # the API with workdir= refuses a folder trained on other data
    with pytest.raises(CheckpointError, match="was trained on"):
        seq2seq_jax.segment(read_table(day1)[0], 2, workdir=out / "model", **TINY_API)


def test_finding2_an_interrupted_segment_exits_128_plus_signal_and_writes_no_results(tmp_path):
    rec = _csv(tmp_path / "rec.csv", _recording(3))
    out = tmp_path / "out"
    args = ["segment", str(rec), "--k", "2", "--out", str(out), "--hidden", "8", "--iterations", "1000000"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "seq2seq_jax", *args, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (out / "model" / "metrics.jsonl").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "run it again to resume" in err and "no results were written" in err
    assert not (out / "labels.csv").exists() and not (out / "summary.json").exists()
    assert list((out / "model" / "checkpoints").iterdir())  # the training was saved


def test_finding3_bad_settings_are_refused_with_their_value(tmp_path, capsys):
    x = _recording(4)
    for k in (2.7, True, None, "3", 0, -1):
        with pytest.raises(ValueError, match="k must be"):
            seq2seq_jax.segment(x, k, **TINY_API)
    for fps in (0, -30, float("nan")):
        with pytest.raises(ValueError, match="fps must be"):
            seq2seq_jax.segment(x, 2, fps=fps, **TINY_API)
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        seq2seq_jax.segment(x, 2, **{**TINY_API, "iterations": 0})
    with pytest.raises(ValueError, match="batch must be >= 1"):
        seq2seq_jax.segment(x, 2, batch=0, **TINY_API)
    for name, bad in (("hidden", 8.5), ("iterations", float("nan")), ("lr", "0.1")):
        with pytest.raises(ValueError, match=f"{name} must be a (whole )?number, got {bad!r}"):
            seq2seq_jax.segment(x, 2, **{**TINY_API, name: bad})
    # numpy numbers, as a sweep over np.arange gives them, train and save (the config is stored as JSON)
    numpy_kw = {**TINY_API, "hidden": np.int64(8), "lr": np.float32(1e-3)}
    res = seq2seq_jax.segment(x, 2, workdir=tmp_path / "np", **numpy_kw)
    assert type(res.model.meta.model.hidden) is int and type(seq2seq_jax.load(tmp_path / "np").meta.train.lr) is float
    with pytest.raises(DataError, match="k = 20 classes need at least 20 segments.*min_seg_s"):  # 600 frames, 100 fps
        seq2seq_jax.segment(x, 20, fps=100, **TINY_API)
    rec = _csv(tmp_path / "rec.csv", x)
    short = ["--fps", "100", "--min_seg_s", "0.2", "--out", str(tmp_path / "short")]  # room for 28 segments of 0.2 s
    assert cli.main(["segment", str(rec), "--k", "20", *short, *TINY]) == 0
    labels = np.loadtxt(tmp_path / "short" / "labels.csv", delimiter=",", skiprows=1, dtype=int)[:, 1]
    assert len(labels) == len(x) and len(np.unique(labels)) == 20
    for bad, msg in (
        (["--iterations", "-5"], "--iterations must be >= 1"),
        (["--k", "0"], "--k must be >= 1"),
        (["--restore", str(tmp_path), "--hidden", "32"], "drop --hidden"),
    ):
        with pytest.raises(SystemExit):
            cli.main(["segment", str(rec), "--k", "2", *bad])
        assert msg in capsys.readouterr().err
    assert cli.main(["segment", str(rec), "--k", "2", "--fps", "0"] + TINY) == 2
    assert "fps must be > 0" in capsys.readouterr().err
    s86 = _script("subject86")
    for bad in (["--restore", "--hidden", "32"], ["--restore", "--source_seq_len", "25"]):
        with pytest.raises(SystemExit):
            s86.parse_args(bad)
        assert "--restore uses the checkpoint's own model" in capsys.readouterr().err
    # k = "auto" on noise says that no k is convincing
    noise = np.random.default_rng(0).normal(size=(900, 3))
    with pytest.warns(UserWarning, match="no k is convincing"):
        res = seq2seq_jax.segment(noise, "auto", **TINY_API)
    assert res.k_scores["surrogate"] + seq2seq_jax.api.AUTO_K_MARGIN > max(
        v for k, v in res.k_scores.items() if k != "surrogate"
    )


def test_finding4_a_csv_with_a_byte_order_mark_keeps_its_first_frame_and_the_header_choice_is_said(tmp_path, capsys):
    x = _recording(5, n=200)
    body = "\n".join(",".join(f"{v:.4f}" for v in row) for row in x)
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    got, names, header = read_table_info(path)
    assert len(got) == 200 and header is False and names == ["0", "1", "2", "3"]
    np.testing.assert_allclose(got[0], x[0], atol=1e-4)
    _, names, header = read_table_info(_csv(tmp_path / "named.csv", x))
    assert header is True and names == ["c0", "c1", "c2", "c3"]
    assert cli.main(["segment", str(path), "--k", "2", "--out", str(tmp_path / "o")] + TINY) == 0
    assert "no header: the first row is read as data" in capsys.readouterr().out


def _tiny_run(workdir, **kw):
    x = np.sin(np.arange(300)[:, None] / np.array([3.0, 5.0, 7.0]))
    norm = NormStats.fit(x)
    tc = TrainConfig(**{"iterations": 20, "save_every": 10, "log_every": 5, "keep": 5, **kw.pop("tc", {})})
    return train.train(
        ModelConfig(dim=3, hidden=8, source=6, target=4),
        tc,
        norm.apply(x),
        norm,
        workdir,
        {"toy": 1},
        progress=False,
        **kw,
    )


def test_finding5_a_corrupt_latest_checkpoint_falls_back_to_the_newest_valid_step_and_load_continues(tmp_path, capsys):
    straight = _tiny_run(tmp_path / "straight")
    _tiny_run(tmp_path / "run")
    data = [p for p in (tmp_path / "run" / "checkpoints" / "20" / "state").rglob("*") if p.is_file()]
    biggest = max(data, key=lambda p: p.stat().st_size)
    raw = bytearray(biggest.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte
    biggest.write_bytes(bytes(raw[: len(raw) * 3 // 4]))  # and truncated
    params, meta, step = train.load(tmp_path / "run")
    assert step == 10 and "skipped step 20" in capsys.readouterr().out
    resumed = _tiny_run(tmp_path / "run")  # trains 10 -> 20 again; the unreadable step is kept aside
    out = capsys.readouterr().out
    assert "resuming from step 10" in out and "moved to" in out and resumed.step == 20
    np.testing.assert_allclose(resumed.history[-1]["loss"], straight.history[-1]["loss"], rtol=1e-5)
    assert any(p.name.startswith("checkpoints_unreadable") for p in (tmp_path / "run").iterdir())
    (tmp_path / "run" / "checkpoints" / "20" / "meta" / "metadata").unlink()  # a missing meta: same fallback
    assert train.load(tmp_path / "run")[2] == 10
    # --load STEP with later steps saved continues from STEP (the later steps kept aside, no StepAlreadyExists)
    again = _tiny_run(tmp_path / "straight", load_step=10)
    assert again.step == 20 and "the later steps [20] were moved" in capsys.readouterr().out
    with pytest.raises(CheckpointError, match="no checkpoint at that step"):
        _tiny_run(tmp_path / "straight", load_step=15)


def test_finding6_metrics_have_one_row_per_step_after_any_number_of_resumes(tmp_path):
    _tiny_run(tmp_path / "r")
    _tiny_run(tmp_path / "r", load_step=10)
    _tiny_run(tmp_path / "r", load_step=10)
    steps = [json.loads(line)["step"] for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [5, 10, 15, 20]


def test_finding7_unreadable_inputs_get_errors_that_name_the_problem(tmp_path):
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match="not a text file"):
        read_table(binary)
    huge = tmp_path / "huge.csv"
    huge.write_text("a,b\n\n1,2\n\n3,1e300\n4,5\n")
    with pytest.raises(DataError, match=r"line 5, column 2: the value 1e\+300 is infinite or too large"):
        read_table(huge)
    gap = tmp_path / "gap.csv"
    gap.write_text("a,b\n\n1,2\n\n3,\n")
    with pytest.raises(DataError, match=r"frames 2 \(1-based\) \(lines 5\)"):
        read_table(gap)
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="holds Python objects"):
        read_table(obj)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("1,2,3\n4;5;6\n")
    with pytest.raises(DataError, match="separated by commas.*uses ';'"):
        read_table(mixed)
    with pytest.raises(DataError, match="rows of different lengths"):
        seq2seq_jax.segment([[1.0, 2.0], [3.0]], 2)
    with pytest.raises(DataError, match="got a string"):
        seq2seq_jax.segment("recording.csv", 2)
    x = _recording(6)
    x[3, 1] = 1e300
    with pytest.raises(DataError, match="frame 4 .*too large for 32-bit floats"):
        seq2seq_jax.segment(x, 2, **TINY_API)


def test_finding8_no_side_effects_and_auto_k_shows_progress(tmp_path, capsys, monkeypatch):
    # a temporary folder of this test's own: other tests, in other workers, use the system's at the same time
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(CheckpointError, match="does not exist"):
        train.load(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(CheckpointError):
        seq2seq_jax.segment(_recording(7), 2, restore=tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = seq2seq_jax.segment(_recording(7), "auto", progress=True, **TINY_API)
    assert list((tmp_path / "tmp").iterdir()) == [] and res.workdir is None  # its training folder is gone
    assert "choosing k" in capsys.readouterr().err


def _script(name):
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_recording_too_long_for_the_memory_is_refused_before_training(tmp_path, monkeypatch):
    from seq2seq_jax import api

    real = api.available_memory()
    assert real is None or real > 2**20  # this machine's MemAvailable, in bytes
    x = _recording(0)
    need = 16 * len(x) * (32 + x.shape[1])
    monkeypatch.setattr(api, "available_memory", lambda: need - 1)
    with pytest.raises(DataError, match=r"600 frames need about 0\.0 GiB .* but 0\.0 GiB are available; segment"):
        seq2seq_jax.segment(x, 2, hidden=32, iterations=5, workdir=tmp_path / "m")
    assert not (tmp_path / "m").exists()  # refused before training: nothing written
    monkeypatch.setattr(api, "available_memory", lambda: need)
    assert seq2seq_jax.segment(x, 2, hidden=32, iterations=5).labels.shape == (600,)
