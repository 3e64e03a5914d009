"""Command-line flags derived from the presets and configs: one definition for the scripts and ``seq2seq-jax``.

Every flag defaults to ``None`` (the preset's value); ``resolve`` builds the validated ``Preset`` from the
parsed arguments and turns a bad value into an argparse error before any work starts.
"""

from __future__ import annotations

import argparse
import math

from seq2seq_jax import presets
from seq2seq_jax.config import ADVERSARIAL, DTYPES, ROOTS
from seq2seq_jax.segmentation import config as seg


def _yes_no(text: str) -> bool:
    if text not in ("yes", "no"):
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")
    return text == "yes"


# (flag names, config block, field, type, help); the first name is the reference's where it had one
MODEL_FLAGS = (
    (("--hidden", "--rnn_size"), "model", "hidden", int, "GRU hidden size"),
    (("--source_seq_len", "--source"), "model", "source", int, "encoder frames"),
    (("--target_seq_len", "--target"), "model", "target", int, "decoder frames (predicted)"),
    (
        ("--root",),
        "model",
        "root",
        ROOTS,
        "motion capture: 'upright' replaces the root's position and exponential map (the first six channels) by its "
        "height and tilt, so where the body stands and which way it faces do not count; 'keep': the channels as "
        "given",
    ),
)
TRAIN_FLAGS = (
    (("--learning_rate", "--lr"), "train", "lr", float, "Adam learning rate"),
    (("--batch_size", "--batch"), "train", "batch", int, "windows per step"),
    (("--iterations",), "train", "iterations", int, "training steps"),
    (("--models",), "train", "models", int, "independent models per recording, trained together (an ensemble)"),
)
SEGMENT_FLAGS = (
    (
        ("--segment_stats",),
        "segment",
        "segment_stats",
        seg.SEGMENT_STATS,
        "segment descriptor: 'mean' (where a segment sits), 'std' (how it moves: whole recordings of different "
        "people), 'mean_std' or 'motion' (the mean local spread within 0.5 s: how it moves, not counting a "
        "posture change at a segment's ends)",
    ),
    (
        ("--within_recordings",),
        "segment",
        "within_recordings",
        seg.RECORDING_MODES,
        "where the data joins separate recordings (found as splices): 'none' keeps each as one segment, 'cpd' also "
        "cuts inside them",
    ),
    (
        ("--cpd_smooth_s",),
        "segment",
        "cpd_smooth_s",
        float,
        "Gaussian smoothing in time (seconds) of the features before change points (0: none)",
    ),
    (
        ("--min_seg_s",),
        "segment",
        "min_seg_s",
        float,
        "shortest segment the change-point search places, seconds (shorter actions need less)",
    ),
    (
        ("--min_segments_over_k",),
        "segment",
        "min_segments_over_k",
        int,
        "at least k - 1 + this many change points (0: the elbow alone)",
    ),
    (
        ("--count_rule",),
        "segment",
        "count_rule",
        seg.COUNT_RULES,
        "how many change points: 'elbow' of the kernel cost, or 'class_elbow': also at least the elbow of the cost of "
        "k classes over the pieces (goes on where short segments of recurring classes bend the kernel cost early)",
    ),
    (
        ("--max_mean_segment_s",),
        "segment",
        "max_mean_segment_s",
        float,
        "at least as many change points as keep the mean segment this long or shorter, seconds (0: no such floor)",
    ),
    (
        ("--linkage",),
        "segment",
        "linkage",
        seg.LINKAGES,
        "clustering of segments: 'ward_whitened' (Ward on the samples, whitened), 'chamfer' (groups as far apart as "
        "their samples), 'average' (cosine) or 'ward'",
    ),
    (
        ("--whiten_shrink",),
        "segment",
        "whiten_shrink",
        float,
        "linkage 'ward_whitened': how much of the within-segment covariance is replaced by its mean variance before "
        "whitening, 0 to 1 (0: whiten fully, 1: not at all)",
    ),
    (
        ("--frames_in_clustering",),
        "segment",
        "frames_in_clustering",
        _yes_no,
        "yes/no: the frames' features also in the clustering of segments (no: the embedding alone; the frames "
        "serve the change points)",
    ),
    (
        ("--motion_votes",),
        "segment",
        "motion_votes",
        _yes_no,
        "yes/no: each model's segments clustered by how they move (segment_stats 'motion') also vote in the consensus",
    ),
    (
        ("--chamfer_votes",),
        "segment",
        "chamfer_votes",
        _yes_no,
        "yes/no: each model's segments clustered by how near their samples lie (linkage 'chamfer') also vote in the "
        "consensus",
    ),
    (
        ("--spectrum_votes",),
        "segment",
        "spectrum_votes",
        _yes_no,
        "yes/no: each model's segments clustered by the rhythm of the input frames in them (segment_stats "
        "'spectrum') also vote in the consensus",
    ),
    (
        ("--motion_features",),
        "segment",
        "motion_features",
        seg.MOTION_FEATURES,
        "what segment_stats 'motion' describes: 'clustering' (the features the segments are clustered by) or "
        "'frames' (the input frames' PCA alone)",
    ),
    (
        ("--frames_votes",),
        "segment",
        "frames_votes",
        _yes_no,
        "yes/no: our segmentation of the input frames alone (no model) also votes in the consensus",
    ),
    (
        ("--consensus",),
        "segment",
        "consensus",
        seg.CONSENSUS,
        "how the labellings of an ensemble are combined: 'coassociation', or 'median' (the one that agrees most "
        "with all the others)",
    ),
    (("--segmentation",), "segment", "method", seg.METHODS, "change points ('cpd') or clustering of frames"),
)


