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

``forward`` and its gradient (a ``jax.custom_vjp``) are written for the thin products of training at batch 16,
where two things decide the speed on CPUs (``benchmarks/benchmark.py`` measures both):

- Column layout. Inside ``forward``'s loops a state is (H, B) and each product is kernel^T @ state (forward)
  and kernel @ cotangent (backward), with the kernel also stored transposed, so both contract the kernel's
  contiguous axis. XLA's CPU product (2H, H) @ (H, 16) runs about twice as fast as the row layout's
  (16, H) @ (H, 2H). ``encode``, ``decode`` and ``forward_autodiff`` keep the row layout (B, H) of the
  equations above: they are the reference the tests compare ``forward`` with, and state collection
  (``embed``) uses them, at hundreds of windows per product, where the row layout is as fast or faster.
- Kernels' gradients after the loops. Autodiff of a scan accumulates the gradient of a weight used inside the
  loop step by step, a rank-B update of the whole (H, 2H) and (H, H) kernels per frame (at batch 16 a thin
  product that reads and writes 12 MB per step at hidden 1024). Here the loops see the kernels (recurrent,
  and the decoder's input and readout kernels) as constants plus a zero "probe" added to each product; the
  cotangent of a probe is the gradient of that product's output, and after the backward scan each kernel's
  gradient is one matrix product over all frames and windows, e.g. d wh = sum_t h_{t-1}^T d(h_{t-1} wh).

Values and gradients equal plain autodiff's up to rounding (``tests/test_model.py``).

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


def _probed(y, probe, i: int):
    """y plus the i-th probe (``forward``'s gradient trick); y itself without probes."""
    return y if probe is None else y + probe[i]


def _gru_update(h, xp, prod_g, prod_c, axis: int = -1, probe=None):
    """(h', r * h): one GRU step from the input projection ``xp``, and the left operand of the candidate product.

    ``prod_g(h)`` and ``prod_c(r * h)`` are the two state products; ``axis`` is the feature axis (-1: rows
    (B, H); 0: columns (H, B), see ``forward``); ``probe`` (pg, pc, ...) adds pg and pc to the two products."""
    H = h.shape[axis]
    part = lambda y, a, b: jax.lax.slice_in_dim(y, a * H, b * H, axis=axis)  # noqa: E731
    g = jax.nn.sigmoid(part(xp, 0, 2) + _probed(prod_g(h), probe, 0))
    r, u = part(g, 0, 1), part(g, 1, 2)
    rh = r * h
    c = jnp.tanh(part(xp, 2, 3) + _probed(prod_c(rh), probe, 1))
    return u * h + (1.0 - u) * c, rh


def gru_step_projected(cell: dict, h_BxH, xp_Bx3H, dtype: str = "float32"):
    """One GRU step given the input projection ``xp`` = x @ wx + b."""
    return _gru_update(h_BxH, xp_Bx3H, lambda a: matmul(a, cell["wh"], dtype), lambda a: matmul(a, cell["whc"], dtype))[
        0
    ]


def gru_step(cell: dict, h_BxH, x_BxD, dtype: str = "float32"):
    """One GRU step: h' from state h and input x (TF1 GRUCell equations, see the module docstring)."""
    return gru_step_projected(cell, h_BxH, input_projection(cell, x_BxD, dtype), dtype)


def encode(cell: dict, enc_BxSxD, h0_BxH=None, dtype: str = "float32"):
    """Runs the GRU over the encoder frames.

    Returns:
      (h_BxH, states_BxSxH): the last state and the state after every frame.
    """
    B, _, _ = enc_BxSxD.shape
    H = cell["wh"].shape[0]
    h0 = jnp.zeros((B, H), cell["wh"].dtype) if h0_BxH is None else h0_BxH
    xp_SxBx3H = jnp.swapaxes(input_projection(cell, enc_BxSxD, dtype), 0, 1)  # all frames in one product

    def step(h, xp):
        h = gru_step_projected(cell, h, xp, dtype)
        return h, h

    h, states = jax.lax.scan(step, h0, xp_SxBx3H)
    return h, jnp.swapaxes(states, 0, 1)


def readout(params: dict, h, x_prev, cfg: ModelConfig):
    """Frame predicted from a decoder state (plus the previous frame when ``residual``)."""
    y = add_bias(matmul(h, params["readout"]["w"], cfg.dtype), params["readout"]["b"])
    return y + x_prev if cfg.residual else y


def decode(params: dict, cfg: ModelConfig, h0_BxH, dec_in_BxTxD):
    """Runs the decoder for T steps from state h0.

    Args:
      dec_in_BxTxD: decoder inputs; only the first frame (the last encoder frame) is read unless
        ``cfg.teacher_forcing``.

    Returns:
      (pred_BxTxD, states_BxTxH): the predicted frames and the decoder state that produced each.
    """
    cell = params["cell"] if cfg.tied else params["dec_cell"]
    dec_TxBxD = jnp.swapaxes(dec_in_BxTxD, 0, 1)

    def step(carry, x_true):
        h, x_fed = carry
        x = x_true if cfg.teacher_forcing else x_fed
        h_new = gru_step(cell, h, x, cfg.dtype)
        y = readout(params, h_new, x, cfg)
        return (h_new, y), (y, h_new)

    _, (pred, states) = jax.lax.scan(step, (h0_BxH, dec_TxBxD[0]), dec_TxBxD)
    return jnp.swapaxes(pred, 0, 1), jnp.swapaxes(states, 0, 1)


def forward_autodiff(params: dict, cfg: ModelConfig, enc_BxSxD, dec_in_BxTxD):
    """Encoder then decoder in the row layout, differentiated by plain autodiff: the reference for ``forward``
    (the same function, faster to run and to differentiate at small batches).

    Returns:
      dict with ``pred`` (B, T, D), ``dec_states`` (B, T, H), ``enc_states`` (B, S, H).
    """
    h, enc_states = encode(params["cell"], enc_BxSxD, dtype=cfg.dtype)
    pred, dec_states = decode(params, cfg, h, dec_in_BxTxD)
    return {"pred": pred, "dec_states": dec_states, "enc_states": enc_states}


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _constant_product(wT, w, a, dtype: str):
    """wT @ a for a kernel held constant (no gradient reaches ``wT`` or ``w``); the backward product w @ g reads
    the kernel as stored, so that both contract the kernel's contiguous axis (module docstring)."""
    return matmul(wT, a, dtype)


def _constant_product_fwd(wT, w, a, dtype):
    return matmul(wT, a, dtype), (wT, w)


def _constant_product_bwd(dtype, res, g):
    _, w = res
    return None, None, matmul(w, g, dtype)


_constant_product.defvjp(_constant_product_fwd, _constant_product_bwd)


def _column_cell(cell: dict, dtype: str) -> dict:
    """A cell's products for the column-layout loops: kernels constant, each also stored transposed (the
    barrier keeps XLA from folding the transposes back into the products)."""
    wx, wh, whc = (jax.lax.stop_gradient(cell[k]) for k in ("wx", "wh", "whc"))
    wxT, whT, whcT = jax.lax.optimization_barrier((wx.T, wh.T, whc.T))
    b = cell["b"][:, None]
    return {
        "project": lambda x_DxB: _constant_product(wxT, wx, x_DxB, dtype) + b,
        "prod_g": lambda h_HxB: _constant_product(whT, wh, h_HxB, dtype),
        "prod_c": lambda rh_HxB: _constant_product(whcT, whc, rh_HxB, dtype),
    }


def _zero_probes(params: dict, cfg: ModelConfig, batch: int):
    """Encoder (pg, pc) and decoder (pg, pc, px, py): zeros added to the gate, candidate, input-projection and
    readout products of each frame, in column layout."""
    H, dtype = params["cell"]["wh"].shape[0], params["cell"]["wh"].dtype
    zeros = lambda n, w: jnp.zeros((n, w, batch), dtype)  # noqa: E731
    S, T = cfg.source, cfg.target
    return ((zeros(S, 2 * H), zeros(S, H)), (zeros(T, 2 * H), zeros(T, H), zeros(T, 3 * H), zeros(T, cfg.dim)))


def _forward_columns(params, cfg: ModelConfig, enc_BxSxD, dec_in_BxTxD, probes=None):
    """``forward_autodiff`` in column layout with the kernels constant inside the loops (module docstring),
    the probes added when given.

    Returns:
      (outputs as ``forward``'s, operands of the probed products per frame, (frames, features, B) each:
      encoder (h_prev, r*h), decoder (h_prev, r*h, input, new state = the decoder states before ``rows``)).
    """
    enc_cell = _column_cell(params["cell"], cfg.dtype)
    dec_cell = enc_cell if cfg.tied else _column_cell(params["dec_cell"], cfg.dtype)
    H, B = params["cell"]["wh"].shape[0], enc_BxSxD.shape[0]
    # The input side of all encoder frames is one product (row layout), then turned to (S, 3H, B).
    xp_Sx3HxB = jnp.transpose(input_projection(params["cell"], enc_BxSxD, cfg.dtype), (1, 2, 0))
    rw = jax.lax.stop_gradient(params["readout"]["w"])
    rwT = jax.lax.optimization_barrier(rw.T)
    rb = params["readout"]["b"][:, None]
    enc_probes, dec_probes = (None, None) if probes is None else probes

    def enc_step(h, a):
        xp, probe = a
        h_new, rh = _gru_update(h, xp, enc_cell["prod_g"], enc_cell["prod_c"], 0, probe)
        return h_new, (h_new, (h, rh))

    def dec_step(carry, a):
        h, x_fed = carry
        x_true, probe = a
        x = x_true if cfg.teacher_forcing else x_fed
        xp = _probed(dec_cell["project"](x), probe, 2)
        h_new, rh = _gru_update(h, xp, dec_cell["prod_g"], dec_cell["prod_c"], 0, probe)
        y = _probed(_constant_product(rwT, rw, h_new, cfg.dtype), probe, 3) + rb
        y = y + x if cfg.residual else y
        return (h_new, y), (y, h_new, (h, rh, x))

    h0 = jnp.zeros((H, B), params["cell"]["wh"].dtype)
    h, (enc_states, enc_ops) = jax.lax.scan(enc_step, h0, (xp_Sx3HxB, enc_probes))
    dec_TxDxB = jnp.transpose(dec_in_BxTxD, (1, 2, 0))
    _, (pred, dec_states, dec_ops) = jax.lax.scan(dec_step, (h, dec_TxDxB[0]), (dec_TxDxB, dec_probes))
    rows = lambda a: jnp.transpose(a, (2, 0, 1))  # noqa: E731  (frames, features, B) -> (B, frames, features)
    out = {"pred": rows(pred), "dec_states": rows(dec_states), "enc_states": rows(enc_states)}
    return out, (enc_ops, (*dec_ops, dec_states))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def forward(params: dict, cfg: ModelConfig, enc_BxSxD, dec_in_BxTxD):
    """Encoder then decoder: ``forward_autodiff``'s values, computed and differentiated faster (module docstring).

    Returns:
      dict with ``pred`` (B, T, D), ``dec_states`` (B, T, H), ``enc_states`` (B, S, H).
    """
    return _forward_columns(params, cfg, enc_BxSxD, dec_in_BxTxD)[0]


def _forward_fwd(params, cfg, enc_BxSxD, dec_in_BxTxD):
    probes = _zero_probes(params, cfg, enc_BxSxD.shape[0])
    out, vjp, ops = jax.vjp(
        lambda p, e, d, pr: _forward_columns(p, cfg, e, d, pr), params, enc_BxSxD, dec_in_BxTxD, probes, has_aux=True
    )
    return out, (vjp, ops)


def _forward_bwd(cfg, res, g):
    vjp, ((enc_hp, enc_rh), (dec_hp, dec_rh, dec_x, dec_h)) = res
    d_params, d_enc, d_dec, ((enc_dg, enc_dc), (dec_dg, dec_dc, dec_dxp, dec_dy)) = vjp(g)
    outer = lambda a, b: jnp.einsum("tib,tjb->ij", a, b)  # noqa: E731  sum over frames and windows, one product
    enc_cell, dec_cell = "cell", "cell" if cfg.tied else "dec_cell"
    d_params[enc_cell]["wh"] = d_params[enc_cell]["wh"] + outer(enc_hp, enc_dg)
    d_params[enc_cell]["whc"] = d_params[enc_cell]["whc"] + outer(enc_rh, enc_dc)
    d_params[dec_cell]["wh"] = d_params[dec_cell]["wh"] + outer(dec_hp, dec_dg)
    d_params[dec_cell]["whc"] = d_params[dec_cell]["whc"] + outer(dec_rh, dec_dc)
    d_params[dec_cell]["wx"] = d_params[dec_cell]["wx"] + outer(dec_x, dec_dxp)
    d_params["readout"]["w"] = d_params["readout"]["w"] + outer(dec_h, dec_dy)
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
