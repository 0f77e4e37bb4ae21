"""``qimage evaluate MODEL``: accuracy, per-class precision and recall, confusion matrix."""

from __future__ import annotations

import json
from pathlib import Path

from qimage.cli import SEED
from qimage.cli.options import (
    add_backend_option,
    add_execution_options,
    execution_from,
    model_path,
    on_device,
)
from qimage.data import DATASET_NAMES
from qimage.errors import DatasetError, ModelFileError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a trained model on a test set",
        description="Evaluate a model file on the official test split of its dataset (or "
        "another dataset with the same image size), with the preprocessing saved in the file.",
    )
    p.add_argument("model", type=Path, help="model file (model.safetensors) or run folder")
    p.add_argument("--dataset", choices=DATASET_NAMES, help="default: the model's dataset")
    p.add_argument("--data-dir", help="folder holding the dataset's IDX files")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_execution_options(p)
    p.add_argument("--seed", type=SEED, default=0, help="seed of the shots and noise samples")
    add_backend_option(p)
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="evaluate on the first N test images only (external devices are slow)",
    )
    p.set_defaults(run=run_evaluate)


def _first(limit, *arrays):
    if limit is None:
        return arrays
    if limit < 1:
        raise DatasetError(f"--limit must be >= 1, got {limit}")
    return tuple(a[:limit] for a in arrays)


def run_evaluate(args) -> int:
    import torch

    from qimage.train import DataSpec, evaluate, format_report, load_model, test_split

    loaded = load_model(model_path(args.model))
    saved = dict(loaded.info.get("data", {}))
    if loaded.pipeline is None or not saved:
        raise ModelFileError(f"{args.model} has no saved preprocessing to evaluate with")
    execution = execution_from(args, seed=args.seed)
    model, execution = on_device(loaded.model, args.backend, execution, args.seed)
    spec = DataSpec(**{**saved, "dataset": args.dataset or saved["dataset"]})
    spec.data_dir = args.data_dir
    images, labels, names = test_split(spec)
    images, labels = _first(args.limit, images, labels)
    if images.shape[1:] != tuple(loaded.info["image_shape"]):
        raise ModelFileError(
            f"the model takes {tuple(loaded.info['image_shape'])} images, "
            f"{spec.dataset} has {images.shape[1:]}"
        )
    X = torch.as_tensor(loaded.pipeline.transform(images), dtype=torch.float32)
    objective = loaded.config.family.objective
    y = torch.as_tensor(labels)
    metrics = evaluate(model, X, y, len(names), execution=execution, objective=objective)
    print(json.dumps(metrics, indent=2) if args.json else format_report(metrics, list(names)))
    return 0
