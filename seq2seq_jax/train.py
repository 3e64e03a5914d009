"""Training: the train state, the jitted step, and the loop with progress, metrics log and checkpoints.

The train state is a plain pytree ``{"params", "opt_state", "step", "rng", "bad_step"}``. Windows are
sampled *inside* the jitted step from the sequences kept on the device (``WindowSampler``), with the key in
the state: no host transfer per step, and a resumed run draws exactly the windows the uninterrupted run
would have drawn. A non-finite loss leaves the parameters unchanged and records its step in ``bad_step``;
the loop checks it whenever it pulls metrics and stops with ``NonFiniteLossError`` naming that step.

``train`` trains one model: ``open_run`` prepares it (data checks, checkpoint manager, restore), ``run_loop``
steps it with progress, metrics log, checkpoints and signal handling. ``multi.train_many`` trains several
independent models through the same two functions; ``sharding`` holds the device meshes.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from seq2seq_jax import adversarial, checkpoint, model, sharding
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data import windows
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.sources import DataError

MAX_IN_FLIGHT = 2  # steps dispatched ahead of the computation (keeps the device busy, the loop honest)


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or inf; the message names the step and what to try."""


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class WindowSampler:
    """Random training windows drawn on the device.

    Attributes:
      data_NxD: all sequences concatenated (N frames).
      starts: start frame (in ``data``) of every window that lies inside one sequence.
      probs: probability of each start: every sequence equally likely, then every start in it (the
        reference's ``mini_batch``), or every start equally likely (``weighting="frame"``).
      window: frames per window (S + T), static.
    """

    data_NxD: jax.Array
    starts: jax.Array
    probs: jax.Array
    window: int = dataclasses.field(metadata=dict(static=True))

    @classmethod
    def from_sequences(cls, seqs, source: int, target: int, weighting: str = "sequence") -> WindowSampler:
        if isinstance(seqs, np.ndarray):
            seqs = [seqs]
        W = source + target
        starts, probs, offset = [], [], 0
        usable = [s for s in seqs if len(s) >= W]
        if not usable:
            raise DataError(
                f"no training sequence has the {W} frames one window needs (lengths {[len(s) for s in seqs]}); "
                "use longer sequences or shorter --source_seq_len/--target_seq_len"
            )
        for s in seqs:
            s_starts = windows.sliding_starts(len(s), source, target, 1)
            if len(s_starts):
                starts.append(offset + s_starts)
                w = 1.0 / (len(usable) * len(s_starts)) if weighting == "sequence" else 1.0
                probs.append(np.full(len(s_starts), w))
            offset += len(s)
        p = np.concatenate(probs)
        return cls(
            data_NxD=jnp.asarray(np.concatenate(seqs).astype(np.float32)),
            starts=jnp.asarray(np.concatenate(starts).astype(np.int32)),
            probs=jnp.asarray(p / p.sum(), jnp.float32),
            window=W,
        )

    @classmethod
    def stack(cls, samplers: list[WindowSampler]) -> WindowSampler:
        """One sampler per model on a new leading axis, for ``make_multi_train_step(per_model_data=True)``.

        Shorter data is padded with zero frames and shorter start lists with zero-probability starts, which
        are never drawn: with the same key, model i draws the windows ``samplers[i]`` would draw alone.
        """
        if len({(s.window, s.data_NxD.shape[1]) for s in samplers}) > 1:
            raise ValueError(
                "samplers of models trained together need the same window and frame size, got "
                f"{[(s.window, s.data_NxD.shape[1]) for s in samplers]}"
            )
        n = max(len(s.data_NxD) for s in samplers)
        m = max(len(s.starts) for s in samplers)
        pad = lambda x, k: jnp.pad(x, [(0, k - len(x))] + [(0, 0)] * (x.ndim - 1))  # noqa: E731
        return cls(
            data_NxD=jnp.stack([pad(s.data_NxD, n) for s in samplers]),
            starts=jnp.stack([pad(s.starts, m) for s in samplers]),
            probs=jnp.stack([pad(s.probs, m) for s in samplers]),
            window=samplers[0].window,
        )

    def sample(self, key, batch: int):
        """win_BxWxD."""
        s = jax.random.choice(key, self.starts, (batch,), p=self.probs)
        return jax.vmap(lambda t: jax.lax.dynamic_slice_in_dim(self.data_NxD, t, self.window))(s)


