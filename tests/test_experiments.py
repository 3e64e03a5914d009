"""End-to-end: the experiment scripts on tiny models, as a user runs them."""

import importlib.util
import json
from pathlib import Path

import jax
import numpy as np
import pytest


REPO = Path(__file__).resolve().parents[1]


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _data_args(data):
    return ["--data_dir", str(data["data_dir"])] + (["--mirror", str(data["mirror"])] if data["mirror"] else [])


def test_subject86_train_then_restore_reproduces(tmp_path, data, capsys):
    s86 = _script("subject86")
    common = ["--trial", "09", "--train_dir", str(tmp_path / "ckpt"), "--quiet"] + _data_args(data)
    tiny = ["--hidden", "16", "--iterations", "30", "--source_seq_len", "20", "--target_seq_len", "10"]
    assert s86.main(common + tiny + ["--out", str(tmp_path / "a")]) == 0
    trained = json.loads((tmp_path / "a" / "results.json").read_text())["trials"][0]
    assert trained["oracle"]["note"].startswith("uses the ground-truth boundaries")
    assert trained["baseline"]["note"].startswith("ruptures") and 0 <= trained["baseline"]["acc_hungarian"] <= 1
    for f in trained["files"]:
        assert Path(f).stat().st_size > 5000  # a real PNG, not an empty file
    assert s86.main(common + ["--restore", "--out", str(tmp_path / "b"), "--no_plots"]) == 0
    restored = json.loads((tmp_path / "b" / "results.json").read_text())["trials"][0]
    assert restored["ours"] == trained["ours"] and restored["oracle"] == trained["oracle"]
    out = capsys.readouterr().out
    assert "GT-boundaries" in out and "mean" in out and "baseline (ruptures" in out
    # --restore on all trials evaluates those that have a checkpoint and says which it skipped
    args = ["--trial", "all", "--restore", "--train_dir", str(tmp_path / "ckpt"), "--quiet", "--no_plots", "--no_oracle",
            "--out", str(tmp_path / "c")] + _data_args(data)
    assert s86.main(args) == 0
    assert [r["trial"] for r in json.loads((tmp_path / "c" / "results.json").read_text())["trials"]] == ["09"]
    assert "skipped" in capsys.readouterr().out


def test_subject86_errors(tmp_path, data, capsys):
    s86 = _script("subject86")
    assert s86.main(["--trial", "15", "--quiet"] + _data_args(data)) == 2
    assert "unknown subject-86 trial '15'" in capsys.readouterr().err
    assert s86.main(["--trial", "09", "--restore", "--train_dir", str(tmp_path / "none")] + _data_args(data)) == 2
    assert "no checkpoint in" in capsys.readouterr().err


def test_concat_cmu_tiny_run(tmp_path, data, capsys):
    cc = _script("concat_cmu")
    args = ["--actions", "walking,running", "--hidden", "16", "--iterations", "20", "--train_dir", str(tmp_path / "ckpt"),
            "--out", str(tmp_path / "out"), "--quiet", "--seed", "2"] + _data_args(data)
    assert cc.main(args) == 0
    run = json.loads((tmp_path / "out" / "results.json").read_text())["runs"][0]
    assert run["actions"] == ["walking", "running"]
    for proto in ("ours", "reference_cut_rule"):
        assert -1 <= run[proto]["ari"] <= 1 and 0 <= run[proto]["boundary_f1"] <= 1
    assert "reference cut rule" in capsys.readouterr().out
    # the one join is found as a splice, and the two pieces are the two classes (whatever the tiny model learnt)
    join = run["clips"][1][2]
    assert len(run["ours"]["splices"]) == 1 and abs(run["ours"]["splices"][0] - join) <= 1
    assert run["ours"]["ari"] > 0.95 and run["ours"]["boundary_f1"] == 1.0
    assert cc.main(args[:0] + ["--actions", "dancing", "--quiet"] + _data_args(data)) == 2
    assert "unknown action 'dancing'" in capsys.readouterr().err


