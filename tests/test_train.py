import dataclasses
import json
import os
import signal

import jax
import numpy as np
import pytest

from seq2seq_jax import checkpoint, multi, sharding, train
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data import subject86_trials as subject86
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.sources import DataError

MC = ModelConfig(dim=4, hidden=8, source=6, target=4)


def _seq(n=200, seed=0):
    t = np.arange(n)[:, None]
    rng = np.random.default_rng(seed)
    x = np.sin(t * np.array([[0.1, 0.2, 0.05, 0.3]]) + rng.normal(size=(1, 4)))
    norm = NormStats.fit(x)
    return norm.apply(x), norm


def _tc(**kw):
    return TrainConfig(**{"lr": 1e-2, "batch": 4, "iterations": 20, "save_every": 5, "log_every": 5, **kw})


def _leaves_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_resume_gives_identical_parameters(tmp_path):
    z, norm = _seq()
    straight = train.train(MC, _tc(), z, norm, tmp_path / "a", {"name": "toy"}, progress=False)
    first = train.train(MC, _tc(iterations=10), z, norm, tmp_path / "b", {"name": "toy"}, progress=False)
    assert first.step == 10
    resumed = train.train(MC, _tc(), z, norm, tmp_path / "b", {"name": "toy"}, progress=False)
    assert resumed.step == 20 and [h["step"] for h in resumed.history] == [15, 20]
    assert _leaves_equal(straight.state["params"], resumed.state["params"])
    # The loaded checkpoint is what training ended with, with its config and normalization.
    params, meta, step = train.load(tmp_path / "b")
    assert step == 20 and meta.model == MC and meta.data == {"name": "toy"}
    assert _leaves_equal(params, resumed.state["params"])
    np.testing.assert_array_equal(meta.norm.mean, norm.mean)
    rows = [json.loads(line) for line in open(tmp_path / "b" / "metrics.jsonl")]
    assert [r["step"] for r in rows] == [5, 10, 15, 20] and all(np.isfinite(r["loss"]) for r in rows)


def test_load_step_and_keep(tmp_path):
    z, norm = _seq()
    train.train(MC, _tc(keep=2), z, norm, tmp_path, {"name": "toy"}, progress=False)
    with checkpoint.manager(tmp_path) as m:
        assert sorted(m.all_steps()) == [15, 20]
    _, _, step = train.load(tmp_path, 15)
    assert step == 15
    with pytest.raises(checkpoint.CheckpointError, match=r"no checkpoint at step 7 .*saved steps: \[15, 20\]"):
        train.load(tmp_path, 7)
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint in"):
        train.load(tmp_path / "nothing")


def test_mismatched_checkpoint_is_refused_and_kept(tmp_path):
    z, norm = _seq()
    train.train(MC, _tc(iterations=5), z, norm, tmp_path, {"name": "toy"}, progress=False)
    big = ModelConfig(dim=4, hidden=16, source=6, target=4)
    with pytest.raises(checkpoint.CheckpointError, match="hidden: checkpoint 8 vs requested 16"):
        train.train(big, _tc(), z, norm, tmp_path, {"name": "toy"}, progress=False)
    with pytest.raises(checkpoint.CheckpointError, match="trained on {'name': 'toy'}, not on {'name': 'other'}"):
        train.train(MC, _tc(), z, norm, tmp_path, {"name": "other"}, progress=False)
    assert train.load(tmp_path)[2] == 5  # nothing saved was lost


def test_non_finite_loss_names_the_step_and_keeps_checkpoints(tmp_path):
    z, norm = _seq()
    with pytest.raises(train.NonFiniteLossError, match="non-finite at step 2;.*kept"):
        train.train(MC, _tc(lr=1e30, save_every=1, log_every=1), z, norm, tmp_path, {"name": "toy"}, progress=False)
    assert train.load(tmp_path)[2] == 1