def make_optimizer(tcfg: TrainConfig) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(tcfg.clip), optax.adam(tcfg.lr))


def _gen(params):
    return {k: v for k, v in params.items() if k != "disc"}


def init_state(mcfg: ModelConfig, tcfg: TrainConfig) -> dict:
    k_params, k_disc, k_data = jax.random.split(jax.random.PRNGKey(tcfg.seed), 3)
    params = model.init_params(k_params, mcfg)
    tx = make_optimizer(tcfg)
    if mcfg.adversarial != "none":
        params["disc"] = adversarial.init_discriminators(k_disc, mcfg)
    if mcfg.adversarial == "alternating":
        opt_state = {"gen": tx.init(_gen(params)), "disc": tx.init(params["disc"])}
    else:
        opt_state = tx.init(params)
    return {
        "params": params,
        "opt_state": opt_state,
        "step": jnp.zeros((), jnp.int32),
        "rng": k_data,
        "bad_step": jnp.full((), -1, jnp.int32),
    }


def loss_fn(params, mcfg: ModelConfig, tcfg: TrainConfig, win_BxWxD, forward: Callable = model.forward):
    """(objective, metrics) of one batch of windows; the objective adds the joint adversarial terms.
    ``forward`` is ``model.forward`` or a function of the same signature (``model.forward_autodiff``)."""
    enc, dec, tgt = windows.split(win_BxWxD, mcfg.source)
    out = forward(params, mcfg, enc, dec)
    mse = model.mse(out["pred"], tgt)
    aux = {"mse": mse}
    if mcfg.adversarial == "joint":
        f, c = adversarial.discriminator_losses(params["disc"], enc, tgt, out["pred"], mcfg.dtype)
        aux.update(fidelity=f, continuity=c)
        return tcfg.adv_weight * (mse + f) + c, aux
    return mse, aux


def _alternating_update(state, mcfg, tcfg, tx, win, forward):
    enc, dec, tgt = windows.split(win, mcfg.source)
    params = state["params"]
    gen = _gen(params)
    pred = jax.lax.stop_gradient(forward(gen, mcfg, enc, dec)["pred"])

    def d_loss(disc):
        f, c = adversarial.discriminator_losses(disc, enc, tgt, pred, mcfg.dtype)
        return f + c, (f, c)

    (dl, (f, c)), dg = jax.value_and_grad(d_loss, has_aux=True)(params["disc"])
    du, d_opt = tx.update(dg, state["opt_state"]["disc"], params["disc"])
    disc = optax.apply_updates(params["disc"], du)

    def g_loss(g):
        out = forward(g, mcfg, enc, dec)
        mse = model.mse(out["pred"], tgt)
        gf, gc = adversarial.generator_losses(disc, enc, out["pred"], mcfg.dtype)
        return tcfg.adv_weight * (mse + gf) + gc, mse

    (gl, mse), gg = jax.value_and_grad(g_loss, has_aux=True)(gen)
    gu, g_opt = tx.update(gg, state["opt_state"]["gen"], gen)
    new_params = {**optax.apply_updates(gen, gu), "disc": disc}
    metrics = {
        "loss": gl,
        "mse": mse,
        "disc_loss": dl,
        "fidelity": f,
        "continuity": c,
        "grad_norm": optax.tree.norm(gg),
    }
    return new_params, {"gen": g_opt, "disc": d_opt}, metrics


