"""Model files: the weights in safetensors, with a versioned JSON description beside them.

One ``.safetensors`` file holds

* tensors ``model.<name>``: the model's ``state_dict``;
* tensors ``preprocess.<step>.<attr>``: the fitted preprocessing pipeline's arrays;
* metadata ``format``, ``version``, ``model_config``, ``preprocess_config`` and ``info`` (JSON).

Loading rebuilds the model from its config through the registry and loads the weights
strictly. safetensors holds only raw arrays, so loading never runs pickled code. A file of
another format or version, or with weights of the wrong shape, is refused with a clear
:class:`qimage.errors.ModelFileError`.

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

from qimage.errors import ModelFileError, QimageError
from qimage.models import ModelConfig, build_model
from qimage.preprocess import Pipeline
from qimage.train.checkpoint import atomic_write

__all__ = ["FORMAT", "VERSION", "ModelFile", "load_model", "save_model"]

FORMAT = "qimage-model"
VERSION = 1


@dataclass
class ModelFile:
    """A loaded model with everything needed to use it on raw images."""

    model: nn.Module
    config: ModelConfig
    pipeline: Pipeline | None = None
    info: dict = field(default_factory=dict)

    @torch.no_grad()
    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, C)`` for raw images ``(N, H, W)`` (as in the dataset)."""
        features = self.pipeline.transform(images) if self.pipeline is not None else images
        x = torch.as_tensor(np.asarray(features), dtype=torch.float32)
        self.model.eval()
        return torch.softmax(self.model(x), dim=1).numpy()


def save_model(
    path: str | Path,
    model: nn.Module,
    config: ModelConfig,
    pipeline: Pipeline | None = None,
    info: dict | None = None,
) -> Path:
    """Write a model file atomically and return its path."""
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().contiguous().clone() for k, v in model.state_dict().items()}
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


def load_model(path: str | Path) -> ModelFile:
    """Read a model file written by :func:`save_model`."""
    path = Path(path)
    tensors, meta = _read(path)
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a qimage model file (format {meta.get('format')!r})")
    if meta.get("version") != str(VERSION):
        raise ModelFileError(
            f"{path} is a version {meta.get('version')} qimage model file; "
            f"this qimage reads version {VERSION}"
        )
    try:
        config = ModelConfig.from_dict(json.loads(meta["model_config"]))
        model = build_model(config)
        weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        model.load_state_dict(weights, strict=True)
        pipeline = _pipeline(json.loads(meta["preprocess_config"]), tensors)
    except (QimageError, RuntimeError, KeyError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path} does not describe a loadable model: {err}") from None
    return ModelFile(model.eval(), config, pipeline, json.loads(meta.get("info", "{}")))


def _pipeline(config: dict | None, tensors: dict) -> Pipeline | None:
    if config is None:
        return None
    state = {k[11:]: v.numpy() for k, v in tensors.items() if k.startswith("preprocess.")}
    return Pipeline.from_config(config, state)