def test_bad_training_data(tmp_path):
    z, norm = _seq()
    z = z.copy()
    z[17, 2] = np.nan
    with pytest.raises(DataError, match="NaN or inf at frame 17"):
        train.train(MC, _tc(), z, norm, tmp_path, {}, progress=False)
    with pytest.raises(DataError, match="fewer than|needs"):
        train.train(MC, _tc(), z[:5], norm, tmp_path, {}, progress=False)
    with pytest.raises(DataError, match=r"shape \(200, 3\), the model expects \(frames, 4\)"):
        train.train(MC, _tc(), np.zeros((200, 3), np.float32), norm, tmp_path, {}, progress=False)


def test_signal_saves_then_resume_matches(tmp_path):
    z, norm = _seq()

    def interrupt(step, state):
        if step == 10:
            os.kill(os.getpid(), signal.SIGTERM)
        return {}

    r = train.train(MC, _tc(), z, norm, tmp_path / "a", {"name": "toy"}, progress=False, on_log=interrupt)
    assert r.interrupted and r.step == 10
    assert train.load(tmp_path / "a")[2] == 10
    resumed = train.train(MC, _tc(), z, norm, tmp_path / "a", {"name": "toy"}, progress=False)
    straight = train.train(MC, _tc(), z, norm, tmp_path / "b", {"name": "toy"}, progress=False)
    assert _leaves_equal(straight.state["params"], resumed.state["params"])


@pytest.mark.parametrize("mode", ["joint", "alternating"])
def test_adversarial_modes_train(tmp_path, mode):
    z, norm = _seq()
    mc = ModelConfig(dim=4, hidden=8, source=6, target=4, adversarial=mode)
    r = train.train(mc, _tc(iterations=10), z, norm, tmp_path, {"name": "toy"}, progress=False)
    row = r.history[-1]
    assert np.isfinite(row["loss"]) and row["fidelity"] > 0 and row["continuity"] > 0
    assert "disc" in r.state["params"]
    params, meta, _ = train.load(tmp_path)
    assert meta.model.adversarial == mode and "disc" in params


def test_loss_drops_on_real_data(tmp_path, data):
    t = subject86.load_trial("09", **data)
    norm = NormStats.fit(t.frames)
    mc = ModelConfig(dim=norm.dim, hidden=32, source=25, target=10)
    r = train.train(
        mc,
        _tc(lr=3e-3, batch=16, iterations=150, log_every=10, save_every=150),
        norm.apply(t.frames),
        norm,
        tmp_path,
        {"trial": "09"},
        progress=False,
    )
    first, last = r.history[0]["mse"], np.mean([h["mse"] for h in r.history[-3:]])
    assert last < 0.7 * first, (first, last)