def make_train_step(
    mcfg: ModelConfig, tcfg: TrainConfig, mesh: Mesh | None = None, forward: Callable = model.forward
) -> Callable:
    """``step(state, sampler) -> (state, metrics)``, jitted, the state donated.

    With a ``mesh`` (``sharding.data_mesh()``), data-parallel: each step's windows are split over the mesh's
    ``"data"`` axis while the state stays replicated (place it with ``sharding.replicate``); XLA inserts the
    gradient all-reduce. The batch must be divisible by the number of devices. Multi-host: call
    ``jax.distributed.initialize()`` on every host first; ``jax.devices()`` then spans all hosts.
    """
    if mesh is not None and tcfg.batch % mesh.size:
        raise ValueError(f"batch {tcfg.batch} is not divisible by the {mesh.size} devices of the mesh")
    return jax.jit(step_fn(mcfg, tcfg, mesh, forward), donate_argnums=0)


def step_fn(
    mcfg: ModelConfig, tcfg: TrainConfig, mesh: Mesh | None = None, forward: Callable = model.forward
) -> Callable:
    """The un-jitted train step ``(state, sampler) -> (state, metrics)``."""
    tx = make_optimizer(tcfg)

    def step(state, sampler: WindowSampler):
        rng, k = jax.random.split(state["rng"])
        win = sampler.sample(k, tcfg.batch)
        win = sharding.batch_constraint(win, mesh)
        if mcfg.adversarial == "alternating":
            new_params, new_opt, metrics = _alternating_update(state, mcfg, tcfg, tx, win, forward)
        else:
            (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"], mcfg, tcfg, win, forward)
            updates, new_opt = tx.update(grads, state["opt_state"], state["params"])
            new_params = optax.apply_updates(state["params"], updates)
            metrics = {"loss": loss, **aux, "grad_norm": optax.tree.norm(grads)}
        finite = jnp.isfinite(metrics["loss"])
        keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(finite, n, o), new, old)  # noqa: E731
        n = state["step"] + 1
        new_state = {
            "params": keep(new_params, state["params"]),
            "opt_state": keep(new_opt, state["opt_state"]),
            "step": n,
            "rng": rng,
            "bad_step": jnp.where((state["bad_step"] < 0) & ~finite, n, state["bad_step"]),
        }
        return new_state, metrics

    return step


@dataclasses.dataclass
class TrainResult:
    state: dict
    meta: checkpoint.Meta
    step: int
    interrupted: bool  # stopped by SIGINT/SIGTERM after saving
    history: list[dict]  # the metrics pulled at logging steps in this run
    signum: int | None = None  # the signal that stopped it


class TrainingInterrupted(KeyboardInterrupt):
    """Training was stopped by a signal after saving; ``exit_code`` is the conventional 128 + signal number."""

    def __init__(self, message: str, signum: int | None):
        super().__init__(message)
        self.exit_code = 128 + (signum or 2)


class _StopFlag:
    """Turns SIGINT/SIGTERM into a flag the loop polls, so that it can save before exiting."""

    def __init__(self):
        self.signum = None
        self._old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame):
        self.signum = signum

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)


def train(
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    seqs,
    norm: NormStats,
    workdir,
    data_info: dict,
    load_step: int | None = None,
    progress: bool = True,
    on_log: Callable[[int, dict], dict] | None = None,
    weighting: str = "sequence",
    data_parallel: bool = False,
) -> TrainResult:
    """Trains (or resumes) a model on normalized sequences, checkpointing into ``workdir``.

    Args:
      seqs: one z-scored sequence (frames x dim) or a list of them; windows never cross two sequences.
      norm: the normalization statistics, stored with the checkpoint.
      workdir: the run folder: ``checkpoints/`` and ``metrics.jsonl`` go there.
      data_info: what the model is trained on (stored; resuming on other data is refused).
      load_step: resume from this saved step instead of the latest.
      on_log: called at logging steps with (step, state); returns extra metrics to log.
      data_parallel: split each batch over all devices (``jax.devices()``), parameters replicated.

    Returns:
      TrainResult. Training to ``tcfg.iterations`` again after it finished only restores.
    """
    with contextlib.ExitStack() as stack:
        run = open_run(mcfg, tcfg, seqs, norm, workdir, data_info, load_step, weighting, stack)
        if run.step < tcfg.iterations:
            mesh = sharding.data_mesh() if data_parallel else None
            state, sampler = run.state, run.sampler
            if mesh is not None:
                state, sampler = sharding.replicate(state, mesh), sharding.replicate(sampler, mesh)
            run_loop(
                [run], make_train_step(mcfg, tcfg, mesh), state, sampler, lambda tree: [tree], tcfg, progress, on_log
            )
    return run.result()