def _default(preset: presets.Preset, block: str, field: str):
    return getattr(getattr(preset, block), field)


def add_preset_flags(
    parser: argparse.ArgumentParser,
    preset: str,
    model: bool = True,
    train: bool = True,
    segment: bool = True,
    presets_allowed=None,
    variants: bool = False,
) -> None:
    """``--preset`` and the model, training and segmentation flags, defaults shown from ``preset``; with
    ``variants`` also the model variants of the study (``--untied``, ``--residual``, ``--adversarial``, ``--dtype``)."""
    p = presets.get(preset)
    allowed = tuple(presets_allowed or presets.PRESETS)
    parser.add_argument(
        "--preset",
        default=p.name,
        choices=allowed,
        help=f"the settings every other flag starts from (default {p.name}; see seq2seq_jax/presets.py)",
    )
    table = (MODEL_FLAGS if model else ()) + (TRAIN_FLAGS if train else ()) + (SEGMENT_FLAGS if segment else ())
    for names, block, field, kind, text in table:
        choices = kind if isinstance(kind, tuple) else None
        parser.add_argument(
            *names,
            dest=field,
            type=None if choices else kind,
            choices=choices,
            default=None,
            help=f"{text} (preset {p.name}: {_default(p, block, field)})",
        )
    if train:
        parser.add_argument("--seed", type=int, default=None, help="initialisation and window sampling (default 0)")
    if variants:
        parser.add_argument("--untied", action="store_true", help="separate encoder and decoder cells")
        parser.add_argument(
            "--residual", action="store_true", help="the readout predicts each frame's change from the one before"
        )
        parser.add_argument("--adversarial", choices=ADVERSARIAL, default=None, help="the reference's AGED losses")
        parser.add_argument("--dtype", choices=DTYPES, default=None, help="matrix-product input type")


