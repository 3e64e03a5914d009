import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from seq2seq_jax import model
from seq2seq_jax.config import ModelConfig

D, H = 5, 7


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_gru_step_against_hand_computed_tf1_equations():
    cell = jax.tree.map(np.asarray, model.init_cell(jax.random.PRNGKey(0), D, H))
    rng = np.random.default_rng(0)
    cell = {k: v + rng.normal(scale=0.1, size=v.shape).astype(np.float32) for k, v in cell.items()}
    x = rng.normal(size=(3, D)).astype(np.float32)
    h = rng.normal(size=(3, H)).astype(np.float32)
    # The TF1 GRUCell form: concatenated [x, h] kernels.
    w_g = np.concatenate([cell["wx"][:, : 2 * H], cell["wh"]], 0)
    w_c = np.concatenate([cell["wx"][:, 2 * H :], cell["whc"]], 0)
    g = _sigmoid(np.concatenate([x, h], 1) @ w_g + cell["b"][: 2 * H])
    r, u = g[:, :H], g[:, H:]
    c = np.tanh(np.concatenate([x, r * h], 1) @ w_c + cell["b"][2 * H :])
    want = u * h + (1 - u) * c
    np.testing.assert_allclose(model.gru_step(cell, h, x), want, rtol=1e-5, atol=1e-6)


def test_init_follows_the_reference():
    p = model.init_params(jax.random.PRNGKey(1), ModelConfig(dim=D, hidden=H))
    np.testing.assert_array_equal(p["cell"]["b"][: 2 * H], 1.0)
    np.testing.assert_array_equal(p["cell"]["b"][2 * H :], 0.0)
    assert np.abs(p["readout"]["w"]).max() <= 0.04 and np.abs(p["readout"]["b"]).max() <= 0.04
    assert "dec_cell" not in p
    assert "dec_cell" in model.init_params(jax.random.PRNGKey(1), ModelConfig(dim=D, hidden=H, tied=False))


def _batch(S=4, T=3, B=2, seed=0):
    rng = np.random.default_rng(seed)
    win = rng.normal(size=(B, S + T, D)).astype(np.float32)
    return win[:, :S], win[:, S - 1 : -1], win[:, S:]


def test_decoder_feeds_back_its_own_predictions():
    cfg = ModelConfig(dim=D, hidden=H, source=4, target=3)
    p = model.init_params(jax.random.PRNGKey(2), cfg)
    enc, dec, _ = _batch()
    out = model.forward(p, cfg, enc, dec)
    assert (
        out["pred"].shape == (2, 3, D) and out["dec_states"].shape == (2, 3, H) and out["enc_states"].shape == (2, 4, H)
    )
    dec2 = dec.copy()
    dec2[:, 1:] += 1.0  # later decoder inputs are not read without teacher forcing
    np.testing.assert_array_equal(model.forward(p, cfg, enc, dec2)["pred"], out["pred"])
    # Step by step by hand: first input is the last encoder frame, then the previous prediction.
    h = out["enc_states"][:, -1]
    x = enc[:, -1]
    for t in range(3):
        h = model.gru_step(p["cell"], h, x)
        y = np.asarray(h) @ np.asarray(p["readout"]["w"]) + np.asarray(p["readout"]["b"])
        np.testing.assert_allclose(out["pred"][:, t], y, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out["dec_states"][:, t], h, rtol=1e-5, atol=1e-6)
        x = y
    tf = ModelConfig(dim=D, hidden=H, source=4, target=3, teacher_forcing=True)
    assert not np.allclose(model.forward(p, tf, enc, dec2)["pred"], model.forward(p, tf, enc, dec)["pred"])