@dataclasses.dataclass
class _Run:
    """One model being trained: its data, folder, checkpoint manager, state and progress."""

    sampler: WindowSampler
    workdir: Path
    mngr: object
    meta: checkpoint.Meta
    state: dict
    step: int
    interrupted: bool = False
    history: list = dataclasses.field(default_factory=list)
    signum: int | None = None

    def result(self) -> TrainResult:
        return TrainResult(self.state, self.meta, self.step, self.interrupted, self.history, self.signum)


def open_run(
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    seqs,
    norm: NormStats,
    workdir,
    data_info: dict,
    load_step: int | None,
    weighting: str,
    stack: contextlib.ExitStack,
    label: str = "",
) -> _Run:
    """Checks one model's data, opens its checkpoint manager (closed with ``stack``) and restores its latest
    step (or ``load_step``) when the folder has one trained on the same data; ``label`` names it in errors."""
    workdir = Path(workdir).expanduser().resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    seq_list = [seqs] if isinstance(seqs, np.ndarray) else list(seqs)
    for j, s in enumerate(seq_list):
        what = f"training sequence {j}" + (f" of {label}" if label else "")
        if s.ndim != 2 or s.shape[1] != mcfg.dim:
            raise DataError(f"{what} has shape {s.shape}, the model expects (frames, {mcfg.dim})")
        if not np.isfinite(s).all():
            raise DataError(f"{what} contains NaN or inf at frame {int(np.argwhere(~np.isfinite(s))[0, 0])}")
    sampler = WindowSampler.from_sequences(seq_list, mcfg.source, mcfg.target, weighting)
    mngr = stack.enter_context(checkpoint.manager(workdir, tcfg))
    state = init_state(mcfg, tcfg)
    steps = sorted(mngr.all_steps())
    if load_step is not None and load_step not in steps:
        raise checkpoint.CheckpointError(
            f"--load {load_step}: no checkpoint at that step in {mngr.directory}; saved steps: {steps or 'none'}"
        )
    if load_step is not None and steps[-1] > load_step:  # continue from there: the later steps are kept aside
        later = [s for s in steps if s > load_step]
        dest = checkpoint.set_aside(mngr, later, f"after_{load_step}")
        print(
            f"--load {load_step}: the later steps {later} were moved to {dest} (kept); training continues from "
            f"step {load_step}"
        )
    if steps:

        def target(saved):
            checkpoint.check_compatible(saved, mcfg, data_info, mngr.directory)
            return state

        _, state, _, skipped = checkpoint.restore_newest_valid(mngr, target, load_step)
        if skipped:
            dest = checkpoint.set_aside(mngr, [s for s, _ in skipped], "unreadable")
            for s, why in skipped:
                print(f"warning: skipped step {s}: {why}")
            print(
                f"resuming from step {int(state['step'])}, the newest step that reads back whole; the unreadable "
                f"steps were moved to {dest}"
            )
    checkpoint.trim_metrics(workdir / "metrics.jsonl", int(state["step"]))
    return _Run(sampler, workdir, mngr, checkpoint.Meta(mcfg, tcfg, norm, data_info), state, int(state["step"]))