def resolve(parser: argparse.ArgumentParser, args: argparse.Namespace, **model_extra) -> presets.Preset:
    """The preset named by ``args.preset`` with the flags given applied (and ``model_extra`` model fields);
    exits with an argparse error naming the bad value."""
    changes = {"model": dict(model_extra), "train": {}, "segment": {}}
    if hasattr(args, "untied"):
        changes["model"].update(
            tied=False if args.untied else None,
            residual=True if args.residual else None,
            adversarial=args.adversarial,
            dtype=args.dtype,
        )
    for _, block, field, _, _ in MODEL_FLAGS + TRAIN_FLAGS + SEGMENT_FLAGS:
        if hasattr(args, field):
            changes[block][field] = getattr(args, field)
    if hasattr(args, "seed"):
        changes["train"]["seed"] = args.seed
    if changes["train"].get("iterations") is not None and changes["train"]["iterations"] < 1:
        parser.error(f"--iterations must be >= 1, got {changes['train']['iterations']}")
    if getattr(args, "restore", None):
        given = [
            names[0]
            for names, block, field, _, _ in MODEL_FLAGS + TRAIN_FLAGS
            if getattr(args, field, None) is not None
        ]
        given += [f"--{f}" for f in ("adversarial", "dtype") if getattr(args, f, None) is not None]
        given += [f"--{f}" for f in ("untied", "residual") if getattr(args, f, False)]
        if given:
            parser.error(
                f"--restore uses the checkpoint's own model and training settings; drop {', '.join(given)} "
                "(or train a new model without --restore)"
            )
    try:
        return presets.get(args.preset).replace(**changes)
    except ValueError as err:
        parser.error(str(err))


def add_together_flags(parser: argparse.ArgumentParser, what: str) -> None:
    """``--together`` (train ``what`` at once, ``fitting.fit_together``) and ``--cpu_devices K``."""
    parser.add_argument(
        "--together",
        action="store_true",
        help=f"train {what} at once: one model each in one vmapped step (each with its own data and "
        "seed, the windows and initialisation it would have alone), split over the JAX devices",
    )
    parser.add_argument(
        "--cpu_devices",
        type=int,
        default=None,
        metavar="K",
        help="with --together on a CPU: K CPU devices running the models side by side (XLA's "
        "multi-threaded Eigen off; 2 on a 2-core machine, see docs/throughput.md)",
    )


def check_together_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.cpu_devices is not None and (not args.together or args.cpu_devices < 1):
        parser.error("--cpu_devices K (K >= 1) splits the models trained --together over K CPU devices; add --together")


def add_distributed_flags(parser: argparse.ArgumentParser) -> None:
    """``--coordinator HOST:PORT --num_processes N --process_id I``: one process of a multi-host run."""
    parser.add_argument(
        "--coordinator",
        default=None,
        metavar="HOST:PORT",
        help="join a multi-process run whose process 0 listens there (jax.distributed); with "
        "--num_processes and --process_id, on every host, with --data_parallel",
    )
    parser.add_argument("--num_processes", type=int, default=None)
    parser.add_argument("--process_id", type=int, default=None)


def check_distributed_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    given = [args.coordinator, args.num_processes, args.process_id]
    if any(v is not None for v in given) and not all(v is not None for v in given):
        parser.error("a multi-process run needs all of --coordinator HOST:PORT, --num_processes N and --process_id I")
    if args.coordinator is not None and not 0 <= args.process_id < args.num_processes:
        parser.error(f"--process_id must be in 0 .. {args.num_processes - 1}, got {args.process_id}")


def start_devices(args: argparse.Namespace) -> bool:
    """``--coordinator`` (join a multi-process run) or ``--cpu_devices`` before JAX starts; False, after
    printing why, when that fails."""
    if getattr(args, "coordinator", None):
        import sys

        from seq2seq_jax import sharding

        try:
            sharding.start_distributed(args.coordinator, args.num_processes, args.process_id)
        except RuntimeError as err:
            print(f"error: {err}", file=sys.stderr)
            return False
    return start_cpu_devices(args)


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data_dir", default=None, help="data root (default $SEQ2SEQ_JAX_DATA or data/)")
    parser.add_argument("--mirror", default=None, help="local folder standing in for the upstream repositories")