def test_vmapped_models_match_individual_training():
    z, norm = _seq()
    tc = _tc()
    sampler = train.WindowSampler.from_sequences(z, MC.source, MC.target)
    states = [train.init_state(MC, dataclasses.replace(tc, seed=s)) for s in (0, 1)]
    single = train.make_train_step(MC, tc)
    solo = []
    for st in states:
        st = jax.tree.map(lambda x: x.copy(), st)
        for _ in range(3):
            st, _ = single(st, sampler)
        solo.append(st)
    multi_step = multi.make_multi_train_step(MC, tc)
    stacked = multi.stack_states([train.init_state(MC, dataclasses.replace(tc, seed=s)) for s in (0, 1)])
    for _ in range(3):
        stacked, m = multi_step(stacked, sampler)
    assert m["loss"].shape == (2,)
    for i in range(2):
        got = jax.tree.map(lambda x, i=i: x[i], stacked["params"])
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(solo[i]["params"])):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_data_parallel_matches_one_device(tmp_path):
    assert jax.device_count() == 8  # tests/conftest.py fakes 8 CPU devices
    z, norm = _seq()
    tc = _tc(batch=8, iterations=6, log_every=1, save_every=6)
    one = train.train(MC, tc, z, norm, tmp_path / "one", {"name": "toy"}, progress=False)
    par = train.train(MC, tc, z, norm, tmp_path / "par", {"name": "toy"}, progress=False, data_parallel=True)
    np.testing.assert_allclose([h["loss"] for h in par.history], [h["loss"] for h in one.history], rtol=1e-5)
    for a, b in zip(jax.tree.leaves(par.state["params"]), jax.tree.leaves(one.state["params"])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    leaf = jax.tree.leaves(par.state["params"])[0]
    assert len(leaf.sharding.device_set) == 8
    with pytest.raises(ValueError, match="batch 6 is not divisible by the 8 devices"):
        train.make_train_step(MC, _tc(batch=6), sharding.data_mesh())


def test_models_split_over_devices_match_one_device():
    z, _ = _seq()
    tc = _tc()
    sampler = train.WindowSampler.from_sequences(z, MC.source, MC.target)
    init = lambda: multi.stack_states([train.init_state(MC, dataclasses.replace(tc, seed=s)) for s in range(4)])  # noqa: E731
    multi_step = multi.make_multi_train_step(MC, tc)
    one = init()
    for _ in range(3):
        one, m1 = multi_step(one, sampler)
    mesh = sharding.model_mesh(jax.devices()[:4])
    split, sp = sharding.shard_models(init(), sampler, mesh)
    for _ in range(3):
        split, m4 = multi_step(split, sp)
    leaf = split["params"]["cell"]["wh"]
    assert len(leaf.sharding.device_set) == 4 and leaf.addressable_shards[0].data.shape[0] == 1  # one model per device
    np.testing.assert_allclose(m4["loss"], m1["loss"], rtol=1e-5)
    for a, b in zip(jax.tree.leaves(split["params"]), jax.tree.leaves(one["params"])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="4 models cannot be split evenly over the 8 devices"):
        sharding.shard_models(init(), sampler, sharding.model_mesh())


def test_train_step_compiles_once():
    z, norm = _seq()
    sampler = train.WindowSampler.from_sequences(z, MC.source, MC.target)
    step = train.make_train_step(MC, _tc())
    state = train.init_state(MC, _tc())
    for _ in range(5):
        state, _ = step(state, sampler)
    assert step._cache_size() == 1  # no silent recompiles across steps


def test_stacked_sampler_draws_each_models_own_windows():
    short, _ = _seq(120, seed=1)
    long, _ = _seq(300, seed=2)
    alone = [train.WindowSampler.from_sequences(s, MC.source, MC.target) for s in (short, [long[:100], long[100:]])]
    stacked = train.WindowSampler.stack(alone)
    assert stacked.data_NxD.shape == (2, 300, 4) and stacked.starts.shape[0] == 2
    keys = jax.random.split(jax.random.PRNGKey(3), 50)
    for i, s in enumerate(alone):
        one = jax.vmap(lambda k, s=s: s.sample(k, 8))(keys)
        row = jax.tree.map(lambda x, i=i: x[i], stacked)
        both = jax.vmap(lambda k, row=row: row.sample(k, 8))(keys)
        np.testing.assert_array_equal(both, one)  # the padding is never drawn
    other = train.WindowSampler.from_sequences(short, MC.source + 1, MC.target)
    with pytest.raises(ValueError, match="same window and frame size"):
        train.WindowSampler.stack([alone[0], other])


def test_train_many_equals_training_one_by_one(tmp_path):
    seqs = [_seq(200, seed=1)[0], _seq(260, seed=2)[0]]
    norm = _seq()[1]
    tc = _tc(iterations=10, log_every=5, save_every=5)
    together = multi.train_many(
        MC,
        tc,
        seqs,
        [norm, norm],
        [tmp_path / "t0", tmp_path / "t1"],
        [{"name": "a"}, {"name": "b"}],
        progress=False,
        devices=jax.devices()[:1],
        seeds=[0, 3],
    )
    for i, (s, name, seed) in enumerate(zip(seqs, "ab", (0, 3))):
        alone = train.train(
            MC, dataclasses.replace(tc, seed=seed), s, norm, tmp_path / f"a{i}", {"name": name}, progress=False
        )
        assert train.load(tmp_path / f"t{i}")[1].train.seed == seed
        assert together[i].step == 10 and not together[i].interrupted
        np.testing.assert_allclose(
            [h["loss"] for h in together[i].history], [h["loss"] for h in alone.history], rtol=1e-5
        )
        for a, b in zip(jax.tree.leaves(together[i].state["params"]), jax.tree.leaves(alone.state["params"])):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        # each folder is what train() leaves: checkpoints with this model's data, its own metrics log
        params, meta, step = train.load(tmp_path / f"t{i}")
        assert step == 10 and meta.data == {"name": name}
        for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(alone.state["params"])):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
        rows = [json.loads(x) for x in (tmp_path / f"t{i}" / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in rows] == [5, 10]
    assert together[0].history[-1]["loss"] != together[1].history[-1]["loss"]  # two models, not one twice


def test_train_many_resumes_models_at_different_steps_and_splits_over_devices(tmp_path):
    seqs = [_seq(200, seed=s)[0] for s in (1, 2, 3, 4, 5)]
    norm = _seq()[1]
    dirs = [tmp_path / f"m{i}" for i in range(5)]
    infos = [{"name": str(i)} for i in range(5)]
    tc = _tc(iterations=10, save_every=5, log_every=5)
    train.train(MC, tc, seqs[0], norm, dirs[0], infos[0], progress=False)  # finished: only restored
    train.train(MC, _tc(iterations=5), seqs[1], norm, dirs[1], infos[1], progress=False)  # resumed at step 5
    # 8 fake devices: the 3 new models are split over 3 of them, the resumed one trains alone
    rs = multi.train_many(MC, tc, seqs, [norm] * 5, dirs, infos, progress=False)
    assert [r.step for r in rs] == [10] * 5 and rs[0].history == [] and [h["step"] for h in rs[1].history] == [10]
    for i in (1, 3):
        straight = train.train(MC, tc, seqs[i], norm, tmp_path / f"s{i}", infos[i], progress=False)
        np.testing.assert_allclose(rs[i].history[-1]["loss"], straight.history[-1]["loss"], rtol=1e-5)
        for a, b in zip(jax.tree.leaves(rs[i].state["params"]), jax.tree.leaves(straight.state["params"])):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="one each per model"):
        multi.train_many(MC, tc, seqs[:2], [norm], dirs[:2], infos[:2], progress=False)
    with pytest.raises(DataError, match="training sequence 0 of m1 contains NaN"):
        bad = seqs[1].copy()
        bad[7, 2] = np.nan
        multi.train_many(MC, tc, [seqs[0], bad], [norm] * 2, dirs[:2], infos[:2], progress=False)