def run_loop(
    runs: list[_Run],
    train_step: Callable,
    state,
    sampler,
    views: Callable,
    tcfg: TrainConfig,
    progress: bool,
    on_log: Callable | None,
) -> bool:
    """Steps ``state`` (one model's, or several stacked) from the runs' common step to ``tcfg.iterations``:
    progress bar, ``metrics.jsonl`` rows at logging steps, checkpoints every ``save_every`` steps and at the end,
    a stop on a non-finite loss, and on SIGINT/SIGTERM a save, then a stop. ``views(tree)`` gives each run's
    part of a state or metrics tree. Leaves each run's final state in it; True when stopped by a signal."""
    n, step0 = len(runs), runs[0].step
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=tcfg.iterations, initial=step0, unit="step", dynamic_ncols=True, desc=f"{n} models" if n > 1 else None
        )
    t_last, s_last = time.perf_counter(), step0
    with _StopFlag() as stop, contextlib.ExitStack() as files:
        logs = [files.enter_context(open(r.workdir / "metrics.jsonl", "a")) for r in runs]
        step = step0
        in_flight = collections.deque()
        while step < tcfg.iterations:
            state, metrics = train_step(state, sampler)
            step += 1
            # JAX dispatches asynchronously: without a bound the loop runs dozens of steps ahead of the
            # computation, the progress bar shows dispatched steps, and a SIGTERM waits for all of them.
            in_flight.append(metrics["loss"])
            if len(in_flight) > MAX_IN_FLIGHT:
                in_flight.popleft().block_until_ready()
            if bar is not None:
                bar.update(1)
            last = step == tcfg.iterations
            save = last or stop.signum is not None or step % tcfg.save_every == 0
            if save or step % tcfg.log_every == 0:
                bad = np.atleast_1d(np.asarray(state["bad_step"]))  # the only host synchronisation in the loop
                if (bad >= 0).any():
                    i = int(np.argmax(bad >= 0))
                    raise NonFiniteLossError(
                        f"the loss became non-finite at step {int(bad[i])}"
                        + (f" in the model of {runs[i].workdir}" if n > 1 else "")
                        + "; stopped without saving (the checkpoints in "
                        + ", ".join(str(r.mngr.directory) for r in runs)
                        + " are kept); lower the learning rate or check the data for outliers"
                    )
            if step % tcfg.log_every == 0 or last or stop.signum is not None:
                now = time.perf_counter()
                rate = (step - s_last) / max(now - t_last, 1e-9)
                t_last, s_last = now, step
                # each model's state is sliced out of the stack only for on_log (at hidden 1024, 16 models: 1 GB)
                states = views(state) if on_log is not None else [None] * n
                for r, log, m, st in zip(runs, logs, views(metrics), states):
                    row = {
                        "step": step,
                        **{k: float(v) for k, v in m.items()},
                        "steps_per_s": rate,
                        "time": time.time(),
                    }
                    if on_log is not None:
                        row.update(on_log(step, st))
                    r.history.append(row)
                    log.write(json.dumps(row) + "\n")
                    log.flush()
                if bar is not None:
                    losses = [h[-1]["loss"] for h in (r.history for r in runs)]
                    bar.set_postfix(loss=f"{losses[0]:.4f}" if n == 1 else f"{min(losses):.4f}-{max(losses):.4f}")
            if save:
                for r, st in zip(runs, views(state)):
                    checkpoint.save(r.mngr, step, st, r.meta, force=True)
            if stop.signum is not None:
                break
        for r, st in zip(runs, views(state)):
            r.mngr.wait_until_finished()
            r.state, r.step, r.interrupted, r.signum = st, step, stop.signum is not None, stop.signum
    if bar is not None:
        bar.close()
    if stop.signum is not None:
        print(
            f"\nstopped by signal {stop.signum}: saved step {step} in "
            + ", ".join(str(r.mngr.directory) for r in runs)
            + "; run the same command to resume"
        )
    return stop.signum is not None


def load(workdir, step: int | None = None):
    """(params, meta, step) of a trained model in ``workdir``: ``step``, or the newest step that reads back whole
    (saying which newer steps it skipped and why). Creates nothing; every problem is a ``CheckpointError``."""
    with checkpoint.manager(workdir, create=False) as mngr:
        s, state, meta, skipped = checkpoint.restore_newest_valid(mngr, lambda m: init_state(m.model, m.train), step)
    for bad, why in skipped:
        print(f"warning: skipped step {bad}: {why}; using step {s}")
    return state["params"], meta, s