def add_max_clip_flag(parser: argparse.ArgumentParser) -> None:
    """--max_clip_s: case-(i) draws with each recording cut to a seeded window (``cmu.make_sequence``)."""
    parser.add_argument(
        "--max_clip_s",
        type=float,
        default=None,
        metavar="SECONDS",
        help="cut each recording longer than this to a random window of this length (default: whole recordings)",
    )


def add_turn_flag(parser: argparse.ArgumentParser) -> None:
    """--turn_clips: case-(i) draws with each clip turned about the vertical (``cmu.make_sequence``)."""
    parser.add_argument(
        "--turn_clips",
        action="store_true",
        help="turn each clip about the vertical by its own seeded angle (within a quarter turn) before the joins: "
        "the CMU recordings of an action all face much the same way, recordings made elsewhere need not",
    )


def check_max_clip_flag(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuses a --max_clip_s that is not a positive number of seconds (exits through ``parser.error``)."""
    if args.max_clip_s is not None and not 0 < args.max_clip_s < math.inf:
        parser.error(
            f"--max_clip_s must be > 0 seconds and finite (leave it out for whole recordings), got {args.max_clip_s}"
        )


def check_dataset_flags(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    num_actions: int = 3,
    total_num_actions: int | None = None,
) -> None:
    """Refuses, with a ``--dataset`` other than CMU clips (``protocols.DRAWN_DATASETS``), the flags of CMU draws that
    the script has and that were given (--actions, --split other than train, --max_clip_s, --turn_clips,
    --gen_video), and with ``s86_shuffled`` (whose seed picks the trial and its classes) --num_actions and
    --total_num_actions; exits through ``parser.error`` naming them. Then fills in the defaults of --num_actions
    and --total_num_actions (parsed with default None) for the datasets that take them."""
    from seq2seq_jax.protocols import DRAWN_DATASETS, SHUFFLED_DATASET

    cmu_only = {
        "--actions": getattr(args, "actions", None),
        "--split": getattr(args, "split", "train") != "train",
        "--max_clip_s": getattr(args, "max_clip_s", None),
        "--turn_clips": getattr(args, "turn_clips", False),
        "--gen_video": getattr(args, "gen_video", False),
    }
    if args.dataset == SHUFFLED_DATASET:
        cmu_only.update({"--num_actions": args.num_actions is not None, "--total_num_actions": args.total_num_actions})
    given = [flag for flag, value in cmu_only.items() if value is not None and value is not False]
    if args.dataset in DRAWN_DATASETS and given:
        what = "development trials of subject 86" if args.dataset == SHUFFLED_DATASET else "synthetic regimes"
        parser.error(f"--dataset {args.dataset} draws {what}: {', '.join(given)} only apply to CMU draws")
    if args.dataset != SHUFFLED_DATASET:
        args.num_actions = num_actions if args.num_actions is None else args.num_actions
        args.total_num_actions = total_num_actions if args.total_num_actions is None else args.total_num_actions


def run_guarded(body) -> int | None:
    """Calls ``body()`` and returns None, or the exit status after printing why it stopped: 2 for a data or
    checkpoint problem (``error: ...``), 128 + the signal for a training stopped by a signal (its message says
    where it saved and how to resume; no results are written)."""
    import sys

    from seq2seq_jax.checkpoint import CheckpointError
    from seq2seq_jax.data.sources import DataError

    try:
        body()
    except (DataError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        print(f"{err or 'interrupted'}; no results were written", file=sys.stderr)
        return getattr(err, "exit_code", 130)
    return None


def start_cpu_devices(args: argparse.Namespace) -> bool:
    """Makes ``args.cpu_devices`` CPU devices when asked (``sharding.use_cpu_devices``); False, after printing why,
    when JAX has started already."""
    if not getattr(args, "cpu_devices", None):
        return True
    import sys

    from seq2seq_jax import sharding

    try:
        sharding.use_cpu_devices(args.cpu_devices)
    except RuntimeError as err:
        print(f"error: --cpu_devices: {err}", file=sys.stderr)
        return False
    return True
