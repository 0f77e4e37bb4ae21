"""A chain of transformers that can be saved beside a model and rebuilt exactly.

A :class:`Pipeline` is described by two things:

* :meth:`Pipeline.to_config` -- a JSON-serialisable dict of step names, types and
  parameters;
* :meth:`Pipeline.state_dict` -- the fitted arrays, ``dict[str, numpy.ndarray]`` with
  keys ``"<step>.<attribute>"``, storable in safetensors without pickle.

:meth:`Pipeline.from_config` rebuilds a fitted pipeline from both that gives the same
output, bit for bit. :func:`make_pipeline` builds the standard chains by name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from qimage.preprocess.base import PreprocessError, StatefulTransformer
from qimage.preprocess.bits import Binarize
from qimage.preprocess.features import PCA, AmplitudeEncoder, AngleScaler, Standardize
from qimage.preprocess.images import Downsample, Flatten
from qimage.preprocess.kernel_pca import KernelPCA

__all__ = ["CONFIG_FORMAT", "REDUCTIONS", "STEP_TYPES", "Pipeline", "make_pipeline"]

CONFIG_FORMAT = "qimage.preprocess.Pipeline/1"

#: Transformer classes a config may name, by class name.
STEP_TYPES: dict[str, type[StatefulTransformer]] = {
    cls.__name__: cls
    for cls in (
        Downsample,
        Flatten,
        Standardize,
        PCA,
        KernelPCA,
        AngleScaler,
        AmplitudeEncoder,
        Binarize,
    )
}

#: The reduction steps of :func:`make_pipeline`, by name, given the number of components.
#: ``qkpca`` is kernel PCA on the fidelity kernel of amplitude-encoded features (the
#: quantum kernels are registered by :mod:`qimage.train`).
REDUCTIONS = {
    "pca": PCA,
    "qkpca": lambda d: KernelPCA(d, kernel="fidelity", kernel_params={"encoder": "amplitude"}),
}


class Pipeline(TransformerMixin, BaseEstimator):
    """Named transformers applied in order; each is fitted on the previous one's output.

    Args:
        steps: ``[(name, transformer), ...]``; names are distinct and contain no ``.``.

    Example::

        >>> pipe = Pipeline([("flatten", Flatten()), ("pca", PCA(4))])
        >>> Z = pipe.fit(X_train).transform(X_test)                   # doctest: +SKIP
        >>> config, state = pipe.to_config(), pipe.state_dict()        # doctest: +SKIP
        >>> Pipeline.from_config(config, state).transform(X_test)      # doctest: +SKIP
    """

    def __init__(self, steps: Sequence[tuple[str, StatefulTransformer]]) -> None:
        self.steps = steps

    def _check_steps(self) -> None:
        names = [name for name, _ in self.steps]
        if len(set(names)) != len(names) or any("." in n or not n for n in names):
            raise PreprocessError(f"Pipeline: step names must be distinct, without '.': {names}")
        for name, step in self.steps:
            if type(step).__name__ not in STEP_TYPES:
                raise PreprocessError(
                    f"Pipeline: step {name!r} is a {type(step).__name__}; "
                    f"known: {', '.join(STEP_TYPES)}"
                )

    def fit(self, X: Any, y: Any = None) -> Pipeline:
        """Fit copies of the steps on the training data, in order; returns self.

        The fitted copies are ``steps_``; the ``steps`` given stay untouched.
        """
        self._check_steps()
        fitted = []
        for name, step in self.steps:
            step = clone(step)
            X = step.fit(X).transform(X)
            fitted.append((name, step))
        self._set_fitted(fitted)
        return self

    def _set_fitted(self, fitted: list[tuple[str, StatefulTransformer]]) -> None:
        self.steps_ = fitted
        self.n_features_in_ = fitted[0][1].n_features_in_ if fitted else 0

    def transform(self, X: Any) -> np.ndarray:
        """Apply every fitted step, in order."""
        check_is_fitted(self)
        for _, step in self.steps_:
            X = step.transform(X)
        return X

    def to_config(self) -> dict[str, Any]:
        """Step names, types and parameters as a JSON-serialisable dict."""
        self._check_steps()
        config = {
            "format": CONFIG_FORMAT,
            "steps": [
                {"name": name, "type": type(step).__name__, "params": step.get_params()}
                for name, step in self.steps
            ],
        }
        try:
            return json.loads(json.dumps(config))
        except TypeError as exc:
            raise PreprocessError(f"Pipeline: parameters are not JSON-serialisable: {exc}") from exc

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every step's fitted arrays, under keys ``"<step name>.<attribute>"``."""
        check_is_fitted(self)
        return {
            f"{name}.{key}": value
            for name, step in self.steps_
            for key, value in step.state_dict().items()
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], state: Mapping[str, np.ndarray] | None = None
    ) -> Pipeline:
        """Rebuild a pipeline from :meth:`to_config`; fitted too when ``state`` is given."""
        if not isinstance(config, Mapping):
            raise PreprocessError(f"Pipeline: a config is a JSON object, got {config!r}")
        if config.get("format") != CONFIG_FORMAT:
            raise PreprocessError(
                f"Pipeline: config format {config.get('format')!r}, expected {CONFIG_FORMAT!r}"
            )
        steps = [(entry["name"], _build_step(entry)) for entry in config["steps"]]
        pipeline = cls(steps)
        pipeline._check_steps()
        if state is not None:
            fitted = []
            for name, step in steps:
                prefix = name + "."
                own = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
                fitted.append((name, clone(step).load_state(own)))
            pipeline._set_fitted(fitted)
        return pipeline


