"""Model files: the weights in safetensors, with a versioned JSON description beside them.

One ``.safetensors`` file holds

* tensors ``model.<name>``: the model's ``state_dict``;
* tensors ``preprocess.<step>.<attr>``: the fitted preprocessing pipeline's arrays;
* metadata ``format``, ``version``, ``model_config``, ``preprocess_config`` and ``info`` (JSON).

Loading rebuilds the model from its config through its family and loads the weights
strictly, in the precision they were saved in. Version 1 files (a flat config with run
options inside) are read too. safetensors holds only raw arrays, so loading never runs
pickled code. A file of another format or version, with weights of the wrong shape, or
with NaN or infinite weights, is refused with a clear :class:`qimage.errors.ModelFileError`.

Example:
    >>> save_model("m.safetensors", model, config, pipeline)  # doctest: +SKIP
    >>> loaded = load_model("m.safetensors")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from qimage.errors import DatasetError, ModelFileError, QimageError
from qimage.models import ModelConfig, build_model
from qimage.preprocess import Pipeline
from qimage.sim import Execution
from qimage.train.checkpoint import atomic_write

__all__ = ["FORMAT", "VERSION", "ModelFile", "load_model", "save_model"]

FORMAT = "qimage-model"
VERSION = 2
_READS = ("1", "2")
MAX_IMAGE_SIDE = 4096
"""Largest image side a model file may declare (pictures are scaled to it before predicting)."""


@dataclass
class ModelFile:
    """A loaded model with everything needed to use it on raw images."""

    model: nn.Module
    config: ModelConfig
    pipeline: Pipeline | None = None
    info: dict = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(H, W)`` of the images the model reads (files without one: the 8x8 digits).

        A model of samples that are not images (quantum states, ``image_shape`` None) is
        refused in one line, as is a malformed shape.
        """
        shape = self.info.get("image_shape", [8, 8])
        if shape is None:
            raise DatasetError(
                f"this model reads {self.info.get('dataset', 'non-image')} samples, not "
                "images: evaluate it with qimage evaluate on its dataset"
            )
        if not (isinstance(shape, list) and len(shape) == 2 and _sizes(shape)):
            raise ModelFileError(f"the model file's image_shape {shape!r} is not [height, width]")
        return tuple(shape)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one raw sample the pipeline takes: ``(H, W)`` images or ``(F,)`` rows."""
        if self.info.get("image_shape", [8, 8]) is not None:
            return self.image_shape
        shape = self.info.get("sample_shape")
        if not (isinstance(shape, list) and shape and _sizes(shape)):
            raise ModelFileError(f"the model file's sample_shape {shape!r} is not a shape")
        return tuple(shape)

    @torch.no_grad()
    def predict_proba(self, images: np.ndarray, execution: Execution | None = None) -> np.ndarray:
        """Class probabilities ``(N, C)`` for raw images ``(N, H, W)`` (as in the dataset),
        the model run under ``execution`` (exact and ideal by default)."""
        objective = self.config.objective
        if not objective.classifies:
            raise ModelFileError(
                f"a {self.config.name} model does not classify images ({objective.name} "
                "objective): draw from it with qimage sample"
            )
        features = self.pipeline.transform(images) if self.pipeline is not None else images
        weights = next(self.model.parameters())
        x = torch.as_tensor(np.asarray(features), dtype=weights.dtype, device=weights.device)
        self.model.eval()
        outputs = self.model(x) if execution is None else self.model(x, execution=execution)
        return objective.proba(outputs).cpu().numpy()

    def predict(self, images: np.ndarray, execution: Execution | None = None) -> list[str]:
        """The most probable class name of each raw image ``(N, H, W)``."""
        proba = self.predict_proba(images, execution)
        names = self.info.get("class_names") or [str(c) for c in range(proba.shape[1])]
        return [names[i] for i in proba.argmax(axis=1)]


def _sizes(shape: list) -> bool:
    """Whether every entry is a plausible axis length (a positive int, not a bool)."""
    return all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 2**24 for n in shape)


def save_model(
    path: str | Path,
    model: nn.Module,
    config: ModelConfig,
    pipeline: Pipeline | None = None,
    info: dict | None = None,
) -> Path:
    """Write a model file atomically and return its path."""
    from safetensors.torch import save_file

    state = model.state_dict().items()
    tensors = {f"model.{k}": v.detach().cpu().contiguous().clone() for k, v in state}
    if pipeline is not None:
        for key, value in pipeline.state_dict().items():
            tensors[f"preprocess.{key}"] = torch.from_numpy(np.ascontiguousarray(value))
    metadata = {
        "format": FORMAT,
        "version": str(VERSION),
        "model_config": json.dumps(config.to_dict()),
        "preprocess_config": json.dumps(pipeline.to_config() if pipeline is not None else None),
        "info": json.dumps(info or {}),
    }
    path = Path(path)
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))
    return path


def _read(path: Path) -> tuple[dict, dict]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelFileError(f"no model file at {path}")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"{path} is not a safetensors model file ({err})") from None


def load_model(path: str | Path, device: torch.device | str | None = None) -> ModelFile:
    """Read a model file written by :func:`save_model` (or a run folder's), onto ``device``."""
    path = Path(path)
    path = path / "model.safetensors" if path.is_dir() else path
    tensors, meta = _read(path)
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a qimage model file (format {meta.get('format')!r})")
    if meta.get("version") not in _READS:
        raise ModelFileError(
            f"{path} is a version {meta.get('version')} qimage model file; "
            f"this qimage reads versions {', '.join(_READS)}"
        )
    weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    if any(v.is_floating_point() and not torch.isfinite(v).all() for v in weights.values()):
        raise ModelFileError(f"{path} holds NaN or infinite weights")
    try:
        config = _config(meta)
        model = _rebuilt(build_model(config), weights)
        pipeline = _pipeline(json.loads(meta["preprocess_config"]), tensors)
        info = json.loads(meta.get("info", "{}"))
    except (QimageError, RuntimeError, KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{path} does not describe a loadable model: {err}") from None
    if not isinstance(info, dict):
        raise ModelFileError(f"{path} has malformed metadata (info is not a JSON object)")
    problem = _info_problem(info, config.n_classes)
    if problem:
        raise ModelFileError(f"{path} has malformed metadata ({problem})")
    model = model.to(device) if device is not None else model
    return ModelFile(model.eval(), config, pipeline, info)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _info_problem(info: dict, n_classes: int) -> str | None:
    """What is wrong with ``info``'s class names and image shape (both optional), if anything:
    commands zip the names with the model's outputs and draw pictures at that shape."""
    names = info.get("class_names")
    if names is not None and not (
        isinstance(names, list)
        and len(names) == n_classes
        and all(isinstance(n, str) for n in names)
    ):
        return f"class_names must be a list of {n_classes} names, got {names!r}"
    shape = info.get("image_shape")
    if shape is not None and not (
        isinstance(shape, list)
        and len(shape) == 2
        and all(_is_int(side) and 1 <= side <= MAX_IMAGE_SIDE for side in shape)
    ):
        return f"image_shape must be [height, width] in 1..{MAX_IMAGE_SIDE}, got {shape!r}"
    return None


def _config(meta: dict) -> ModelConfig:
    data = json.loads(meta["model_config"])
    if meta["version"] == "1":
        return ModelConfig.from_legacy(data)[0]
    return ModelConfig.from_dict(data)


def _rebuilt(model: nn.Module, weights: dict) -> nn.Module:
    """``model`` with ``weights`` loaded strictly, in the saved precision."""
    floats = [v.dtype for v in weights.values() if v.is_floating_point()]
    if floats:
        model = model.to(floats[0])
    model.load_state_dict(weights, strict=True)
    return model


def _pipeline(config: dict | None, tensors: dict) -> Pipeline | None:
    if config is None:
        return None
    state = {k[11:]: v.numpy() for k, v in tensors.items() if k.startswith("preprocess.")}
    return Pipeline.from_config(config, state)
