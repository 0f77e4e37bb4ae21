"""``qimage evaluate MODEL``: the test metrics of the model's objective (for classifiers:
accuracy, per-class precision and recall, confusion matrix; for Born machines: KL, TV, MMD²)."""

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
        "another dataset with the same sample shape), with the preprocessing saved in the file.",
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

    from qimage.train import DataSpec, evaluate, load_model, test_split

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
    if images.shape[1:] != loaded.sample_shape:
        raise ModelFileError(
            f"the model takes samples of shape {loaded.sample_shape}, "
            f"{spec.dataset} has {images.shape[1:]}"
        )
    features = torch.as_tensor(loaded.pipeline.transform(images), dtype=torch.float32)
    family, n_classes = loaded.config.family, len(names)
    X, y = family.prepare(loaded.config.options, features, torch.as_tensor(labels), n_classes)
    objective = loaded.config.objective
    metrics = evaluate(model, X, y, n_classes, execution=execution, objective=objective)
    text = objective.text_report(metrics, list(names))
    print(json.dumps(metrics, indent=2) if args.json else text)
    return 0