def test_concat_cmu_seeds_trained_together_equal_each_alone(tmp_path, data, capsys):
    from seq2seq_jax import train

    cc = _script("concat_cmu")
    args = ["--actions", "walking,running", "--hidden", "16", "--iterations", "20", "--quiet", "--no_plots"] + _data_args(data)
    assert cc.main(args + ["--seed", "2", "--seeds", "2", "--together", "--train_dir", str(tmp_path / "tog"),
                           "--out", str(tmp_path / "a")]) == 0
    assert "trained 2 models together" in capsys.readouterr().out
    runs = json.loads((tmp_path / "a" / "results.json").read_text())["runs"]
    assert [r["seed"] for r in runs] == [2, 3] and all(r["trained_together"] for r in runs)
    assert cc.main(args + ["--seed", "3", "--train_dir", str(tmp_path / "solo"), "--out", str(tmp_path / "b")]) == 0
    name = Path(runs[1]["checkpoint"]).name
    together, meta, _ = train.load(tmp_path / "tog" / name)
    alone, _, _ = train.load(tmp_path / "solo" / name)
    assert meta.train.seed == 3
    for x, y in zip(jax.tree.leaves(together), jax.tree.leaves(alone)):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
    with pytest.raises(SystemExit):
        cc.parse_args(["--cpu_devices", "2"])
    assert "add --together" in capsys.readouterr().err


