"""``qimage train``: train a model and write its run folder.

With no options it trains the quantum-only QNN on the bundled 8x8 digits (no download) and
prints its test accuracy. Options start from the preset for the dataset and model (see
:mod:`qimage.train.presets`) and override it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from qimage.circuits import ANSATZE, ENCODERS
from qimage.cli import SEED, bounded
from qimage.cli.options import (
    EXECUTION_FLAGS,
    add_execution_options,
    check_device,
    execution_from,
    given,
)
from qimage.data import DATASET_NAMES
from qimage.errors import TrainingError
from qimage.models import FAMILIES, READOUTS
from qimage.train import (
    OPTIMIZERS,
    SCHEDULES,
    RunConfig,
    TrainingInterrupted,
    default_run_config,
    load_run_config,
    preset_run_config,
    run_experiment,
)
from qimage.train.distributed import join, launch, leave
from qimage.train.runs import claim_run_folder

# The largest counts the command line takes: past them a run would not finish or not fit in
# memory, so they are refused while parsing (qimage.cli.bounded), not hours later.
MAX_EPOCHS = 1_000_000
MAX_BATCH = 2**20
MAX_LAYERS = 10_000
MAX_WIDTH = 2**16
MAX_SIDE = 4096
MAX_RANKS_PER_CORE = 4

# Flags that set a field of a config: flag destination -> field name. A model flag the
# chosen family has no option for is an error, never silently ignored.
MODEL_FLAGS = {
    "qubits": "n_qubits",
    "layers": "n_layers",
    "encoding": "encoder",
    "ansatz": "ansatz",
    "readout": "readout",
    "hidden": "hidden",
    "registers": "registers",
    "patch": "patch",
    "stride": "stride",
    "trainable": "trainable",
    "conditional": "conditional",
    "loss": "loss",
}
TRAIN_FLAGS = {
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "optimizer": "optimizer",
    "schedule": "schedule",
    "val_fraction": "val_fraction",
    "patience": "patience",
    "seed": "seed",
}
DATA_FLAGS = {
    "classes": "classes",
    "n_train": "n_train",
    "downsample": "downsample",
    "pca": "pca",
    "reduce": "reduce",
}


def _classes(text: str) -> list[int]:
    try:
        return [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated classes, got {text!r}"
        ) from None


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a model and report its test metrics",
        description=__doc__.split("\n\n")[1],
    )
    data = p.add_argument_group("data")
    data.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        default="digits",
        help="dataset (default: digits, bundled with scikit-learn)",
    )
    data.add_argument("--data-dir", help="folder holding the dataset's IDX files")
    data.add_argument("--classes", type=_classes, help="keep these classes, e.g. 3,5")
    data.add_argument("--n-train", type=int, help="stratified training subsample size")
    data.add_argument(
        "--downsample", type=bounded(MAX_SIDE), help="area-average images to K x K first"
    )
    data.add_argument("--pca", type=int, help="keep this many principal components")
    data.add_argument(
        "--reduce",
        choices=["pca", "qkpca"],
        help="how --pca components are found: pca, or qkpca (kernel PCA on the fidelity "
        "kernel of amplitude-encoded images); default pca",
    )
    model = p.add_argument_group("model")
    model.add_argument(
        "--model",
        choices=list(FAMILIES),
        default="qnn",
        help="model family (default: qnn, quantum only); options a family does not have "
        "are refused",
    )
    model.add_argument("--qubits", type=int, help="number of qubits")
    model.add_argument("--layers", type=bounded(MAX_LAYERS), help="number of variational layers")
    model.add_argument(
        "--encoding", choices=list(ENCODERS), help="how features enter the circuit (qnn, dressed)"
    )
    model.add_argument("--ansatz", choices=list(ANSATZE), help="variational layers")
    model.add_argument("--readout", choices=list(READOUTS), help="measurement -> class logits")
    model.add_argument(
        "--hidden", type=bounded(MAX_WIDTH), help="hidden width (mlp, heads of hybrid models)"
    )
    model.add_argument(
        "--registers",
        type=bounded(MAX_WIDTH),
        help="copies of the circuit side by side, sharing its weights (dressed); the hybrid is "
        "registers x qubits wide",
    )
    model.add_argument("--patch", type=bounded(MAX_SIDE), help="window side (quanv, cnn)")
    model.add_argument("--stride", type=bounded(MAX_SIDE), help="window step (quanv, cnn)")
    model.add_argument(
        "--trainable",
        action=argparse.BooleanOptionalAction,
        help="train the quanvolution circuit (default: frozen random)",
    )
    model.add_argument(
        "--conditional",
        action=argparse.BooleanOptionalAction,
        help="learn one distribution per class, to draw a requested class (born)",
    )
    model.add_argument(
        "--loss",
        metavar="NAME",
        help="what a generative model minimises (born): mmd, the kernel distance of "
        "distributions (default), or kl, the KL divergence, which needs exact probabilities "
        "(not --shots)",
    )
    add_execution_options(p.add_argument_group("execution (how circuits run)"), training=True)
    train = p.add_argument_group("training")
    train.add_argument("--epochs", type=bounded(MAX_EPOCHS), help="passes over the training data")
    train.add_argument("--batch-size", type=bounded(MAX_BATCH), help="samples per step")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="adam or sgd")
    train.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    train.add_argument("--val-fraction", type=float, help="share held out for validation")
    train.add_argument(
        "--patience", type=bounded(MAX_EPOCHS), help="early stopping after N epochs w/o progress"
    )
    train.add_argument("--seed", type=SEED, help="fixes weights, split and batch order")
    run = p.add_argument_group("run")
    run.add_argument("--out", type=Path, help="run folder (default: runs/DATASET-MODEL-TIME)")
    run.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="continue the interrupted run in DIR (only --epochs may change)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="train into an --out folder that holds a run, moving the old run aside",
    )
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument(
        "--json",
        action="store_true",
        help="print the run folder and its test metrics (metrics.json) as one JSON object",
    )
    run.add_argument(
        "--nproc",
        type=bounded(MAX_RANKS_PER_CORE * (os.cpu_count() or 1), why=" (4 ranks per CPU core)"),
        default=1,
        metavar="N",
        help="train data-parallel on N local ranks (batch size per rank; see docs/scale.md)",
    )
    p.set_defaults(run=run_train)


def _build_config(args) -> RunConfig:
    preset = preset_run_config(args.dataset, args.model)
    model = preset.model.replace(**given(args, MODEL_FLAGS))
    cfg = default_run_config(args.dataset, model, **given(args, DATA_FLAGS))
    cfg.train = dataclasses.replace(preset.train, **given(args, TRAIN_FLAGS)).validate()
    cfg.execution = execution_from(args)
    return cfg


def _resume_config(args) -> RunConfig:
    flags = {**MODEL_FLAGS, **TRAIN_FLAGS, **DATA_FLAGS, **EXECUTION_FLAGS}
    others = given(args, flags)
    others.pop("epochs", None)
    device = others.pop("device", None)
    if others or args.out is not None:
        raise TrainingError(
            "--resume continues the saved run as it was configured; only --epochs, --device "
            f"and --data-dir may be given with it (got {', '.join(sorted(others)) or '--out'})"
        )
    cfg = load_run_config(args.resume)
    if args.epochs is not None:
        cfg.train.epochs = args.epochs
    if device is not None:
        check_device(device)
        cfg.execution = cfg.execution.replace(device=device)
    return cfg


def run_train(args) -> int:
    if args.nproc < 1:
        raise TrainingError(f"--nproc must be at least 1, got {args.nproc}")
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:  # start the ranks, each runs below
        return launch(_own_argv(args), args.nproc)
    cfg = _resume_config(args) if args.resume else _build_config(args)
    out = args.resume or args.out or _default_out(cfg.data.dataset, cfg.model.name)
    ranks = join(cfg.execution)  # None unless started by --nproc or torchrun
    try:
        return _train(args, cfg, out, ranks)
    finally:
        leave()


def _own_argv(args) -> list[str]:
    """The command line to give each rank: this one (with a fixed run folder, so every rank
    agrees on it); refused when ``qimage.cli.main`` was called with other arguments."""
    from qimage.cli import parse_args

    argv = sys.argv[1:]
    try:
        same = parse_args(argv) == args
    except SystemExit:
        same = False
    if not same:
        raise TrainingError("--nproc is for the qimage command line (or run it under torchrun)")
    if args.out is None and args.resume is None:
        argv = [*argv, "--out", str(_default_out(args.dataset, args.model))]
    return argv


def _default_out(dataset: str, model: str) -> Path:
    return Path("runs") / f"{dataset}-{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def _train(args, cfg: RunConfig, out: Path, ranks) -> int:
    main_rank = ranks is None or ranks.main
    progress = "bar" if sys.stderr.isatty() else "epochs"
    progress = "off" if args.quiet or not main_rank else progress
    resume = args.resume is not None
    if main_rank:  # rank 0 alone owns the run folder
        resume = claim_run_folder(out, resume=resume, force=args.force)
        _say(args, f"training {_describe(cfg)}; run folder {out}")
    if ranks:
        resume = ranks.broadcast(resume)
    try:
        result = run_experiment(
            cfg,
            out if main_rank else None,
            resume=resume,
            progress=progress,
            data_dir=args.data_dir,
            ranks=ranks,
        )
    except TrainingInterrupted as err:
        if not main_rank:  # rank 0 says where its checkpoint is
            return 130
        hint = f"; resume with: qimage train --resume {out}" if err.checkpoint else ""
        raise TrainingInterrupted(f"{err}{hint}", err.checkpoint) from None
    if not main_rank:
        return 0
    _write_plots(result, out, cfg.model.objective)
    if args.json:
        print(json.dumps({"run": str(out), **result.metrics}, indent=2))
        return 0
    test = result.metrics["test"]
    samples = "images" if result.data.image_shape else "states"
    print(
        f"test {cfg.model.objective.summary(test)} on {test['n_samples']} "
        f"{cfg.data.dataset} {samples} ({cfg.model.name}, "
        f"{result.metrics['n_parameters']} parameters, "
        f"{result.metrics['train_seconds']:.0f} s); files in {out}"
    )
    return 0


def _say(args, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


def _describe(cfg: RunConfig) -> str:
    return f"{cfg.model.describe()} on {cfg.data.dataset} for {cfg.train.epochs} epochs"


def _write_plots(result, out: Path, objective) -> None:
    from qimage.report import plot_confusion, plot_history

    labels = (objective.loss_label, objective.score_label)
    rows, path = result.history.rows, out / "training.png"
    plot_history(rows, path, title="training", metric=objective.score, labels=labels)
    if "confusion" not in result.metrics["test"]:  # a generative objective has no classes
        return
    plot_confusion(
        result.metrics["test"]["confusion"],
        result.metrics["class_names"],
        out / "confusion.png",
        title="test confusion matrix",
    )
