"""End-to-end: the experiment scripts on tiny models, as a user runs them."""

import dataclasses
import importlib.util
import json
import os
from pathlib import Path

import jax
import numpy as np
import pytest

from seq2seq_jax import machine

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
    assert trained["frames_ours"]["note"].startswith("our segmentation") and 0 <= trained["frames_ours"]["ari"] <= 1
    for f in trained["files"]:
        assert Path(f).stat().st_size > 5000  # a real PNG, not an empty file
    assert s86.main(common + ["--restore", "--out", str(tmp_path / "b"), "--no_plots"]) == 0
    restored = json.loads((tmp_path / "b" / "results.json").read_text())["trials"][0]
    assert restored["ours"] == trained["ours"] and restored["oracle"] == trained["oracle"]
    out = capsys.readouterr().out
    assert "GT-boundaries" in out and "mean" in out and "baseline (ruptures" in out
    # the machine is named in the results and in the last line: read off the machine, not written by hand
    info = json.loads((tmp_path / "b" / "results.json").read_text())["machine"]
    assert info["cpu"] == machine.cpu_info() and info["cores"] == os.cpu_count() and info["backend"] == "cpu"
    assert f" s on {machine.summary(info)}" in out
    # --restore on all trials evaluates those that have a checkpoint and says which it skipped
    args = [
        "--trial",
        "all",
        "--restore",
        "--train_dir",
        str(tmp_path / "ckpt"),
        "--quiet",
        "--no_plots",
        "--no_oracle",
        "--out",
        str(tmp_path / "c"),
    ] + _data_args(data)
    assert s86.main(args) == 0
    assert [r["trial"] for r in json.loads((tmp_path / "c" / "results.json").read_text())["trials"]] == ["09"]
    assert "skipped" in capsys.readouterr().out


def test_subject86_upright_root_trains_on_it_keeps_the_baseline_and_refuses_the_other_root(tmp_path, data, capsys):
    from seq2seq_jax import train

    s86 = _script("subject86")
    tiny = ["--trial", "09", "--quiet", "--no_plots", "--no_oracle", "--hidden", "8", "--iterations", "5"]
    tiny += ["--source_seq_len", "10", "--target_seq_len", "10", "--models", "1"] + _data_args(data)
    runs = {}
    for root in ("keep", "upright"):
        args = tiny + ["--root", root, "--train_dir", str(tmp_path / root), "--out", str(tmp_path / f"o_{root}")]
        assert s86.main(args) == 0
        runs[root] = json.loads((tmp_path / f"o_{root}" / "results.json").read_text())["trials"][0]
        meta = train.load(tmp_path / root / "trial_09")[1]
        assert meta.model.root == root and meta.norm.root == root
        assert meta.model.dim == {"keep": 62, "upright": 59}[root]  # six root channels become three
    assert runs["upright"]["baseline"] == runs["keep"]["baseline"]  # the baseline sees the channels as given
    assert runs["upright"]["frames_ours"] != runs["keep"]["frames_ours"]  # ours sees what the model sees
    capsys.readouterr()
    args = tiny + ["--root", "upright", "--train_dir", str(tmp_path / "keep"), "--out", str(tmp_path / "x")]
    assert s86.main(args) != 0
    assert "root: checkpoint 'keep' vs requested 'upright'" in capsys.readouterr().err
    assert train.load(tmp_path / "keep" / "trial_09")[1].model.root == "keep"  # left untouched


def test_subject86_errors(tmp_path, data, capsys):
    s86 = _script("subject86")
    assert s86.main(["--trial", "15", "--quiet"] + _data_args(data)) == 2
    assert "unknown subject-86 trial '15'" in capsys.readouterr().err
    assert s86.main(["--trial", "09", "--restore", "--train_dir", str(tmp_path / "none")] + _data_args(data)) == 2
    assert "no checkpoint in" in capsys.readouterr().err


def test_concat_cmu_tiny_run(tmp_path, data, capsys):
    cc = _script("concat_cmu")
    args = [
        "--actions",
        "walking,running",
        "--hidden",
        "16",
        "--iterations",
        "20",
        "--train_dir",
        str(tmp_path / "ckpt"),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--seed",
        "2",
    ] + _data_args(data)
    assert cc.main(args) == 0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    run = doc["runs"][0]
    assert doc["machine"]["cpu"] == machine.cpu_info()
    assert run["actions"] == ["walking", "running"]
    for proto in ("ours", "reference_cut_rule"):
        assert -1 <= run[proto]["ari"] <= 1 and 0 <= run[proto]["boundary_f1"] <= 1
    assert "reference cut rule" in capsys.readouterr().out
    # the one join is found as a splice, and the two pieces are the two classes (whatever the tiny model learnt)
    join = run["clips"][1][2]
    assert len(run["ours"]["splices"]) == 1 and abs(run["ours"]["splices"][0] - join) <= 1
    assert run["ours"]["ari"] > 0.95 and run["ours"]["boundary_f1"] == 1.0
    assert run["baseline"]["note"].startswith("ruptures") and -1 <= run["baseline"]["ari"] <= 1
    assert run["frames_ours"]["note"].startswith("our segmentation") and -1 <= run["frames_ours"]["ari"] <= 1
    # --blend: the join is blended away, no splice is left, its own checkpoint folder
    assert cc.main(args + ["--blend", "0.5", "--no_plots"]) == 0
    run = json.loads((tmp_path / "out" / "results.json").read_text())["runs"][0]
    assert run["ours"]["splices"] == [] and run["checkpoint"].endswith("_blend0.5")
    assert cc.main(args[:0] + ["--actions", "dancing", "--quiet"] + _data_args(data)) == 2
    assert "unknown action 'dancing'" in capsys.readouterr().err


