"""From a dataset name to training tensors: selection, preprocessing fitted on train only.

:class:`DataSpec` says which data and which preprocessing; :func:`prepare_data` loads the
dataset, keeps a class subset, draws a stratified training subsample, fits the pipeline on
the training images only and applies it to both splits. The spec and the fitted pipeline
are saved with the model so that prediction transforms raw images exactly as training did.

Example:
    >>> data = prepare_data(DataSpec("digits", scale="amplitude"))  # doctest: +SKIP
    >>> data.X_train.shape  # doctest: +SKIP
    torch.Size([1438, 64])
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch

from qimage.data import load_dataset
from qimage.errors import TrainingError
from qimage.models import FidelityKernel, ProjectedKernel
from qimage.preprocess import (
    ClassSubset,
    Pipeline,
    make_pipeline,
    register_kernel,
    stratified_subsample,
)

__all__ = [
    "DataSpec",
    "PreparedData",
    "prepare_data",
    "select_data",
    "spec_pipeline",
    "test_split",
]


def _quantum_kernel(cls):
    """A kernel factory for preprocessing: double precision, so a sample's features do not
    depend on the batch it is transformed in."""
    return lambda **params: cls(**params, dtype=torch.complex128)


# The preprocessing layer cannot import the quantum kernels; it is given them here.
register_kernel("fidelity", _quantum_kernel(FidelityKernel))
register_kernel("projected", _quantum_kernel(ProjectedKernel))


@dataclass
class DataSpec:
    """Which data and which preprocessing (saved in model files, minus ``data_dir``)."""

    dataset: str = "digits"
    classes: list[int] | None = None  # keep these classes, relabelled 0..k-1
    n_train: int | None = None  # stratified training subsample of about this many samples
    downsample: int | None = None  # area-average images to k x k
    standardize: bool = False
    pca: int | None = None
    reduce: str = "pca"  # how the pca components are found: "pca" or "qkpca" (kernel PCA)
    scale: str | None = None  # "angle" ([0, pi]), "amplitude" (pad + normalise) or None
    n_qubits: int | None = None  # register size for amplitude padding
    max_features: int | None = None  # PCA down to this many features when there are more
    binarize: bool = False  # 0/1 pixels (pooled to downsample x downsample), for Born machines
    seed: int = 0  # of the subsample
    data_dir: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "data_dir"}

    def validate(self) -> DataSpec:
        """Refuse selections that leave nothing to learn, in one line."""
        least = 1 if self.binarize else 2  # a generative model may learn one class
        if self.classes is not None and len(set(self.classes)) < least:
            raise TrainingError(f"a classifier needs at least 2 classes, got {self.classes}")
        if self.n_train is not None and self.n_train < 2:
            raise TrainingError(f"n_train must be >= 2 (leave it out for all), got {self.n_train}")
        for name in ("pca", "downsample"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise TrainingError(f"{name} must be >= 1, got {value}")
        return self


@dataclass
class PreparedData:
    """Tensors ready for :func:`qimage.train.fit`, with what is needed to redo the transform."""

    X_train: torch.Tensor  # (N, F) float32
    y_train: torch.Tensor  # (N,) int64
    X_test: torch.Tensor
    y_test: torch.Tensor
    pipeline: Pipeline
    class_names: tuple[str, ...]
    image_shape: tuple[int, int] | None  # None: the samples are not images (quantum states)
    sample_shape: tuple[int, ...]  # of one raw sample: image_shape, or (F,)
    source: str

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def _select(spec: DataSpec, ds) -> tuple:
    spec.validate()
    X_tr, y_tr, X_te, y_te, names = ds.X_train, ds.y_train, ds.X_test, ds.y_test, ds.class_names
    if spec.classes:
        subset = ClassSubset(spec.classes)
        X_tr, y_tr = subset.apply(X_tr, y_tr)
        X_te, y_te = subset.apply(X_te, y_te)
        names = subset.select_names(names)
    if spec.n_train:
        n_classes = len(np.unique(y_tr))
        per_class = max(1, spec.n_train // n_classes)
        X_tr, y_tr = stratified_subsample(X_tr, y_tr, per_class, seed=spec.seed)
    return X_tr, y_tr, X_te, y_te, tuple(names)


def test_split(spec: DataSpec) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Raw test samples ``(N, H, W)`` (quantum data: ``(N, F)``), labels and class names of
    the spec's dataset and classes.

    Preprocess them with the pipeline saved beside a model, not a new one.
    """
    ds = load_dataset(spec.dataset, data_dir=spec.data_dir)
    X, y, names = ds.X_test, ds.y_test, ds.class_names
    if spec.classes:
        subset = ClassSubset(spec.classes)
        X, y = subset.apply(X, y)
        names = subset.select_names(names)
    return X, y, tuple(names)


def _pca_size(spec: DataSpec, sample_shape: tuple[int, ...]) -> int | None:
    """The PCA size asked for, or the one ``max_features`` forces."""
    if spec.pca is not None or spec.max_features is None or spec.binarize:
        return spec.pca
    n_inputs = spec.downsample**2 if spec.downsample else math.prod(sample_shape)
    return spec.max_features if n_inputs > spec.max_features else None


def spec_pipeline(spec: DataSpec, sample_shape: tuple[int, ...]) -> Pipeline:
    """The unfitted preprocessing pipeline the spec describes, for samples of
    ``sample_shape`` (images ``(H, W)`` or rows ``(F,)``)."""
    return make_pipeline(
        sample_shape,
        downsample=spec.downsample,
        pca=_pca_size(spec, sample_shape),
        standardize=spec.standardize,
        scale=spec.scale,
        n_qubits=spec.n_qubits if spec.scale == "amplitude" else None,
        reduce=spec.reduce,
        binarize=spec.binarize,
    )


def select_data(spec: DataSpec, ds) -> tuple:
    """``(X_train, y_train, X_test, y_test, class_names)`` of a loaded dataset: the spec's
    classes (relabelled) and stratified training subsample, still raw images.
    """
    return _select(spec, ds)


def prepare_data(spec: DataSpec, dataset=None) -> PreparedData:
    """Load, select and preprocess; the pipeline sees only training images when fitted.

    ``dataset`` is an already loaded :class:`qimage.data.Dataset` to reuse (optional).
    """
    ds = dataset if dataset is not None else load_dataset(spec.dataset, data_dir=spec.data_dir)
    X_tr, y_tr, X_te, y_te, names = _select(spec, ds)
    pipeline = spec_pipeline(spec, ds.sample_shape)
    Z_tr = pipeline.fit(X_tr).transform(X_tr)
    Z_te = pipeline.transform(X_te)
    if Z_tr.shape[0] < 2:
        raise TrainingError("fewer than two training samples after selection")
    return PreparedData(
        torch.as_tensor(Z_tr, dtype=torch.float32),
        torch.as_tensor(y_tr, dtype=torch.long),
        torch.as_tensor(Z_te, dtype=torch.float32),
        torch.as_tensor(y_te, dtype=torch.long),
        pipeline,
        names,
        ds.image_shape,
        ds.sample_shape,
        ds.source,
    )
