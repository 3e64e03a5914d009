"""The optional AGED-style discriminators of the reference's subject-86 model (``AGED.py``).

- fidelity: a GRU over the T predicted (fake) or true (real) frames, a linear logit from its last state;
- continuity: a GRU over the S encoder frames followed by the T predicted or true frames.

Both use sigmoid cross-entropy. The reference adds everything into one objective minimised over all
parameters, ``0.6 * (MSE + fidelity loss) + continuity loss`` ("joint": not a real min-max game, the
generator is also pushed to help the discriminators). "alternating" is the proper game: the discriminators
minimise their loss on real vs. (stopped) fake, then the generator minimises
``0.6 * (MSE + fooling fidelity) + fooling continuity``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from seq2seq_jax import model
from seq2seq_jax.config import ModelConfig


def init_discriminators(key, cfg: ModelConfig) -> dict:
    kf, kc, kfw, kcw = jax.random.split(key, 4)

    def one(kcell, kw):
        return {
            "cell": model.init_cell(kcell, cfg.dim, cfg.hidden),
            "w": model._glorot(kw, cfg.hidden, 1),
            "b": jnp.zeros((1,), jnp.float32),
        }

    return {"fidelity": one(kf, kfw), "continuity": one(kc, kcw)}


def logit(d: dict, seq_BxLxD, dtype: str = "float32"):
    h, _ = model.encode(d["cell"], seq_BxLxD, dtype=dtype)
    return model.add_bias(model.matmul(h, d["w"], dtype), d["b"])[:, 0]


def _bce(logits, label: float):
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)))


def discriminator_losses(disc: dict, enc, target, pred, dtype="float32"):
    """(fidelity loss, continuity loss): real windows labelled 1, predicted ones 0."""
    f = _bce(logit(disc["fidelity"], target, dtype), 1.0) + _bce(logit(disc["fidelity"], pred, dtype), 0.0)
    real = jnp.concatenate([enc, target], axis=1)
    fake = jnp.concatenate([enc, pred], axis=1)
    c = _bce(logit(disc["continuity"], real, dtype), 1.0) + _bce(logit(disc["continuity"], fake, dtype), 0.0)
    return f, c


def generator_losses(disc: dict, enc, pred, dtype="float32"):
    """(fidelity, continuity) losses of the generator trying to have its predictions called real."""
    f = _bce(logit(disc["fidelity"], pred, dtype), 1.0)
    c = _bce(logit(disc["continuity"], jnp.concatenate([enc, pred], axis=1), dtype), 1.0)
    return f, c
