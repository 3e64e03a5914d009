"""The benchmark scripts (benchmarks/) on tiny sizes: they run, write their JSON and refuse bad flags."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench(name):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # the scripts import their neighbours, as when run from that folder
    return importlib.import_module(name)


def test_machine_tells_an_epyc_from_a_xeon_with_amx():
    from seq2seq_jax import machine

    epyc = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse avx avx2 fma\n"
    xeon = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: avx2 avx512f avx512_bf16 amx_bf16\n"
    a, b = machine.cpu_info(epyc), machine.cpu_info(xeon)
    assert a == {"model": "AMD EPYC 7B13", "avx512f": False, "avx512_bf16": False, "amx_bf16": False}
    assert b == {"model": "Intel(R) Xeon(R) Processor", "avx512f": True, "avx512_bf16": True, "amx_bf16": True}
    line = machine.summary({"cpu": b, "cores": 2, "backend": "cpu"})
    assert line == "Intel(R) Xeon(R) Processor, 2 cores (AVX-512 yes, AMX yes), cpu"
    assert "AVX-512 no, AMX no" in machine.summary({"cpu": a, "cores": 2, "backend": "cpu"})
    assert machine.summary({"cpu": a, "cores": 16, "backend": "gpu", "device": "H100", "n_devices": 1}).endswith(
        "gpu (H100 x 1)"
    )


def test_benchmark_prints_table_and_json(tmp_path, capsys):
    bench = _bench("benchmark")
    out = tmp_path / "b.json"
    assert (
        bench.main(
            [
                "--hidden",
                "8",
                "--batch",
                "4",
                "--source",
                "6",
                "--target",
                "4",
                "--dim",
                "5",
                "--steps",
                "2",
                "--warmup",
                "1",
                "--infer_frames",
                "200",
                "--models",
                "2",
                "--no_torch",
                "--peak_n",
                "64",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    assert res["info"]["backend"] == "cpu" and res["info"]["config"]["models"] == 2
    assert res["results"]["jax_train"]["ms_per_step"] > 0 and res["results"]["jax_infer"]["frames"] == 200
    assert (
        res["results"]["jax_train_autodiff"]["ms_per_step"] > 0
        and res["results"]["speedup_kernel_grads_after_loops"] > 0
    )
    peak = res["info"]["matmul_peak_gflops"]
    assert peak["n"] == 64 and min(peak["numpy_fp32"], peak["xla_fp32"], peak["xla_bf16_fp32acc"]) > 0
    assert res["results"]["jax_train"]["fraction_of_peak"] == pytest.approx(
        res["results"]["jax_train"]["gflops"] / peak["numpy_fp32"]
    )
    printed = capsys.readouterr().out
    assert "ours (JAX)" in printed and "ours, plain autodiff" in printed
    traced = []

    def spy(*args, **kw):  # the forward function is passed in, not patched into the model module
        traced.append(1)
        return bench.model.forward_autodiff(*args, **kw)

    mc = bench.ModelConfig(dim=5, hidden=8, source=6, target=4)
    assert bench.bench_jax_train(mc, bench.TrainConfig(batch=4), 1, 1, 0, forward=spy)[0] > 0 and traced
    assert bench.model.forward is not bench.model.forward_autodiff
    assert bench.main(["--models", "3", "--split_models", "2", "--no_torch"]) == 2
    assert "--models 3 cannot be split evenly over --split_models 2" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="before JAX starts"):  # JAX is running in this process
        bench.sharding.use_cpu_devices(2)


def test_benchmark_table_runs_each_row_in_its_own_process(tmp_path, capsys, monkeypatch):
    bench = _bench("benchmark")
    tiny = ["--hidden", "8", "--batch", "4", "--source", "6", "--target", "4", "--dim", "5", "--infer_frames", "200"]
    monkeypatch.setattr(
        bench.table,
        "TABLE",
        (
            (
                "tiny",
                tiny,
                (
                    ("of fp32 peak", ("jax_train", "fraction_of_peak"), 0.0),
                    ("training vs PyTorch", ("speedup_train",), 1.5),
                ),
            ),
            (
                "tiny split",
                tiny + ["--models", "2", "--split_models", "2"],
                (("of fp32 peak", ("jax_train", "fraction_of_peak"), 2.0),),
            ),
        ),
    )
    out = tmp_path / "t.json"
    assert (
        bench.main(["--table", "--steps", "2", "--warmup", "1", "--no_torch", "--peak_n", "64", "--json", str(out)])
        == 0
    )
    rows = json.loads(out.read_text())["table"]
    assert [r["name"] for r in rows] == ["tiny", "tiny split"]
    assert (
        rows[1]["run"]["info"]["n_devices"] == 2 and rows[1]["run"]["info"]["config"]["split_models"] == 2
    )  # its own process
    printed = capsys.readouterr().out
    assert (
        "(goal 0%: met)" in printed
        and "training vs PyTorch: not measured" in printed
        and "(goal 200%: NOT met)" in printed
    )
    monkeypatch.setattr(bench.table, "TABLE", (("broken", tiny + ["--models", "3", "--split_models", "2"], ()),))
    assert bench.main(["--table", "--no_torch", "--json", str(out)]) == 2
    assert "the row 'broken' failed" in capsys.readouterr().err


def test_bench_products_layouts_compute_the_same_chain(capsys):
    bp = _bench("products")
    rng = np.random.default_rng(0)
    w = (rng.normal(size=(6, 12)) / 3).astype(np.float32)
    h = rng.normal(size=(4, 6)).astype(np.float32)
    np.testing.assert_allclose(bp.chain_rows(h, w), bp.chain_columns(h.T.copy(), w.T.copy()).T, rtol=1e-5, atol=1e-6)
    assert bp.main(["--hidden", "8", "--batch", "4", "--models", "2", "--reps", "1", "--no_torch"]) == 0
    out = capsys.readouterr().out
    assert "rows, 1 model" in out and "columns, 2 models vmapped" in out


def test_benchmark_runs_the_table_unless_a_configuration_is_given(capsys):
    bench = _bench("benchmark")
    assert bench.parse_args([]).table and bench.parse_args(["--steps", "3", "--no_torch"]).table
    assert not bench.parse_args(["--one"]).table and not bench.parse_args(["--dtype", "bfloat16"]).table
    for bad, msg in (
        (["--table", "--one"], "choose one of them"),
        (["--table", "--hidden", "256"], "drop the configuration flags"),
    ):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)
        assert msg in capsys.readouterr().err


def test_accelerator_script_dry_run_writes_every_stage(tmp_path, data):
    acc = _bench("accelerator")
    out = tmp_path / "acc"
    args = ["--dry_run", "--out", str(out), "--data_dir", str(data["data_dir"])]
    assert acc.main(args + (["--mirror", str(data["mirror"])] if data["mirror"] else [])) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["dry_run"] and res["device"]["backend"] == "cpu" and res["peak"]["xla_fp32"] > 0
    assert [r["name"] for r in res["throughput"]][:2] == ["paper config, fp32", "paper config, bf16"]
    assert all(r["ms_per_step"] > 0 and r["fraction_of_peak"] > 0 for r in res["throughput"])
    for name in ("paper", "subject86"):
        r = res["subject86"][name]
        assert r["trials"] == ["09"] and r["train_seconds"] > 0
        assert set(r["mean"]) == {"ours", "oracle", "baseline"} and 0 <= r["mean"]["ours"]["acc_hungarian"] <= 1
    assert res["states"]["frames_per_s"] > 0
    md = (out / "results.md").read_text()
    assert "| paper | 1 | 20 |" in md and "State collection" in md
    assert not list(out.glob("**/checkpoints"))  # the checkpoints stay out of --out
