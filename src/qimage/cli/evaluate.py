"""``qimage evaluate MODEL``: accuracy, per-class precision and recall, confusion matrix."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from qimage.data import DATASET_NAMES
from qimage.errors import CircuitError, DatasetError, ModelFileError
from qimage.export import PennyLaneModel, parse_backend
from qimage.models import QuantumLayer, set_noise
from qimage.train import DataSpec, evaluate, format_report, load_model, test_split


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
    p.add_argument("--shots", type=int, help="estimate every output from this many shots")
    p.add_argument("--noise", metavar="SPEC", help="simulate noise, e.g. depolarizing=0.01")
    p.add_argument("--seed", type=int, default=0, help="seed of the shots and noise samples")
    add_backend_option(p)
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="evaluate on the first N test images only (external devices are slow)",
    )
    p.set_defaults(run=run_evaluate)


def add_backend_option(p) -> None:
    """``--backend SPEC``, shared with ``qimage predict``."""
    p.add_argument(
        "--backend",
        metavar="SPEC",
        help="run the circuits on pennylane:<device>, e.g. pennylane:default.qubit, "
        "pennylane:lightning.qubit or pennylane:qiskit.aer (with --shots: shots per circuit; "
        "default: qimage's own simulator)",
    )


def model_path(path: Path) -> Path:
    """Accept a run folder for its ``model.safetensors``."""
    return path / "model.safetensors" if path.is_dir() else path


def apply_device_options(model, shots, noise, seed: int) -> None:
    """Evaluate under ``shots`` and/or ``noise`` (both seeded), overriding the model file."""
    if shots is not None and shots < 1:
        raise ModelFileError(f"--shots must be >= 1, got {shots}")
    if noise is not None:
        set_noise(model, noise or None)
    generator = torch.Generator().manual_seed(seed)
    for layer in model.modules():
        if isinstance(layer, QuantumLayer):
            layer.shots = shots if shots is not None else layer.shots
            layer.shot_generator = generator


def on_device(model, backend, shots, noise, seed: int):
    """The model to run: on the ``--backend`` device, else on qimage's simulator."""
    device = parse_backend(backend)
    if device is None:
        apply_device_options(model, shots, noise, seed)
        return model
    if noise is not None:
        raise CircuitError(
            "--noise simulates noise in qimage's simulator; with --backend the device's own "
            "noise applies (use a noisy device, or leave out --backend)"
        )
    return PennyLaneModel(model, device, shots=shots, seed=seed)


def _first(limit, *arrays):
    if limit is None:
        return arrays
    if limit < 1:
        raise DatasetError(f"--limit must be >= 1, got {limit}")
    return tuple(a[:limit] for a in arrays)


def run_evaluate(args) -> int:
    loaded = load_model(model_path(args.model))
    saved = dict(loaded.info.get("data", {}))
    if loaded.pipeline is None or not saved:
        raise ModelFileError(f"{args.model} has no saved preprocessing to evaluate with")
    model = on_device(loaded.model, args.backend, args.shots, args.noise, args.seed)
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
    metrics = evaluate(model, X, torch.as_tensor(labels), len(names))
    print(json.dumps(metrics, indent=2) if args.json else format_report(metrics, list(names)))
    return 0