def _build_step(entry: Mapping[str, Any]) -> StatefulTransformer:
    if entry.get("type") not in STEP_TYPES:
        raise PreprocessError(
            f"Pipeline: unknown step type {entry.get('type')!r}; known: {', '.join(STEP_TYPES)}"
        )
    try:
        return STEP_TYPES[entry["type"]](**entry.get("params", {}))
    except TypeError as exc:
        raise PreprocessError(f"Pipeline: bad parameters for {entry['type']}: {exc}") from exc


def make_pipeline(
    sample_shape: tuple[int, ...],
    *,
    downsample: int | None = None,
    pca: int | None = None,
    standardize: bool = False,
    scale: str | None = None,
    n_qubits: int | None = None,
    reduce: str = "pca",
    binarize: bool = False,
) -> Pipeline:
    """The standard chain: downsample, flatten, standardise, PCA, then scale; or, with
    ``binarize``, pool and threshold to 0/1 pixels (:class:`Binarize`), alone.

    Args:
        sample_shape: (H, W) of the input images, or (F,) for rows of F features that
            are not images (quantum states): those cannot be downsampled.
        downsample: area-average to ``downsample x downsample`` first.
        pca: keep this many principal components.
        standardize: zero mean, unit variance per feature (before PCA).
        scale: ``"angle"`` (features to [0, pi]), ``"amplitude"`` (pad to 2**n,
            unit norm) or None.
        n_qubits: for ``"angle"``, must equal the feature count; for ``"amplitude"``,
            the register size (default: the smallest that fits).
        reduce: how ``pca`` components are found, a name of :data:`REDUCTIONS`.
        binarize: bit rows for generative models: area-pool to ``downsample x downsample``
            (default: the image height) and threshold at a level fitted on the training
            images; nothing else may be asked for with it.

    Returns:
        An unfitted :class:`Pipeline` taking samples of ``sample_shape`` or rows (n, H*W).

    Example::

        >>> make_pipeline((28, 28), downsample=4, scale="angle", n_qubits=16)
        ... # doctest: +SKIP
    """
    if binarize:
        if len(sample_shape) != 2:
            raise PreprocessError(f"make_pipeline: binarize needs images, not {sample_shape}")
        return _binarize_pipeline(sample_shape[0], downsample, pca, standardize, scale)
    steps: list[tuple[str, StatefulTransformer]] = []
    n_features = math.prod(sample_shape)
    if downsample is not None:
        if len(sample_shape) != 2:
            raise PreprocessError(
                f"make_pipeline: downsample needs images (H, W), not rows of {n_features} features"
            )
        steps.append(("downsample", Downsample(downsample, image_shape=tuple(sample_shape))))
        n_features = downsample * downsample
    steps.append(("flatten", Flatten()))
    if standardize:
        steps.append(("standardize", Standardize()))
    if pca is not None:
        if not 1 <= pca <= n_features:
            raise PreprocessError(f"make_pipeline: pca={pca} must be from 1 to {n_features}")
        if reduce not in REDUCTIONS:
            raise PreprocessError(f"make_pipeline: unknown reduce {reduce!r}; use 'pca', 'qkpca'")
        steps.append((reduce, REDUCTIONS[reduce](pca)))
        n_features = pca
    steps += _scale_steps(scale, n_features, n_qubits)
    return Pipeline(steps)


def _binarize_pipeline(height, downsample, pca, standardize, scale) -> Pipeline:
    """Pool and threshold only: any further step would turn the bits into reals again."""
    others = {"pca": pca, "standardize": standardize or None, "scale": scale}
    given = [name for name, value in others.items() if value is not None]
    if given:
        raise PreprocessError(
            f"make_pipeline: binarize gives 0/1 pixels; {', '.join(given)} cannot follow it"
        )
    return Pipeline([("binarize", Binarize(downsample or height))])


def _scale_steps(
    scale: str | None, n_features: int, n_qubits: int | None
) -> list[tuple[str, StatefulTransformer]]:
    if scale is None:
        return []
    if scale == "angle":
        if n_qubits is not None and n_qubits != n_features:
            raise PreprocessError(
                f"make_pipeline: angle encoding of {n_features} features needs "
                f"{n_features} qubits, not n_qubits={n_qubits}"
            )
        return [("angle", AngleScaler(0.0, math.pi))]
    if scale == "amplitude":
        if n_qubits is not None and 2**n_qubits < n_features:
            raise PreprocessError(
                f"make_pipeline: {n_features} features do not fit in 2**{n_qubits} amplitudes"
            )
        return [("amplitude", AmplitudeEncoder(n_qubits))]
    raise PreprocessError(f"make_pipeline: unknown scale {scale!r}; use 'angle', 'amplitude'")