def test_benchmark_prints_table_and_json(tmp_path, capsys):
    bench = _script("benchmark")
    out = tmp_path / "b.json"
    assert bench.main(["--hidden", "8", "--batch", "4", "--source", "6", "--target", "4", "--dim", "5", "--steps", "2",
                       "--warmup", "1", "--infer_frames", "200", "--models", "2", "--no_torch", "--peak_n", "64", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["info"]["backend"] == "cpu" and res["info"]["config"]["models"] == 2
    assert res["results"]["jax_train"]["ms_per_step"] > 0 and res["results"]["jax_infer"]["frames"] == 200
    assert res["results"]["jax_train_autodiff"]["ms_per_step"] > 0 and res["results"]["speedup_kernel_grads_after_loops"] > 0
    peak = res["info"]["matmul_peak_gflops"]
    assert peak["n"] == 64 and min(peak["numpy_fp32"], peak["xla_fp32"], peak["xla_bf16_fp32acc"]) > 0
    assert res["results"]["jax_train"]["fraction_of_peak"] == pytest.approx(res["results"]["jax_train"]["gflops"] / peak["numpy_fp32"])
    printed = capsys.readouterr().out
    assert "ours (JAX)" in printed and "ours, plain autodiff" in printed
    assert bench.model.forward is not bench.model.forward_autodiff  # the A/B switch is undone after timing
    assert bench.main(["--models", "3", "--split_models", "2", "--no_torch"]) == 2
    assert "--models 3 cannot be split evenly over --split_models 2" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="before JAX starts"):  # JAX is running in this process
        bench.train.use_cpu_devices(2)


def test_benchmark_table_runs_each_row_in_its_own_process(tmp_path, capsys, monkeypatch):
    bench = _script("benchmark")
    tiny = ["--hidden", "8", "--batch", "4", "--source", "6", "--target", "4", "--dim", "5", "--infer_frames", "200"]
    monkeypatch.setattr(bench, "TABLE", (
        ("tiny", tiny, (("of fp32 peak", ("jax_train", "fraction_of_peak"), 0.0),
                        ("training vs PyTorch", ("speedup_train",), 1.5))),
        ("tiny split", tiny + ["--models", "2", "--split_models", "2"], (("of fp32 peak", ("jax_train", "fraction_of_peak"), 2.0),)),
    ))
    out = tmp_path / "t.json"
    assert bench.main(["--table", "--steps", "2", "--warmup", "1", "--no_torch", "--peak_n", "64", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["table"]
    assert [r["name"] for r in rows] == ["tiny", "tiny split"]
    assert rows[1]["run"]["info"]["n_devices"] == 2 and rows[1]["run"]["info"]["config"]["split_models"] == 2  # its own process
    printed = capsys.readouterr().out
    assert "(goal 0%: met)" in printed and "training vs PyTorch: not measured" in printed and "(goal 200%: NOT met)" in printed
    monkeypatch.setattr(bench, "TABLE", (("broken", tiny + ["--models", "3", "--split_models", "2"], ()),))
    assert bench.main(["--table", "--no_torch", "--json", str(out)]) == 2
    assert "the row 'broken' failed" in capsys.readouterr().err


def test_bench_products_layouts_compute_the_same_chain(capsys):
    bp = _script("bench_products")
    rng = np.random.default_rng(0)
    w = (rng.normal(size=(6, 12)) / 3).astype(np.float32)
    h = rng.normal(size=(4, 6)).astype(np.float32)
    np.testing.assert_allclose(bp.chain_rows(h, w), bp.chain_columns(h.T.copy(), w.T.copy()).T, rtol=1e-5, atol=1e-6)
    assert bp.main(["--hidden", "8", "--batch", "4", "--models", "2", "--reps", "1", "--no_torch"]) == 0
    out = capsys.readouterr().out
    assert "rows, 1 model" in out and "columns, 2 models vmapped" in out


def test_study_table_times_only_runs_that_trained(tmp_path):
    study = _script("study")
    sc = {"cpd": {k: 0.5 for k in study.KEYS}}
    rows = [{"config": "h256", "seed": 0, "trial": "01", "scores": sc, "seconds_fit": 60.0, "trained": True},
            {"config": "h256", "seed": 0, "trial": "03", "scores": sc, "seconds_fit": 4.0, "trained": False},  # restored
            {"config": "h256", "seed": 1, "trial": "01", "scores": sc, "seconds_fit": 80.0},  # older rows: no "trained"
            {"config": "h256", "seed": 1, "trial": "03", "scores": sc, "seconds_fit": 0.0}]
    jsonl = tmp_path / "study.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    study.write_table(jsonl, tmp_path / "study.md")
    row = [line for line in (tmp_path / "study.md").read_text().splitlines() if line.startswith("| h256 | cpd |")][0]
    assert row.split("|")[-2].strip() == "70"  # mean of 60 and 80; the restores are not training time


def test_subject86_refuses_negative_smoothing_before_any_work(capsys):
    s86 = _script("subject86")
    assert s86.parse_args([]).cpd_smooth_s == 0.25  # the setting chosen in docs/study.md
    with pytest.raises(SystemExit):
        s86.parse_args(["--cpd_smooth_s", "-1"])
    assert "--cpd_smooth_s must be >= 0" in capsys.readouterr().err


def test_subject86_refuses_a_negative_minimum_of_segments(capsys):
    s86 = _script("subject86")
    assert s86.parse_args([]).min_segments_over_k == 1  # the library default, chosen in docs/study.md
    with pytest.raises(SystemExit):
        s86.parse_args(["--min_segments_over_k", "-1"])
    assert "--min_segments_over_k must be >= 0" in capsys.readouterr().err


def test_subject86_together_trains_each_trial_as_alone(tmp_path, data, capsys):
    from seq2seq_jax import train

    s86 = _script("subject86")
    tiny = ["--hidden", "16", "--iterations", "20", "--source_seq_len", "20", "--target_seq_len", "10", "--quiet",
            "--no_plots", "--no_oracle"] + _data_args(data)
    assert s86.main(["--trial", "01", "09", "--together", "--train_dir", str(tmp_path / "tog"), "--out", str(tmp_path / "a")] + tiny) == 0
    assert "trained 2 trials together" in capsys.readouterr().out
    rows = json.loads((tmp_path / "a" / "results.json").read_text())["trials"]
    assert [r["trial"] for r in rows] == ["01", "09"] and all(r["trained_together"] == 2 for r in rows)
    assert s86.main(["--trial", "09", "--train_dir", str(tmp_path / "solo"), "--out", str(tmp_path / "b")] + tiny) == 0
    together, meta, step = train.load(tmp_path / "tog" / "trial_09")
    alone, _, _ = train.load(tmp_path / "solo" / "trial_09")
    assert step == 20 and meta.data == {"subject86_trial": "09"}
    for a, b in zip(jax.tree.leaves(together), jax.tree.leaves(alone)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(SystemExit):
        s86.parse_args(["--together", "--restore"])
    assert "cannot be combined with --restore" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        s86.parse_args(["--cpu_devices", "2"])
    assert "add --together" in capsys.readouterr().err
    assert s86.main(["--together", "--cpu_devices", "2", "--trial", "09"] + tiny) == 2  # JAX already started here
    assert "must be set before JAX starts" in capsys.readouterr().err


def test_benchmark_runs_the_table_unless_a_configuration_is_given(capsys):
    bench = _script("benchmark")
    assert bench.parse_args([]).table and bench.parse_args(["--steps", "3", "--no_torch"]).table
    assert not bench.parse_args(["--one"]).table and not bench.parse_args(["--dtype", "bfloat16"]).table
    for bad, msg in ((["--table", "--one"], "choose one of them"), (["--table", "--hidden", "256"], "drop the configuration flags")):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)
        assert msg in capsys.readouterr().err