def test_residual_readout_adds_the_previous_frame():
    cfg = ModelConfig(dim=D, hidden=H, source=4, target=1, residual=True)
    p = model.init_params(jax.random.PRNGKey(3), cfg)
    enc, dec, _ = _batch(T=1)
    out = model.forward(p, cfg, enc, dec)
    plain = model.forward(p, ModelConfig(dim=D, hidden=H, source=4, target=1), enc, dec)
    np.testing.assert_allclose(out["pred"][:, 0], plain["pred"][:, 0] + enc[:, -1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("tied", [True, False])
def test_gradient_matches_finite_differences(tied):
    cfg = ModelConfig(dim=D, hidden=H, source=4, target=3, tied=tied)
    p = model.init_params(jax.random.PRNGKey(4), cfg)
    enc, dec, tgt = _batch()

    def loss(params):
        return model.mse(model.forward(params, cfg, enc, dec)["pred"], tgt)

    with jax.enable_x64(True):
        p64 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), p)
        enc, dec, tgt = (jnp.asarray(a, jnp.float64) for a in (enc, dec, tgt))
        check_grads(
            lambda q: loss(q).astype(jnp.float64), (p64,), order=1, modes=["rev"], eps=1e-3, atol=2e-3, rtol=2e-2
        )


@pytest.mark.parametrize(
    "variant", [{}, {"tied": False}, {"teacher_forcing": True}, {"residual": True}, {"dtype": "bfloat16"}]
)
def test_forward_gradient_equals_plain_autodiff(variant):
    """``forward`` (custom VJP: column layout, kernels' gradients after the loops): same values and
    gradients as autodiff through the scans, for every output, every parameter and the inputs, also vmapped."""
    cfg = ModelConfig(dim=D, hidden=H, source=4, target=3, **variant)
    p = model.init_params(jax.random.PRNGKey(6), cfg)
    enc, dec, tgt = _batch()
    w = jax.random.normal(jax.random.PRNGKey(7), (H,))

    def loss(f):
        def fn(params, enc, dec):
            out = f(params, cfg, enc, dec)
            return model.mse(out["pred"], tgt) + jnp.mean(out["dec_states"] @ w) + jnp.mean(out["enc_states"] ** 3)

        return fn

    fast = jax.jit(jax.value_and_grad(loss(model.forward), argnums=(0, 1, 2)))(p, enc, dec)
    plain = jax.value_and_grad(loss(model.forward_autodiff), argnums=(0, 1, 2))(p, enc, dec)
    assert set(fast[1][0]) == set(p)
    bf16 = (
        cfg.dtype == "bfloat16"
    )  # autodiff sums the kernels' gradients of bf16 products, forward takes one fp32 product

    def close(a, b):
        a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
        tol = dict(rtol=3e-2, atol=1e-2 * np.abs(b).max()) if bf16 else dict(rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(a, b, **tol)

    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(plain)):
        close(a, b)
        assert np.abs(np.asarray(a)).max() > 0  # every parameter receives a gradient
    many = jax.tree.map(lambda a: jnp.stack([a, 0.5 * a]), p)  # two models, vmapped as the multi-model step does
    got = jax.vmap(jax.grad(loss(model.forward)), in_axes=(0, None, None))(many, enc, dec)
    want = jax.grad(loss(model.forward_autodiff))(jax.tree.map(lambda a: a[1], many), enc, dec)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        close(a[1], b)


def test_bfloat16_matmuls_keep_fp32_state_and_stay_close():
    cfg32 = ModelConfig(dim=D, hidden=H, source=4, target=3)
    cfg16 = ModelConfig(dim=D, hidden=H, source=4, target=3, dtype="bfloat16")
    p = model.init_params(jax.random.PRNGKey(5), cfg32)
    enc, dec, _ = _batch()
    a, b = model.forward(p, cfg32, enc, dec), model.forward(p, cfg16, enc, dec)
    assert b["dec_states"].dtype == jnp.float32 and b["pred"].dtype == jnp.float32
    np.testing.assert_allclose(a["pred"], b["pred"], atol=5e-2)
    assert not np.array_equal(a["pred"], b["pred"])


def test_config_validation():
    with pytest.raises(ValueError, match="adversarial"):
        ModelConfig(adversarial="yes")
    with pytest.raises(ValueError, match="dtype"):
        ModelConfig(dtype="float16")
