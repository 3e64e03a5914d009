"""The GRU sequence-to-sequence model as pure functions over a parameter pytree.

GRU cell with the equations of TensorFlow 1's ``GRUCell`` (the reference):

    r, u = sigmoid([x, h] W_g + b_g)          b_g initialised to 1.0
    c    = tanh([x, r * h] W_c + b_c)          reset applied to h *before* the product (unlike PyTorch)
    h'   = u * h + (1 - u) * c

The concatenated products are stored split by input, so that the input side of all encoder frames is one
matrix product before the scan:

    wx  (D, 3H)  = [W_g[:D] | W_c[:D]]        input -> gates r, u and candidate
    wh  (H, 2H)  = W_g[D:]                    state -> gates
    whc (H, H)   = W_c[D:]                    reset state -> candidate
    b   (3H,)    = [b_g | b_c]

Encoder and decoder share one cell ("tied", the reference) unless ``tied=False``. A linear readout maps each
decoder state to a frame. The decoder's first input is the last encoder frame; each later input is its own
previous prediction (gradients flow through the feedback) or, with teacher forcing, the true frame.

Gradients of ``forward`` (a ``jax.custom_vjp``): autodiff of a scan accumulates the gradient of a weight used
inside the loop step by step, a rank-B update of the whole (H, 2H) and (H, H) kernels per frame (at batch 16
a thin product that reads and writes 12 MB per step at hidden 1024). Here the loop sees the recurrent kernels
as constants plus a zero "probe" added to each product; the cotangent of a probe is the gradient of that
product's output, and after the backward scan the kernels' gradients are one matrix product over all frames
and windows, e.g. d wh = sum_t h_{t-1}^T d(h_{t-1} wh). Values and gradients equal plain autodiff's
(``tests/test_model.py``); the speed-up is measured by ``experiments/benchmark.py``.

Shapes: B windows, S encoder frames, T decoder frames, D frame size, H hidden size.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from seq2seq_jax.config import ModelConfig

READOUT_INIT = 0.04  # readout weights and bias uniform in [-0.04, 0.04] (the reference's LinearSpaceDecoderWrapper)


def _glorot(key, shape_in, shape_out):
    lim = np.sqrt(6.0 / (shape_in + shape_out))
    return jax.random.uniform(key, (shape_in, shape_out), jnp.float32, -lim, lim)


def init_cell(key, dim: int, hidden: int) -> dict:
    """A GRU cell: Glorot-uniform kernels over [x, h] (TF1's default), gate bias 1.0, candidate bias 0."""
    kg, kc = jax.random.split(key)
    wg = _glorot(kg, dim + hidden, 2 * hidden)
    wc = _glorot(kc, dim + hidden, hidden)
    return {
        "wx": jnp.concatenate([wg[:dim], wc[:dim]], axis=1),
        "wh": wg[dim:],
        "whc": wc[dim:],
        "b": jnp.concatenate([jnp.ones(2 * hidden), jnp.zeros(hidden)]).astype(jnp.float32),
    }


def init_params(key, cfg: ModelConfig) -> dict:
    """The generator's parameters: ``cell`` (and ``dec_cell`` when untied) and the ``readout``."""
    k_cell, k_dec, k_w, k_b = jax.random.split(key, 4)
    params = {
        "cell": init_cell(k_cell, cfg.dim, cfg.hidden),
        "readout": {
            "w": jax.random.uniform(k_w, (cfg.hidden, cfg.dim), jnp.float32, -READOUT_INIT, READOUT_INIT),
            "b": jax.random.uniform(k_b, (cfg.dim,), jnp.float32, -READOUT_INIT, READOUT_INIT),
        },
    }
    if not cfg.tied:
        params["dec_cell"] = init_cell(k_dec, cfg.dim, cfg.hidden)
    return params


def matmul(a, w, dtype: str = "float32"):
    """a @ w with inputs in ``dtype`` and float32 accumulation and result."""
    if dtype == "float32":
        return jnp.dot(a, w)
    return jnp.dot(a.astype(dtype), w.astype(dtype), preferred_element_type=jnp.float32)


def add_bias(y, b):
    """y + b with the bias broadcast explicitly over y's leading axes (the tests run with strict rank promotion)."""
    return y + b.reshape((1,) * (y.ndim - 1) + b.shape)


def input_projection(cell: dict, x, dtype: str = "float32"):
    """x @ wx + b: the input side of the gates and candidate, (..., 3H)."""
    return add_bias(matmul(x, cell["wx"], dtype), cell["b"])


def _gru_update(h_BxH, xp_Bx3H, wh, whc, dtype: str, probe=None):
    """(h', r * h): one GRU step from the input projection ``xp``, and the left operand of the candidate product.
    With ``probe`` = (pg, pc), those are added to the two state products (see ``forward``)."""
    H = h_BxH.shape[-1]
    probed = (lambda y, i: y) if probe is None else (lambda y, i: y + probe[i])  # noqa: E731
    g = jax.nn.sigmoid(xp_Bx3H[..., : 2 * H] + probed(matmul(h_BxH, wh, dtype), 0))
    r, u = g[..., :H], g[..., H:]
    rh = r * h_BxH
    c = jnp.tanh(xp_Bx3H[..., 2 * H :] + probed(matmul(rh, whc, dtype), 1))
    return u * h_BxH + (1.0 - u) * c, rh


def gru_step_projected(cell: dict, h_BxH, xp_Bx3H, dtype: str = "float32"):
    """One GRU step given the input projection ``xp`` = x @ wx + b."""
    return _gru_update(h_BxH, xp_Bx3H, cell["wh"], cell["whc"], dtype)[0]


def _gru_step_probed(cell: dict, h_BxH, xp_Bx3H, probe, dtype: str = "float32"):
    """``gru_step_projected`` with the recurrent kernels held constant and the probes (pg, pc) added to the two
    state products; returns (h', r * h), the new state and the left operand of the candidate product."""
    wh, whc = jax.lax.stop_gradient(cell["wh"]), jax.lax.stop_gradient(cell["whc"])
    return _gru_update(h_BxH, xp_Bx3H, wh, whc, dtype, probe)


def gru_step(cell: dict, h_BxH, x_BxD, dtype: str = "float32"):
    """One GRU step: h' from state h and input x (TF1 GRUCell equations, see the module docstring)."""
    return gru_step_projected(cell, h_BxH, input_projection(cell, x_BxD, dtype), dtype)


def encode(cell: dict, enc_BxSxD, h0_BxH=None, dtype: str = "float32", probes=None):
    """Runs the GRU over the encoder frames.

    Returns:
      (h_BxH, states_BxSxH): the last state and the state after every frame; with ``probes`` (pg (S, B, 2H),
      pc (S, B, H), see ``_gru_step_probed``) also the per-frame operands (h_prev (S, B, H), r*h (S, B, H)).
    """
    B, _, _ = enc_BxSxD.shape
    H = cell["wh"].shape[0]
    h0 = jnp.zeros((B, H), cell["wh"].dtype) if h0_BxH is None else h0_BxH
    xp_SxBx3H = jnp.swapaxes(input_projection(cell, enc_BxSxD, dtype), 0, 1)  # all frames in one product

    def step(h, a):
        xp, probe = a
        if probe is None:
            h_new, ops = gru_step_projected(cell, h, xp, dtype), ()
        else:
            h_new, rh = _gru_step_probed(cell, h, xp, probe, dtype)
            ops = (h, rh)
        return h_new, (h_new, ops)

    h, (states, ops) = jax.lax.scan(step, h0, (xp_SxBx3H, probes))
    out = h, jnp.swapaxes(states, 0, 1)
    return out if probes is None else (*out, ops)


def readout(params: dict, h, x_prev, cfg: ModelConfig):
    """Frame predicted from a decoder state (plus the previous frame when ``residual``)."""
    y = add_bias(matmul(h, params["readout"]["w"], cfg.dtype), params["readout"]["b"])
    return y + x_prev if cfg.residual else y


def decode(params: dict, cfg: ModelConfig, h0_BxH, dec_in_BxTxD, probes=None):
    """Runs the decoder for T steps from state h0.

    Args:
      dec_in_BxTxD: decoder inputs; only the first frame (the last encoder frame) is read unless
        ``cfg.teacher_forcing``.
      probes: as in ``encode``, (T, B, 2H) and (T, B, H).

    Returns:
      (pred_BxTxD, states_BxTxH): the predicted frames and the decoder state that produced each; with
      ``probes`` also the per-step operands (h_prev, r*h) of the recurrent products.
    """
    cell = params["cell"] if cfg.tied else params["dec_cell"]
    dec_TxBxD = jnp.swapaxes(dec_in_BxTxD, 0, 1)

    def step(carry, a):
        h, x_fed = carry
        x_true, probe = a
        x = x_true if cfg.teacher_forcing else x_fed
        if probe is None:
            h_new, ops = gru_step(cell, h, x, cfg.dtype), ()
        else:
            h_new, rh = _gru_step_probed(cell, h, input_projection(cell, x, cfg.dtype), probe, cfg.dtype)
            ops = (h, rh)
        y = readout(params, h_new, x, cfg)
        return (h_new, y), (y, h_new, ops)

    _, (pred, states, ops) = jax.lax.scan(step, (h0_BxH, dec_TxBxD[0]), (dec_TxBxD, probes))
    out = jnp.swapaxes(pred, 0, 1), jnp.swapaxes(states, 0, 1)
    return out if probes is None else (*out, ops)


def forward_autodiff(params: dict, cfg: ModelConfig, enc_BxSxD, dec_in_BxTxD):
    """Encoder then decoder, differentiated by plain autodiff (``forward`` is the same function, faster to
    differentiate).

    Returns:
      dict with ``pred`` (B, T, D), ``dec_states`` (B, T, H), ``enc_states`` (B, S, H).
    """
    h, enc_states = encode(params["cell"], enc_BxSxD, dtype=cfg.dtype)
    pred, dec_states = decode(params, cfg, h, dec_in_BxTxD)
    return {"pred": pred, "dec_states": dec_states, "enc_states": enc_states}


def _zero_probes(params: dict, cfg: ModelConfig, batch: int):
    H, dtype = params["cell"]["wh"].shape[0], params["cell"]["wh"].dtype
    zeros = lambda n, w: jnp.zeros((n, batch, w), dtype)  # noqa: E731
    return (zeros(cfg.source, 2 * H), zeros(cfg.source, H)), (zeros(cfg.target, 2 * H), zeros(cfg.target, H))


def _forward_probed(params, cfg: ModelConfig, enc_BxSxD, dec_in_BxTxD, probes):
    """``forward_autodiff`` with the recurrent kernels constant inside the loops and the probes added; returns
    (outputs, operands of the recurrent products: encoder and decoder (h_prev, r*h))."""
    h, enc_states, enc_ops = encode(params["cell"], enc_BxSxD, dtype=cfg.dtype, probes=probes[0])
    pred, dec_states, dec_ops = decode(params, cfg, h, dec_in_BxTxD, probes=probes[1])
    return {"pred": pred, "dec_states": dec_states, "enc_states": enc_states}, (enc_ops, dec_ops)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def forward(params: dict, cfg: ModelConfig, enc_BxSxD, dec_in_BxTxD):
    """Encoder then decoder (``forward_autodiff``), with the recurrent kernels' gradients computed after the
    loops (module docstring).

    Returns:
      dict with ``pred`` (B, T, D), ``dec_states`` (B, T, H), ``enc_states`` (B, S, H).
    """
    return forward_autodiff(params, cfg, enc_BxSxD, dec_in_BxTxD)


def _forward_fwd(params, cfg, enc_BxSxD, dec_in_BxTxD):
    probes = _zero_probes(params, cfg, enc_BxSxD.shape[0])
    out, vjp, ops = jax.vjp(lambda p, e, d, pr: _forward_probed(p, cfg, e, d, pr), params, enc_BxSxD, dec_in_BxTxD,
                            probes, has_aux=True)
    return out, (vjp, ops)


def _forward_bwd(cfg, res, g):
    vjp, ((enc_hp, enc_rh), (dec_hp, dec_rh)) = res
    d_params, d_enc, d_dec, ((enc_dg, enc_dc), (dec_dg, dec_dc)) = vjp(g)
    outer = lambda a, b: jnp.einsum("tbh,tbk->hk", a, b)  # noqa: E731  sum over frames and windows, one product
    enc_cell, dec_cell = "cell", "cell" if cfg.tied else "dec_cell"
    d_params[enc_cell]["wh"] = d_params[enc_cell]["wh"] + outer(enc_hp, enc_dg)
    d_params[enc_cell]["whc"] = d_params[enc_cell]["whc"] + outer(enc_rh, enc_dc)
    d_params[dec_cell]["wh"] = d_params[dec_cell]["wh"] + outer(dec_hp, dec_dg)
    d_params[dec_cell]["whc"] = d_params[dec_cell]["whc"] + outer(dec_rh, dec_dc)
    return d_params, d_enc, d_dec


forward.defvjp(_forward_fwd, _forward_bwd)


def mse(pred, target):
    return jnp.mean(jnp.square(pred - target))


def matmul_flops(cfg: ModelConfig, batch: int, train: bool = True) -> float:
    """Multiply-add FLOPs (2 per MAC) of the matrix products of one forward (x3 with the backward pass)."""
    D, H, S, T = cfg.dim, cfg.hidden, cfg.source, cfg.target
    per_step = 2 * batch * (D * 3 * H + H * 2 * H + H * H)  # input, gates, candidate
    fwd = (S + T) * per_step + T * 2 * batch * H * D  # + readout
    return float(fwd * (3 if train else 1))