def test_train_many_signal_saves_every_model_then_resumes(tmp_path):
    seqs = [_seq(200, seed=1)[0], _seq(260, seed=2)[0]]
    norm = _seq()[1]
    infos = [{"name": "a"}, {"name": "b"}]
    sent = []

    def interrupt(step, state):
        if step == 10 and not sent:
            sent.append(step)
            os.kill(os.getpid(), signal.SIGTERM)
        return {}

    dirs = [tmp_path / "a0", tmp_path / "a1"]
    rs = multi.train_many(
        MC, _tc(), seqs, [norm] * 2, dirs, infos, progress=False, on_log=interrupt, devices=jax.devices()[:1]
    )
    assert [(r.interrupted, r.step) for r in rs] == [(True, 10), (True, 10)]
    assert [train.load(d)[2] for d in dirs] == [10, 10]
    resumed = multi.train_many(MC, _tc(), seqs, [norm] * 2, dirs, infos, progress=False, devices=jax.devices()[:1])
    straight = multi.train_many(
        MC,
        _tc(),
        seqs,
        [norm] * 2,
        [tmp_path / "s0", tmp_path / "s1"],
        infos,
        progress=False,
        devices=jax.devices()[:1],
    )
    for r, s in zip(resumed, straight):
        assert _leaves_equal(s.state["params"], r.state["params"])
    with pytest.raises(train.NonFiniteLossError, match="non-finite at step 2 in the model of .*n0.* are kept"):
        multi.train_many(
            MC,
            _tc(lr=1e30, save_every=1, log_every=1),
            seqs,
            [norm] * 2,
            [tmp_path / "n0", tmp_path / "n1"],
            infos,
            progress=False,
            devices=jax.devices()[:1],
        )
    assert [train.load(tmp_path / d)[2] for d in ("n0", "n1")] == [1, 1]  # the saved steps are kept
