"""Preprocessing fitted on the training split only, saved and reapplied exactly.

Sample selection acts on ``(X, y)``: :class:`ClassSubset`, :func:`stratified_subsample`.
Transformers follow scikit-learn's contract (fit on train, transform train and test):
:class:`Downsample`, :class:`Flatten`, :class:`Standardize`, :class:`PCA`,
:class:`AngleScaler`, :class:`AmplitudeEncoder`, :class:`KernelPCA`. A :class:`Pipeline`
chains them and exports ``to_config()`` (JSON) and ``state_dict()`` (arrays); :func:`make_pipeline`
builds the standard chain.

Example::

    >>> from qimage.data import load_dataset
    >>> from qimage.preprocess import ClassSubset, make_pipeline
    >>> ds = load_dataset()                                             # doctest: +SKIP
    >>> subset = ClassSubset([3, 5])                                    # doctest: +SKIP
    >>> X_tr, y_tr = subset.apply(ds.X_train, ds.y_train)               # doctest: +SKIP
    >>> X_te, y_te = subset.apply(ds.X_test, ds.y_test)                 # doctest: +SKIP
    >>> pipe = make_pipeline(ds.image_shape, pca=4, scale="angle").fit(X_tr)  # doctest: +SKIP
    >>> Z_te = pipe.transform(X_te)      # test data never touches fit  # doctest: +SKIP
"""

from __future__ import annotations

from qimage.preprocess.base import PreprocessError, StatefulTransformer
from qimage.preprocess.features import PCA, AmplitudeEncoder, AngleScaler, Standardize
from qimage.preprocess.images import Downsample, Flatten, area_weights
from qimage.preprocess.kernel_pca import KERNELS, KernelPCA, register_kernel
from qimage.preprocess.pipeline import CONFIG_FORMAT, STEP_TYPES, Pipeline, make_pipeline
from qimage.preprocess.selection import ClassSubset, StratifiedSubsample, stratified_subsample

__all__ = [
    "CONFIG_FORMAT",
    "KERNELS",
    "PCA",
    "STEP_TYPES",
    "AmplitudeEncoder",
    "AngleScaler",
    "ClassSubset",
    "Downsample",
    "Flatten",
    "KernelPCA",
    "Pipeline",
    "PreprocessError",
    "Standardize",
    "StatefulTransformer",
    "StratifiedSubsample",
    "area_weights",
    "make_pipeline",
    "register_kernel",
    "stratified_subsample",
]