def test_concat_cmu_scores_synthetic_regimes_and_refuses_cmu_flags_with_them(tmp_path, capsys):
    cc = _script("concat_cmu")
    tiny = ["--preset", "generic", "--hidden", "16", "--iterations", "20", "--quiet", "--no_plots"]
    args = ["--dataset", "regimes_paired", "--num_actions", "3", "--total_num_actions", "5", "--blend", "0.5"]
    args += ["--seeds", "2", "--seed", "4", "--train_dir", str(tmp_path / "ckpt"), "--out", str(tmp_path / "out")]
    assert cc.main(args + tiny) == 0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    from seq2seq_jax.data import synthetic

    for run in doc["runs"]:
        seq = synthetic.switching_regimes(run["seed"], 3, 5, 0.5, shared_postures=True)
        assert run["actions"] == list(seq.actions) and run["frames"] == len(seq.frames)
        assert [c[2] for c in run["clips"][1:]] == seq.boundaries
        assert Path(run["checkpoint"]).name.startswith(f"regimes_paired_seed{run['seed']}_3k_5segments")
        for proto in ("ours", "reference_cut_rule", "baseline", "frames_ours"):
            assert -1 <= run[proto]["ari"] <= 1
    assert [r["seed"] for r in doc["runs"]] == [4, 5] and doc["args"]["dataset"] == "regimes_paired"
    out = capsys.readouterr().out
    assert "ours - baseline, paired over 2 draws" in out and "regime_0" in out
    # pooled by --summarize like any sweep; the other family is other data and is not pooled with it
    assert cc.main(["--summarize", str(tmp_path / "out" / "results.json")]) == 0
    assert "2 draws from 1 file(s)" in capsys.readouterr().out
    # --train_seed_offset: the same draws, models of other seeds in their own subfolder (the first not reused)
    from seq2seq_jax import fitting, train

    assert cc.main(args + tiny + ["--seeds", "1", "--out", str(tmp_path / "o5"), "--train_seed_offset", "5"]) == 0
    run5 = json.loads((tmp_path / "o5" / "results.json").read_text())["runs"][0]
    run0 = doc["runs"][0]
    assert (
        Path(run5["checkpoint"])
        == Path(run0["checkpoint"]).parent / "train_seed_offset5" / Path(run0["checkpoint"]).name
    )
    assert run5["frames"] == run0["frames"] and run5["clips"] == run0["clips"]
    p0, p5 = (train.load(fitting.saved_members(Path(r["checkpoint"]))[0])[0] for r in (run0, run5))
    assert any(not np.allclose(x, y) for x, y in zip(jax.tree.leaves(p0), jax.tree.leaves(p5)))
    capsys.readouterr()
    # diagnose.py reads the same draws back from their checkpoints
    dg = ["--s86_dirs", "none", "--blend_dir", str(tmp_path / "ckpt"), "--dataset", "regimes_paired"]
    dg += ["--num_actions", "3", "--total_num_actions", "5", "--seeds", "2", "--first_seed", "4", "--preset", "generic"]
    assert _script("diagnose").main(dg + ["--out", str(tmp_path / "d.json")]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("regimes_paired 3a5c (2)")
    items = json.loads((tmp_path / "d.json").read_text())["regimes_paired 3a5c (2)"]
    assert [i["seed"] for i in items] == [4, 5] and all(0 < i["ours"]["cuts_true_labels"]["ari"] <= 1 for i in items)
    assert cc.main(args[:-2] + ["--dataset", "regimes", "--out", str(tmp_path / "o2"), "--seeds", "1"] + tiny) == 0
    paths = [str(tmp_path / d / "results.json") for d in ("out", "o2")]
    assert cc.main(["--summarize", *paths]) == 2
    assert "other settings" in capsys.readouterr().err
    for bad in (
        ["--actions", "walking,running"],
        ["--max_clip_s", "8"],
        ["--turn_clips"],
        ["--gen_video"],
        ["--split", "test"],
    ):
        with pytest.raises(SystemExit) as e:
            cc.main(args + tiny + bad)
        assert e.value.code == 2
        assert f"draws synthetic regimes: {bad[0]} only apply to CMU draws" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # diagnose.py refuses them too, before loading anything
        _script("diagnose").main(dg + ["--max_clip_s", "8"])
    assert e.value.code == 2 and "draws synthetic regimes: --max_clip_s only" in capsys.readouterr().err


def test_concat_cmu_scores_shuffled_development_trials_and_refuses_what_the_seed_decides(tmp_path, data, capsys):
    from seq2seq_jax.data import subject86_trials as subject86

    cc, dg = _script("concat_cmu"), _script("diagnose")
    tiny = ["--preset", "generic", "--hidden", "16", "--iterations", "20", "--quiet", "--no_plots"]
    args = ["--dataset", "s86_shuffled", "--blend", "0.5", "--seeds", "1", "--seed", "9"] + _data_args(data)
    args += ["--train_dir", str(tmp_path / "ckpt"), "--out", str(tmp_path / "out")]
    assert cc.main(args + tiny) == 0
    run = json.loads((tmp_path / "out" / "results.json").read_text())["runs"][0]
    seq = subject86.shuffled_trial(9, **data)
    assert (
        run["actions"] == list(seq.actions)
        and run["frames"] == len(seq.frames)
        and run["crops"] == [list(c) for c in seq.crops]
    )
    assert (
        Path(run["checkpoint"]).name
        == f"s86_shuffled_seed9_trial09_{len(seq.actions)}k_{len(seq.clips)}segments_blend0.5"
    )
    assert all(-1 <= run[p]["ari"] <= 1 for p in ("ours", "reference_cut_rule", "baseline", "frames_ours"))
    assert "walking" in capsys.readouterr().out
    d = ["--s86_dirs", "none", "--blend_dir", str(tmp_path / "ckpt"), "--dataset", "s86_shuffled", "--seeds", "1"]
    assert dg.main(d + ["--first_seed", "9", "--preset", "generic"] + _data_args(data)) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("s86_shuffled (1)")
    for bad in (
        ["--num_actions", "3"],
        ["--total_num_actions", "5"],
        ["--max_clip_s", "8"],
        ["--turn_clips"],
        ["--split", "test"],
    ):
        for script, argv in ((cc, args + tiny), (dg, d))[: 1 if bad[0] == "--split" else 2]:  # diagnose: no --split
            with pytest.raises(SystemExit) as e:
                script.main(argv + bad)
            assert e.value.code == 2
            assert f"draws development trials of subject 86: {bad[0]} only apply" in capsys.readouterr().err


def test_concat_cmu_seeds_trained_together_equal_each_alone(tmp_path, data, capsys):
    from seq2seq_jax import train

    cc = _script("concat_cmu")
    args = [
        "--actions",
        "walking,running",
        "--hidden",
        "16",
        "--iterations",
        "20",
        "--quiet",
        "--no_plots",
    ] + _data_args(data)
    assert (
        cc.main(
            args
            + [
                "--seed",
                "2",
                "--seeds",
                "2",
                "--together",
                "--train_dir",
                str(tmp_path / "tog"),
                "--out",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
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


def test_study_table_times_only_runs_that_trained(tmp_path):
    from seq2seq_jax import studies as study

    sc = {"cpd": {k: 0.5 for k in study.KEYS}}
    rows = [
        {"config": "h256", "seed": 0, "trial": "01", "scores": sc, "seconds_fit": 60.0, "trained": True},
        {"config": "h256", "seed": 0, "trial": "03", "scores": sc, "seconds_fit": 4.0, "trained": False},  # restored
        {"config": "h256", "seed": 1, "trial": "01", "scores": sc, "seconds_fit": 80.0},  # older rows: no "trained"
        {"config": "h256", "seed": 1, "trial": "03", "scores": sc, "seconds_fit": 0.0},
    ]
    jsonl = tmp_path / "study.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    study.write_table(jsonl, tmp_path / "study.md")
    row = [line for line in (tmp_path / "study.md").read_text().splitlines() if line.startswith("| h256 | cpd |")][0]
    assert row.split("|")[-2].strip() == "70"  # mean of 60 and 80; the restores are not training time


def test_study_trains_scores_and_resumes_and_each_row_names_its_machine(tmp_path, data, monkeypatch):
    """run_study on a tiny config: one row per config x seed x trial (and per baseline), each naming the machine; a
    second run over the same folders trains and appends nothing."""
    from seq2seq_jax import protocols
    from seq2seq_jax import studies as study
    from seq2seq_jax.config import ModelConfig, TrainConfig

    tiny = (ModelConfig(hidden=16, source=20, target=10), TrainConfig(iterations=10, save_every=10, keep=1))
    monkeypatch.setattr(study, "CONFIGS", {"tiny": tiny})
    monkeypatch.setattr(study, "RAW", {"raw_frames": protocols.BASELINE})
    monkeypatch.setattr(study, "SCORED_ONLY", {"tiny": ("cpd",)})
    args = (["tiny"], [0], ["09"], tmp_path / "ckpt", tmp_path / "out", data["data_dir"], data["mirror"])
    md = study.run_study(*args)
    rows = [json.loads(line) for line in (tmp_path / "out" / "study.jsonl").read_text().splitlines()]
    assert [(r["config"], r["trial"]) for r in rows] == [("raw_frames", "09"), ("tiny", "09")]
    assert all(r["machine"] == machine.summary(machine.describe()) for r in rows)
    assert set(rows[1]["scores"]) == {"cpd"} and rows[1]["trained"] and 0 <= rows[1]["scores"]["cpd"]["ari"] <= 1
    assert "| tiny | cpd | 1 | 09 |" in md.read_text()
    study.run_study(*args)
    assert (tmp_path / "out" / "study.jsonl").read_text().count("\n") == 2
    with pytest.raises(ValueError, match="unknown config 'h9'"):
        study.run_study(["h9"], [0], ["09"], tmp_path / "ckpt", tmp_path / "out")


def test_subject86_flags_start_from_the_preset_and_refuse_bad_values_before_any_work(capsys):
    from seq2seq_jax import presets

    s86 = _script("subject86")
    assert s86.parse_args([]).config == presets.SUBJECT86
    cfg = s86.parse_args(["--cpd_smooth_s", "0.5", "--hidden", "64", "--untied"]).config
    assert (cfg.segment.cpd_smooth_s, cfg.model.hidden, cfg.model.tied) == (0.5, 64, False)
    assert not cfg.model.residual and s86.parse_args(["--residual"]).config.model.residual
    assert cfg.train == presets.SUBJECT86.train and cfg.segment.frames_weight == presets.SUBJECT86.segment.frames_weight
    ward = s86.parse_args(["--linkage", "ward_whitened", "--frames_in_clustering", "no"]).config.segment
    assert (ward.linkage, ward.frames_in_clustering) == ("ward_whitened", False)
    assert (
        s86.parse_args(["--whiten_shrink", "0"]).config.segment.whiten_shrink
        == 0.0
        != presets.SUBJECT86.segment.whiten_shrink
    )
    assert s86.parse_args(["--models", "1", "--data_parallel"]).config.train.models == 1
    paper = s86.parse_args(["--preset", "paper", "--iterations", "5"]).config
    assert (paper.model.hidden, paper.train.lr, paper.train.iterations) == (1024, 1e-4, 5)
    for bad, msg in (
        (["--cpd_smooth_s", "-1"], "cpd_smooth_s must be >= 0"),
        (["--min_segments_over_k", "-1"], "min_segments_over_k must be >= 0"),
        (["--learning_rate", "0"], "learning rate must be > 0"),
        (["--learning_rate", "inf"], "learning rate must be > 0 and finite"),
        (["--min_seg_s", "nan"], "min_seg_s must be a finite number"),
        (["--cpd_smooth_s", "inf"], "cpd_smooth_s must be a finite number"),
        (["--whiten_shrink", "2"], "whiten_shrink must lie in [0, 1]"),
        (["--hidden", "0"], "hidden must be >= 1"),
        (["--preset", "nope"], "invalid choice"),
        (["--frames_in_clustering", "maybe"], "expected yes or no"),
        (["--linkage", "ward_whitened", "--segment_stats", "std"], "use segment_stats 'mean'"),
        (["--models", "0"], "models must be >= 1"),
        (["--data_parallel"], "add --models 1"),  # the preset's ensemble trains together, not data-parallel
        (["--restore", "--residual"], "drop --residual"),  # a restored model keeps its own readout
    ):
        with pytest.raises(SystemExit):
            s86.parse_args(bad)
        assert msg in capsys.readouterr().err


def test_subject86_together_trains_each_trial_as_alone(tmp_path, data, capsys):
    from seq2seq_jax import train

    s86 = _script("subject86")
    tiny = [
        "--hidden",
        "16",
        "--iterations",
        "20",
        "--source_seq_len",
        "20",
        "--target_seq_len",
        "10",
        "--quiet",
        "--no_plots",
        "--no_oracle",
        "--models",
        "1",
    ] + _data_args(data)
    assert (
        s86.main(
            ["--trial", "01", "09", "--together", "--train_dir", str(tmp_path / "tog"), "--out", str(tmp_path / "a")]
            + tiny
        )
        == 0
    )
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


def test_leave_one_trial_out_over_both_layouts_chooses_on_five_trials_own_order_and_shuffled_draws(tmp_path, capsys):
    import json

    from seq2seq_jax import studies

    a, b = (
        "cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv",
        "cpd_ward_states_frames0.5_smooth0.25_minseg2_motion_median_fv",
    )

    def sc(h):
        return {"acc_hungarian": h, "ari": h, "boundary_f1": h}

    trials = ["01", "03", "05"]
    # own order: a 0.9 everywhere, b 0.85; shuffled: a 0.5, b 0.8, except trial 05 where a leads on both (0.9)
    own = {a: {"01": 0.9, "03": 0.9, "05": 0.9}, b: {"01": 0.85, "03": 0.85, "05": 0.85}}
    shuf = {a: {"01": 0.5, "03": 0.5, "05": 0.9}, b: {"01": 0.8, "03": 0.8, "05": 0.6}}
    rows = [
        {"config": "m", "seed": s, "trial": t, "scores": {n: sc(own[n][t]) for n in (a, b)}}
        for s in (0, 1)
        for t in trials
    ]
    rows += [{"config": "raw_frames", "seed": 0, "trial": t, "scores": sc(0.7)} for t in trials]

    def draws(n):
        return [
            {"seed": i, "clips": [["walking", f"trial {t}", 0, 9]], "ours": sc(shuf[n][t]), "baseline": sc(0.6)}
            for i, t in enumerate(trials * 2)
        ]

    res = studies.layouts_loo(rows, "m", {a: draws(a), b: draws(b)})
    # holding out 01: on 03 and 05, a scores (0.7 + 0.9) / 2 = 0.8 and b (0.825 + 0.725) / 2 = 0.775; a is chosen.
    # holding out 05: on 01 and 03, a 0.7, b 0.825: b is chosen, and scores 0.85 and 0.6 on 05.
    assert res["chosen"] == {"01": a, "03": a, "05": b}
    assert res["own"]["chosen"]["ari"] == pytest.approx((0.9 + 0.9 + 0.85) / 3)
    assert res["shuffled"]["chosen"]["ari"] == pytest.approx((0.5 + 0.5 + 0.6) / 3)
    assert res["shuffled"]["baseline"]["ari"] == pytest.approx(0.6) and res["own"]["baseline"]["ari"] == pytest.approx(
        0.7
    )
    assert "leave-one-trial-out" in studies.layouts_loo_report(res)
    with pytest.raises(ValueError, match=r"no shuffled-trial draw of trial\(s\) \['05'\]"):
        studies.layouts_loo(rows, "m", {a: draws(a)[:2], b: draws(b)[:2]})
    with pytest.raises(ValueError, match="same seeds"):
        studies.layouts_loo([r for r in rows if (r["seed"], r["trial"]) != (1, "05")], "m", {a: draws(a), b: draws(b)})
    with pytest.raises(ValueError, match="unknown segmentation"):
        studies.layouts_loo(rows, "m", {"nope": draws(a)})
    # the script checks that each candidate's files are shuffled-trial draws run with that segmentation
    (tmp_path / "study.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    files = {}
    for n in (a, b):
        files[n] = tmp_path / f"{n}.json"
        seg = dataclasses.asdict(studies.SEGMENTATIONS[n])
        files[n].write_text(
            json.dumps({"runs": draws(n), "args": {"dataset": "s86_shuffled"}, "preset": {"segment": seg}})
        )
    study = _script("study")
    cand = ["--candidate", a, str(files[a]), "--candidate", b, str(files[b])]
    assert study.main(["--out", str(tmp_path), "--loo_layouts", "m"] + cand) == 0
    assert f"| 05 | `{b}` |" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # a's draws named as b's: the segmentation differs
        study.main(["--out", str(tmp_path), "--loo_layouts", "m", "--candidate", b, str(files[a])] + cand[:3])
    assert "segmentation differs in linkage" in capsys.readouterr().err


def test_leave_one_trial_out_scores_what_choosing_on_the_other_trials_gives():
    from seq2seq_jax import studies

    def sc(h):
        return {"acc_hungarian": h, "ari": h, "boundary_f1": h}

    trials = ["01", "03", "05"]
    rows = []
    for seed in (0, 1, 2):
        for t in trials:
            # "a" is best on average, but poor on trial 05; "b" is best on 05 alone
            rows.append(
                {
                    "config": "m",
                    "seed": seed,
                    "trial": t,
                    "scores": {"a": sc(0.9 if t != "05" else 0.5), "b": sc(0.7 if t != "05" else 0.8)},
                }
            )
    rows.append({"config": "raw_frames", "seed": 0, "trial": "01", "scores": sc(0.6)})
    res = studies.leave_one_trial_out(rows)
    # holding out 01 (or 03), "b" wins on the other two (0.75 vs 0.7); holding out 05, "a" wins (0.9 vs 0.7)
    assert [res["per_trial"][t]["chosen"] for t in trials] == [("m", "b"), ("m", "b"), ("m", "a")]
    assert res["seeds"][0]["acc_hungarian"] == pytest.approx((0.7 + 0.7 + 0.5) / 3)  # below the in-sample 0.767
    assert res["in_sample"]["chosen"] == ("m", "a") and res["candidates"] == 2
    assert res["in_sample"]["seeds"][0]["acc_hungarian"] == pytest.approx((0.9 + 0.9 + 0.5) / 3)
    assert "leave-one-trial-out" in studies.loo_report(rows)
    with pytest.raises(ValueError, match="no procedure has 3 seeds"):
        studies.leave_one_trial_out([r for r in rows if r["seed"] == 0])
    # within a training budget: a config over it is not a candidate (h256_x3: 3 models x 1000 steps)
    big = [{**r, "config": "h256_x3", "scores": {"a": sc(1.0)}} for r in rows if r["config"] == "m"]
    small = [{**r, "config": "h256"} for r in rows if r["config"] == "m"]
    assert studies.leave_one_trial_out(big + small)["in_sample"]["chosen"] == ("h256_x3", "a")
    within = studies.leave_one_trial_out(big + small, max_model_steps=1500)
    assert within["in_sample"]["chosen"] == ("h256", "a") and within["candidates"] == 2
    assert studies.model_steps("h256_x3") == 3000 and studies.model_steps("h256_it500_x3") == 1500
    # the spread over seeds of one procedure, per trial (the stability of a default)
    rows[0]["scores"]["a"] = sc(0.6)  # seed 0, trial 01
    report = studies.spread_report(rows, "m", "a")
    assert "| 01 | 0.600 | 0.900 | 0.900 | 0.300 |" in report and "| 05 | 0.500 | 0.500 | 0.500 | 0.000 |" in report
    with pytest.raises(ValueError, match="no study rows for m / c"):
        studies.spread_report(rows, "m", "c")


def test_the_presets_are_the_study_procedure_that_validated_them():
    """The subject86 / mocap presets are the study's h256_it500_x3_src25 with the median-of-sixteen segmentation,
    whitened half of the way, the number of change points also at least the class elbow, the chamfer and spectrum
    votes (the rows of docs/study.jsonl and the checks of docs/results/spectrum_votes.md were made with them); the
    stored rows' other configs keep the 50-frame encoder they were trained with, whatever the presets say."""
    from seq2seq_jax import presets, studies

    model, train = studies.CONFIGS["h256_it500_x3_src25"]
    for p in (presets.SUBJECT86, presets.MOCAP):
        assert p.model == model and (p.train.iterations, p.train.models, p.train.lr) == (500, 3, train.lr)
        assert (
            p.segment
            == studies.SEGMENTATIONS[
                "cpd_wward_states_frames0.5_smooth0.25_minseg2_motion_median_fv_shrink0.5_classelbow_chamfervotes"
                "_spectrumvotes"
            ]
        )
    assert studies.CONFIGS["h256"][0].source == 50 and studies.CONFIGS["h256_it500_x3"][0].source == 50
    assert presets.CONCAT_CMU.model == presets.MOCAP.model  # the blends run with --preset mocap check the preset


def test_motion_files_compares_every_amc_channel_with_the_mat_file(data, capsys):
    assert _script("motion_files").main(_data_args(data)) == 0
    rows = [ln.split() for ln in capsys.readouterr().out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["01", "09"] and [r[1] for r in rows] == ["4579", "4794"]
    assert all(float(r[4]) < 1e-5 and float(r[5]) < 1e-12 and r[6] == "none" for r in rows)


def test_diagnose_prints_the_decomposition_for_ours_and_the_frames(tmp_path, data, capsys):
    out = tmp_path / "d.json"
    assert (
        _script("diagnose").main(["--trial", "09", "--out", str(out), "--per_clip", "--curves"] + _data_args(data)) == 0
    )
    printed = capsys.readouterr().out
    # --curves: the first model's two cost curves from k - 1 = 4 change points on, each scaled to 1 there
    printed, curves = printed.split("\ncost curves of the first model")
    curves = curves.strip().splitlines()[1:]
    assert curves[0].startswith("trial 09 (") and "true changes 5" in curves[0] and curves[1].split()[2] == "4"
    kernel, classes = ([float(x) for x in line.split()[2:]] for line in curves[2:4])
    assert kernel[0] == classes[0] == 1.0 and len(kernel) == len(classes) == len(curves[1].split()) - 2
    assert all(b <= a for a, b in zip(kernel, kernel[1:]))  # the best m change points cost no more than m - 1
    # --per_clip: trial 09's six true pieces by name and length, and the class each voter and the pipeline gives them
    printed, per_clip = printed.split("\ntrial 09 (")
    per_clip = per_clip.splitlines()
    # a header, the sixteen voters (three models and the frames, in four views) and the pipeline
    assert "true pieces walking 8.5s, sitting 2.3s" in per_clip[0] and len(per_clip) == 18
    assert per_clip[-1].split()[0] == "pipeline" and len(per_clip[-1].split()) == 7
    rows = printed.strip().splitlines()
    assert rows[1].startswith("subject86 (1)") and "ours" in rows[1] and "frames" in rows[2] and "fcuts" in rows[3]
    saved = json.loads(out.read_text())
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["backend"] == jax.default_backend()
    item = saved["subject86"][0]
    assert item["trial"] == "09" and item["ours"]["true_cuts"] == 5
    c = item["curves"]  # the numbers: each elbow, and the preset places at least both (and k + 1 = 6)
    assert c["true"] == 5 and c["placed"] >= max(c["kernel_elbow"], c["class_elbow"], 6)
    assert len(c["kernel"]) - len(c["classes"]) == 4 and c["class_elbow"] >= 4
    stats = {"mean", "std", "mean_std", "motion", "spectrum"}
    assert 0 < item["ours"]["cuts_true_labels"]["ari"] <= 1 and set(item["frames"]["true_cuts_clustered"]) == stats
    assert set(item["ours"]["cuts_clustered"]) == stats  # our own cuts, each descriptor
    assert set(item["ours"]["frames_cuts_clustered"]) == stats and item["ours"]["frames_cuts"] >= 1  # the frames' cuts
    # the shipped checkpoints are ensembles: each view's models, their agreement and consensus, and the pipeline's
    assert rows[-2].startswith("subject86 (1)") and "ensemble" in rows[-2] and "most agreed view" in rows[-2]
    ens = item["ensemble"]
    assert set(ens["views"]) == {"mean", "motion", "chamfer", "spectrum"} and ens["by_agreement"] in ens["views"]
    assert all(len(v["models"]) == 3 and -1 <= v["agreement"] <= 1 for v in ens["views"].values())
    # every voter of the preset's median consensus (three models and the frames, four views each), and its pick
    assert len(ens["voters"]) == 16 and {ens["median_voter"], ens["best_voter"]} <= set(ens["voters"])
    assert rows[-1].startswith("subject86 (1)") and "frames_motion" in rows[-1] and "the median's voter" in rows[-1]


def test_subject86_ensemble_trains_its_models_together_saves_them_apart_and_restores(tmp_path, data, capsys):
    from seq2seq_jax import train

    s86 = _script("subject86")
    tiny = ["--hidden", "16", "--iterations", "20", "--source_seq_len", "20", "--target_seq_len", "10"]
    common = ["--trial", "09", "--quiet", "--no_plots", "--no_oracle"] + _data_args(data)
    ens = ["--models", "2", "--seed", "1"]
    assert s86.main(common + tiny + ens + ["--train_dir", str(tmp_path / "e"), "--out", str(tmp_path / "a")]) == 0
    trained = json.loads((tmp_path / "a" / "results.json").read_text())["trials"][0]
    assert trained["models"] == 2
    folder = tmp_path / "e" / "trial_09"
    assert sorted(p.name for p in folder.iterdir()) == ["model_0", "model_1"]
    metas = [train.load(folder / f"model_{i}")[1] for i in range(2)]
    assert [m.train.seed for m in metas] == [2, 3]  # seed 1 of an ensemble of 2: seeds 2 and 3, not shared with seed 0
    # each model is the one a single-model run of its seed trains
    assert (
        s86.main(
            common
            + tiny
            + ["--seed", "3", "--models", "1", "--train_dir", str(tmp_path / "s"), "--out", str(tmp_path / "b")]
        )
        == 0
    )
    for a, b in zip(
        jax.tree.leaves(train.load(folder / "model_1")[0]), jax.tree.leaves(train.load(tmp_path / "s" / "trial_09")[0])
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # --restore finds the ensemble and scores it as trained; --together trains the same models
    assert s86.main(common + ["--restore", "--train_dir", str(tmp_path / "e"), "--out", str(tmp_path / "c")]) == 0
    restored = json.loads((tmp_path / "c" / "results.json").read_text())["trials"][0]
    assert restored["models"] == 2 and restored["ours"] == trained["ours"]
    tog = ["--together", "--train_dir", str(tmp_path / "t"), "--out", str(tmp_path / "d")]
    assert s86.main(common + tiny + ens + tog) == 0
    for i in range(2):
        for a, b in zip(
            jax.tree.leaves(train.load(tmp_path / "t" / "trial_09" / f"model_{i}")[0]),
            jax.tree.leaves(train.load(folder / f"model_{i}")[0]),
        ):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    capsys.readouterr()


def test_diagnose_headings_lists_where_each_cmu_recording_faces(data, capsys):
    """--headings: one row per CMU action recording that can be had, with its heading, how far the root went and
    its mean height and lean; no model is needed."""
    from seq2seq_jax import kinematics
    from seq2seq_jax.data import cmu

    assert _script("diagnose").main(["--headings"] + _data_args(data)) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    files = [f for fs in cmu.available_actions(**data).values() for f in fs]
    assert [r.split()[0] for r in rows] == [Path(f).stem for f in files]
    x = cmu.read_recording(files[0], **data)
    cells = rows[0].split()
    mean = np.exp(1j * kinematics.heading(x)).mean()
    assert int(cells[1]) == len(x) and int(cells[2]) == round(float(np.degrees(np.angle(mean))))
    assert float(cells[3]) == round(abs(mean), 2) and float(cells[5]) == round(float(x[:, 1].mean()), 2)


def test_diagnose_reads_the_blended_draws_from_first_seed(tmp_path, data, capsys):
    """--first_seed S: the draws S .. S + N - 1, as trained by concat_cmu.py --seed S --seeds N."""
    ckpt, out = tmp_path / "ckpt", tmp_path / "d.json"
    tiny = ["--num_actions", "2", "--blend", "0.5", "--preset", "generic", "--hidden", "16", "--iterations", "20"]
    cc = tiny + ["--seed", "3", "--train_dir", str(ckpt), "--out", str(tmp_path / "o"), "--no_plots", "--quiet"]
    assert _script("concat_cmu").main(cc + _data_args(data)) == 0
    capsys.readouterr()
    args = ["--s86_dirs", "none", "--blend_dir", str(ckpt), "--num_actions", "2", "--total_num_actions", "2"]
    args += ["--seeds", "1", "--first_seed", "3", "--preset", "generic", "--out", str(out), "--counts"]
    assert _script("diagnose").main(args + _data_args(data)) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].startswith("blend 2a2c (1)")
    (item,) = json.loads(out.read_text())["blend 2a2c (1)"]
    assert item["seed"] == 3 and 0 < item["ours"]["cuts_true_labels"]["ari"] <= 1
    # --counts: the one model's pipeline held to 1 .. 15 change points, the best of them, printed as the mean row
    counts = item["counts"]
    assert counts["counts"] == list(range(1, 16)) and counts["best"] == max(counts["pipeline"])
    assert counts["best_voter"]["ari"] == counts["best"]  # one model, one view: the voter is the pipeline
    assert printed[-2].startswith("blend 2a2c (1)") and f"(an oracle) {counts['best']:.3f}" in printed[-2]
    assert printed[-1].split("|")[1].split()[:2] == ["1:", f"{counts['pipeline'][0]:.3f}"]
    # the preset's segmentation flags change the settings diagnosed: a change point at least every second
    from seq2seq_jax import protocols

    seq, _, _ = protocols.concat_draw(3, 2, 2, None, "train", ckpt, blend_s=0.5, **data)
    out2 = tmp_path / "d2.json"
    args[args.index(str(out))] = str(out2)
    assert _script("diagnose").main(args[:-1] + ["--max_mean_segment_s", "1"] + _data_args(data)) == 0
    (dense,) = json.loads(out2.read_text())["blend 2a2c (1)"]
    assert dense["ours"]["cuts"] > item["ours"]["cuts"] and dense["ours"]["cuts"] >= min(25, len(seq.frames) // 120 - 2)


def test_concat_cmu_summarize_pools_stored_draws_and_refuses_to_mix_settings(tmp_path, capsys):
    """--summarize: the draws of several results.json files pooled, paired against the baseline, with --split_by
    the draws where an action comes from several recordings apart; files of another setting or a repeated draw are
    refused with a message, and nothing is trained."""
    cc = _script("concat_cmu")
    cols = ("ari", "ami", "v_measure", "acc_hungarian", "boundary_f1")

    def draw(seed, ours, base, clips):
        r = {"seed": seed, "clips": [[a, f, 0, 1] for a, f in clips]}
        for proto, v in (("ours", ours), ("reference_cut_rule", 0.1), ("baseline", base), ("frames_ours", 0.5)):
            r[proto] = {c: v for c in cols}
        r["ours"]["splices"] = []
        return r

    def write(
        name, runs, source=25, blend=0.5, max_clip_s=None, root=None, turn_clips=None, offset=None, seg=None, cpu=None
    ):
        args = {"dataset": "cmu", "num_actions": 2, "total_num_actions": 3, "actions": None, "split": "train"}
        args |= {} if offset is None else {"train_seed_offset": offset}  # older files lack it: the draws' seeds
        args |= {"blend": blend} | ({"max_clip_s": max_clip_s} if max_clip_s else {})  # older files lack it
        args |= {} if turn_clips is None else {"turn_clips": turn_clips}  # and --turn_clips
        model = {"source": source} | ({"root": root} if root else {})  # and ModelConfig.root
        doc = {"runs": runs, "args": args, "preset": {"model": model, "train": {}, "segment": seg or {}}}
        doc |= {} if cpu is None else {"machine": {"cpu": {"model": cpu}}}  # what ran it, where the file says
        (tmp_path / name).write_text(json.dumps(doc))
        return str(tmp_path / name)

    same = [("walking", "w1"), ("running", "r1"), ("walking", "w1")]
    two = [("walking", "w1"), ("running", "r1"), ("walking", "w2")]
    a = write("a.json", [draw(0, 0.9, 0.6, same), draw(1, 0.2, 0.4, two)])
    b = write("b.json", [draw(2, 0.8, 0.8, same)])
    assert cc.main(["--summarize", a, b, "--split_by", "walking"]) == 0
    out = capsys.readouterr().out
    assert "3 draws from 2 file(s)" in out
    # a file that names the root "keep" pools with files written before the field (which trained on it)
    assert cc.main(["--summarize", a, write("k.json", [draw(7, 0.5, 0.5, same)], root="keep")]) == 0
    assert "3 draws from 2 file(s)" in capsys.readouterr().out
    # and one run without --turn_clips with files written before the flag
    assert cc.main(["--summarize", a, write("n.json", [draw(8, 0.5, 0.5, same)], turn_clips=False)]) == 0
    # a segmentation field written at its default pools with files written before it (which had that behaviour)
    assert cc.main(["--summarize", a, write("z.json", [draw(9, 0.5, 0.5, same)], seg={"max_mean_segment_s": 0.0})]) == 0
    assert "3 draws from 2 file(s)" in capsys.readouterr().out
    assert f"ours - baseline, paired over 3 draws: ARI {(0.3 - 0.2 + 0.0) / 3:+.3f}" in out
    assert "ahead on 1, level on 1, behind on 1" in out
    assert "1 draws in which one of walking comes from two or more recordings" in out
    assert "2 draws in which none of walking comes from two or more recordings" in out
    assert "ours - baseline, paired over 2 draws: ARI +0.150" in out  # draws 0 and 2
    best = [0.9, 0.5, 0.8]  # per draw, the best of ours, the cut rule (0.1), the baseline and the frames (0.5)
    assert f"the best of the four on each draw (an oracle): ARI {np.mean(best):.3f} ± {np.std(best):.3f}" in out
    for bad, msg in (
        ([a, write("c.json", [draw(5, 0.5, 0.5, same)], source=50)], "preset.model.source 25 vs 50"),
        ([a, write("d.json", [draw(6, 0.5, 0.5, same)], blend=0.0)], "data.blend 0.5 vs 0.0"),
        ([a, write("d8.json", [draw(6, 0.5, 0.5, same)], max_clip_s=8.0)], "data.max_clip_s None vs 8.0"),
        ([a, write("u.json", [draw(6, 0.5, 0.5, same)], root="upright")], "preset.model.root 'keep' vs 'upright'"),
        ([a, write("t.json", [draw(6, 0.5, 0.5, same)], turn_clips=True)], "data.turn_clips False vs True"),
        (  # ... and at another value it is another setting, though the older file does not name the field
            [a, write("m.json", [draw(6, 0.5, 0.5, same)], seg={"max_mean_segment_s": 8.0})],
            "preset.segment.max_mean_segment_s 0.0 vs 8.0",
        ),
        ([a, write("e.json", [draw(1, 0.5, 0.5, same)])], "draw 1 is in both"),
        ([a, write("f.json", [])], "holds no draws"),
        ([a, str(tmp_path / "missing.json")], "cannot read"),
        ([a, "--split_by", "dancing"], "unknown action(s) ['dancing']"),
        ([a, "--by_recording"], "--by_recording: draw 0 joins 2 recordings"),
    ):
        assert cc.main(["--summarize", *bad]) == 2
        assert msg in capsys.readouterr().err
    assert cc.main(["--split_by", "walking"]) == 2
    assert "--split_by, --by_recording and --against go with --summarize" in capsys.readouterr().err
    # --by_recording: draws cut from one recording each (the shuffled trials), summarized per recording
    t1, t3 = [("walking", "trial 01"), ("punching", "trial 01")], [("walking", "trial 03"), ("run", "trial 03")]
    rec = write("r.json", [draw(0, 0.9, 0.5, t1), draw(1, 0.2, 0.4, t3), draw(6, 0.7, 0.5, t1), draw(7, 0.4, 0.4, t3)])
    assert cc.main(["--summarize", rec, "--by_recording"]) == 0
    out = capsys.readouterr().out.split("2 draws of trial 03:")
    assert "2 draws of trial 01:" in out[0] and "ours - baseline, paired over 2 draws: ARI +0.300" in out[0]
    assert "ours - baseline, paired over 2 draws: ARI -0.100" in out[1]
    # --against: another setting on the same draws, ours against theirs draw by draw, by stratum too
    other = write("g.json", [draw(0, 0.5, 0.6, same), draw(1, 0.4, 0.4, two), draw(9, 0.1, 0.1, same)], source=50)
    assert cc.main(["--summarize", a, b, "--against", other, "--split_by", "walking"]) == 0
    out = capsys.readouterr().out
    assert "ours in --against (preset.model.source 25 vs 50), paired:" in out
    assert f"2 draws: ARI {(0.4 - 0.2) / 2:+.3f}" in out  # draws 0 and 1; 2 and 9 are in one pool only
    assert "1 draws in which one of walking comes from two or more recordings: ARI -0.200" in out
    assert "1 draws in which none of walking comes from two or more recordings: ARI +0.400" in out
    # the same setting trained with other seeds (--train_seed_offset): said, not "the same settings"
    reseeded = write("s.json", [draw(0, 0.7, 0.6, same)], offset=100)
    assert cc.main(["--summarize", a, "--against", reseeded]) == 0
    assert "ours in --against (train_seed_offset [0] vs [100]), paired:\n1 draws: ARI +0.200" in capsys.readouterr().out
    assert cc.main(["--summarize", a, "--against", write("s0.json", [draw(0, 0.7, 0.6, same)], offset=0)]) == 0
    assert "ours in --against (the same settings), paired:" in capsys.readouterr().out
    # ... and run on another processor: said too (float rounding can move a draw)
    elsewhere_cpu = write("x.json", [draw(0, 0.7, 0.6, same)], cpu="AMD EPYC")
    assert cc.main(["--summarize", a, "--against", elsewhere_cpu]) == 0
    assert "ours in --against (machine ['unknown'] vs ['AMD EPYC']), paired:" in capsys.readouterr().out
    elsewhere = write("h.json", [draw(0, 0.5, 0.5, same)], blend=0.0)
    for bad, msg in (([elsewhere], "drew other data: data.blend 0.5 vs 0.0"), ([b], "share no draw")):
        assert cc.main(["--summarize", a, "--against", *bad]) == 2
        assert msg in capsys.readouterr().err


def test_settings_ladder_climbs_from_the_baseline_to_the_preset_on_the_frames(tmp_path, data, capsys):
    """Its first row is the baseline as concat_cmu.py scores it and its last the preset's segmentation of the frames
    alone (concat_cmu.py's "frames" column); between them one row per setting in which the two differ."""
    from seq2seq_jax import metrics, presets, protocols, segmentation
    from seq2seq_jax.data import cmu
    from seq2seq_jax.data.normalize import NormStats

    lad = _script("settings_ladder")
    out = tmp_path / "ladder.json"
    args = ["--num_actions", "2", "--total_num_actions", "3", "--seed", "7", "--seeds", "1", "--out", str(out)]
    assert lad.main(args + _data_args(data)) == 0
    doc = json.loads(out.read_text())
    names = list(doc["settings"])
    assert names[0] == "baseline" and names[-1].startswith("all")
    assert {"+linkage", "+cpd_smooth_s", "+min_segments_over_k"} <= set(names)
    assert "+frames_weight" not in names  # the frames alone: no frames to append
    # how far whitened Ward whitens changes with the linkage (alone, on the baseline's plain Ward, it does nothing)
    assert "+whiten_shrink" not in names and "all but whiten_shrink" not in names
    assert doc["settings"]["+linkage"]["whiten_shrink"] == presets.get("mocap").segment.whiten_shrink > 0
    singles = [n[1:] for n in names if n.startswith("+")]
    assert [n for n in names if n.startswith("all but ")] == [f"all but {n}" for n in singles]
    assert doc["settings"]["all but linkage"]["linkage"] == protocols.BASELINE.linkage
    assert doc["settings"]["all but linkage"]["cpd_smooth_s"] == presets.get("mocap").segment.cpd_smooth_s
    seq = cmu.make_sequence(7, 2, 3, blend_s=0.5, data_dir=data["data_dir"], mirror=data["mirror"])
    z = NormStats.fit(seq.frames).apply(seq.frames)
    windows = metrics.windows_around(seq.boundaries, int(protocols.CONCAT_TOLERANCE_S * seq.fps))
    ours = protocols.frames_only(z, 2, seq.fps, presets.get("mocap").segment)
    base = segmentation.segment_embedding(z, 2, seq.fps, protocols.BASELINE)
    draw = doc["draws"][0]
    assert draw[names[-1]]["ari"] == pytest.approx(metrics.all_metrics(seq.labels, ours, windows)["ari"])
    assert draw["baseline"]["ari"] == pytest.approx(metrics.all_metrics(seq.labels, base, windows)["ari"])
    assert "ARI - baseline, paired" in capsys.readouterr().out
    assert [tuple(c) for c in draw["clips"]] == [c[:2] for c in seq.clips]
    # --summarize reports the stored draws again; --split_by sorts them by whether an action has several recordings
    (action, *_), *rest = seq.clips
    several = any(a == action and f != seq.clips[0][1] for a, f, *_ in rest)
    assert lad.main(["--summarize", str(out), "--split_by", action]) == 0
    text = capsys.readouterr().out
    assert f"{int(several)} draws in which one of {action} comes from two or more recordings" in text
    assert f"{int(not several)} draws in which none of {action} comes from two or more recordings" in text
    assert text.count("ARI - baseline, paired") == 2 and "1 recordings from" in text
    doc["draws"][0].pop("clips")
    (tmp_path / "old.json").write_text(json.dumps(doc))
    assert lad.main(["--summarize", str(tmp_path / "old.json"), "--split_by", action]) == 2
    assert "does not say which clips its draws hold" in capsys.readouterr().err
    assert lad.main(["--summarize", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    for bad, msg in (
        (["--seeds", "0"], "--seeds must be >= 1"),
        (["--split_by", "dancing"], "unknown action(s) ['dancing']"),
        (["--subject86", "--split_by", "walking"], "the subject-86 trials have none"),
    ):
        with pytest.raises(SystemExit):
            lad.main(bad)
        assert msg in capsys.readouterr().err


@pytest.mark.parametrize("name", ["concat_cmu", "settings_ladder", "diagnose"])
def test_max_clip_s_must_be_a_positive_length(name, capsys):
    """Every script that draws blended case-(i) sequences refuses a --max_clip_s of 0 or less, or not finite, before
    any work."""
    for bad in ("0", "inf", "nan"):
        with pytest.raises(SystemExit):
            _script(name).main(["--max_clip_s", bad])
        want = f"--max_clip_s must be > 0 seconds and finite (leave it out for whole recordings), got {float(bad)}"
        assert want in capsys.readouterr().err


def test_reuse_scores_a_trial_with_models_never_trained_on_it_beside_its_own(tmp_path, data, capsys):
    """experiments/reuse.py: the ensemble that segments trial 09 was trained on the five other development trials
    only, normalized by their pooled statistics; run again it restores (same scores); with --own_dir the trial's own
    models (subject86.py's) are scored in the same run, paired; a trial outside the development data is refused."""
    from seq2seq_jax import train
    from seq2seq_jax.data import subject86_trials as s86
    from seq2seq_jax.data.normalize import NormStats

    tiny = ["--hidden", "8", "--iterations", "10", "--source_seq_len", "20", "--target_seq_len", "10", "--models", "2"]
    own = tmp_path / "own"
    first_run = ["--trial", "09", "--train_dir", str(own), "--out", str(tmp_path / "s"), "--quiet", "--no_plots"]
    assert _script("subject86").main(first_run + ["--no_oracle"] + tiny + _data_args(data)) == 0
    reuse = _script("reuse")
    args = ["--trial", "09", "--train_dir", str(tmp_path / "pooled"), "--quiet"] + tiny + _data_args(data)
    assert reuse.main(args + ["--out", str(tmp_path / "a"), "--own_dir", str(own)]) == 0
    out = capsys.readouterr().out
    others = [t for t in s86.DEVELOPMENT_TRIALS if t != "09"]
    assert f"trained on {' '.join(others)}" in out and "reused minus trained on the trial itself, ARI" in out
    data_kw = {"data_dir": data["data_dir"], "mirror": data["mirror"]}
    pooled = NormStats.fit(np.concatenate([s86.load_trial(t, **data_kw).frames for t in others]))
    for m in range(2):
        _, meta, _ = train.load(tmp_path / "pooled" / "without_09" / f"model_{m}")
        assert meta.data == {"subject86_trials": others, "normalize": "pooled"}  # never the held-out trial
        np.testing.assert_allclose(meta.norm.mean, pooled.mean, rtol=1e-6)
    res = json.loads((tmp_path / "a" / "results.json").read_text())
    first = json.loads((tmp_path / "s" / "results.json").read_text())["trials"][0]
    assert res["own"][0]["ours"] == first["ours"]  # the trial's own models score as subject86.py scored them
    assert "baseline" in res["runs"][0] and "baseline" not in res["own"][0]
    assert reuse.main(args + ["--out", str(tmp_path / "b")]) == 0  # restores what it trained
    again = json.loads((tmp_path / "b" / "results.json").read_text())
    assert again["runs"][0]["ours"] == res["runs"][0]["ours"] and again["own"] == []
    with pytest.raises(SystemExit) as e:
        reuse.main(["--trial", "02"] + _data_args(data))
    assert e.value.code == 2 and "only the development trials" in capsys.readouterr().err
    from seq2seq_jax import fitting, presets

    p = presets.get("subject86")
    with pytest.raises(ValueError, match="one channel layout"):
        fitting.fit_pooled([np.ones((60, 3)), np.ones((60, 4))], p.model, p.train, tmp_path / "x", {})
