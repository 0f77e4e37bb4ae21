"""One benchmark cell: train one model on one task at one size with one seed, and score it.

Registry models go through the same pieces as ``qimage train`` (``prepare_data``,
``build_model``, ``fit``, ``evaluate``); scikit-learn models (RBF-SVC, quantum-kernel SVC)
are fitted on the same preprocessed features. Hyperparameters come from
:func:`search_hyperparameters`: k-fold cross-validation on the training split only, the
preprocessing refitted inside every fold, the same number of candidates for every model.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import time
from functools import lru_cache

import numpy as np
import torch

from qimage.bench.generative import GENERATORS, generative_cell, task_bits
from qimage.bench.spec import BenchModel, Task
from qimage.data import load_dataset
from qimage.errors import QimageError
from qimage.models import ModelConfig, build_model, count_parameters, get_family
from qimage.preprocess import ClassSubset
from qimage.report.verdict import TWIN_RATIO
from qimage.sim import Execution
from qimage.train import (
    DataSpec,
    TrainConfig,
    default_run_config,
    evaluate,
    fit,
    select_data,
    spec_pipeline,
)

__all__ = [
    "CELLS",
    "ESTIMATORS",
    "bench_spec",
    "check_task_data",
    "class_names",
    "matched_twin",
    "model_config",
    "run_cell",
    "search_hyperparameters",
    "twin_spec",
]

_BENCH_KEYS = ("frozen", "match", "families")  # bench-level keys that are not ModelConfig fields
_SCALING = {"standardize": False, "scale": None, "n_qubits": None}
"""DataSpec fields that scale features for one family; a twin picks its own, the rest of
its preprocessing (classes, subsample, PCA, reduction) is its model's."""


@lru_cache(maxsize=8)
def _dataset(name: str, data_dir: str | None):
    return load_dataset(name, data_dir=data_dir)


def _named(suite_models, name: str) -> BenchModel:
    return next(m for m in suite_models if m.name == name)


def model_config(task: Task, bench: BenchModel, suite_models, data_dir=None) -> ModelConfig:
    """The :class:`ModelConfig` of a family model on ``task`` (twins matched here).

    ``data_dir`` is where the task's IDX files are: matching a twin preprocesses a few images.
    """
    if "match" in bench.model:
        return matched_twin(task, bench, suite_models, data_dir)[0]
    fields = {k: v for k, v in bench.model.items() if k not in _BENCH_KEYS}
    return ModelConfig(**fields, n_classes=task.n_classes())


def bench_spec(task: Task, bench: BenchModel, suite_models, size, seed: int, data_dir=None):
    """The :class:`DataSpec` of any benchmark model on ``task``.

    A twin sees its model's features (the same classes, subsample, PCA or pixels), scaled
    as its own family wants them (standardised, where an amplitude QNN normalises).
    """
    if bench.estimator:
        spec = data_spec(task, None, size, seed, bench.estimator)
    elif "match" in bench.model:
        model = _named(suite_models, bench.model["match"])
        own = model_config(task, bench, suite_models, data_dir)
        spec = twin_spec(bench_spec(task, model, suite_models, size, seed, data_dir), own)
    else:
        spec = data_spec(task, model_config(task, bench, suite_models, data_dir), size, seed)
    spec.data_dir = data_dir
    return spec


def twin_spec(model_spec: DataSpec, twin: ModelConfig) -> DataSpec:
    """``model_spec`` with its feature scaling replaced by the twin family's own."""
    own = twin.family.preprocessing(twin.options, twin.n_classes)
    return dataclasses.replace(model_spec, **{**_SCALING, **own})


def matched_twin(task: Task, twin: BenchModel, suite_models, data_dir=None):
    """``(config, n_twin, n_model)``: the twin sized to its model's trainable-parameter count.

    ``twin.model`` names one family (``"name"``) or several in order of preference
    (``"families"``): the first that comes within ``TWIN_RATIO`` of the model's size is
    taken (an MLP where it can be that small, else e.g. a projected logistic regression),
    else the closest.
    """
    model = _named(suite_models, twin.model["match"])
    spec = bench_spec(task, model, suite_models, None, 0, data_dir)
    config = model_config(task, model, suite_models, data_dir)
    target = _count(config.replace(n_features=_feature_count(spec, data_dir)).resolved())
    names = twin.model.get("families") or (twin.model["name"],)
    sized = []
    for name in names:
        sized.append(_sized(get_family(name), task, spec, target, data_dir))
        n_twin = sized[-1][1]
        if max(n_twin, target) <= TWIN_RATIO * min(n_twin, target):
            return (*sized[-1], target)
    return (*min(sized, key=lambda cn: abs(math.log(cn[1] / target))), target)


def _sized(family, task: Task, model_spec: DataSpec, target: int, data_dir):
    config = ModelConfig(family.name, n_classes=task.n_classes())
    n_features = _feature_count(twin_spec(model_spec, config), data_dir)
    options = family.matched(config.options, n_features, task.n_classes(), target)
    config = ModelConfig(family.name, n_features, task.n_classes(), **dataclasses.asdict(options))
    return config, _count(config)


def _count(config: ModelConfig) -> int:
    return count_parameters(build_model(config))


def _feature_count(spec: DataSpec, data_dir) -> int:
    return _width(json.dumps(spec.to_dict(), sort_keys=True), data_dir)


@lru_cache(maxsize=64)
def _width(spec_json: str, data_dir) -> int:
    spec = DataSpec(**json.loads(spec_json))
    ds = _dataset(spec.dataset, data_dir)
    probe = ds.X_train[: max(4, spec.pca or 0) * 4]
    return spec_pipeline(spec, ds.sample_shape).fit(probe).transform(probe[:1]).shape[1]


def data_spec(task: Task, config: ModelConfig | None, size, seed: int, estimator=None):
    """The preprocessing of a model on a task (as ``qimage train`` would choose it)."""
    extra = {
        "classes": list(task.classes) if task.classes else None,
        "pca": task.pca,
        "n_train": size,
        "seed": seed,
    }
    if estimator is not None:
        return DataSpec(task.dataset, **ESTIMATORS[estimator][0], **extra)
    return default_run_config(task.dataset, config, **extra).data


def _train_torch(config: ModelConfig, train_cfg, X_tr, y_tr, frozen: bool, seed: int, execution):
    model = build_model(config, torch.Generator().manual_seed(seed))
    if frozen:
        config.family.freeze_quantum(model)
    start = time.perf_counter()
    objective = config.objective
    history = fit(
        model, X_tr, y_tr, train_cfg, progress=False, execution=execution, objective=objective
    )
    return model, time.perf_counter() - start, history


def _svc(seed: int, **params):
    from sklearn.svm import SVC

    return SVC(kernel="rbf", random_state=seed, **params)


def _qsvc(seed: int, **params):
    from qimage.estimators import QuantumKernelSVC

    return QuantumKernelSVC(random_state=seed, **params)


def _observables(seed: int, **params):
    from qimage.estimators import local_observable_classifier

    return local_observable_classifier(random_state=seed, **params)


#: scikit-learn models by ``BenchModel.estimator``: (DataSpec preprocessing, factory
#: ``factory(seed, **params)``). ``observables`` takes raw states: it measures them. The
#: generative models (:data:`qimage.bench.generative.GENERATORS`) take bit strings.
ESTIMATORS = {
    "svc": ({"standardize": True}, _svc),
    "qsvc": ({"scale": "angle"}, _qsvc),
    "observables": ({}, _observables),
    **{
        name: ({}, lambda seed, factory=factory, **params: factory(random_state=seed, **params))
        for name, factory in GENERATORS.items()
    },
}


def _estimator(bench: BenchModel, seed: int, params: dict):
    return ESTIMATORS[bench.estimator][1](seed, **{**bench.model, **params})


def _arrays(spec: DataSpec, task: Task, fit_idx=None, eval_idx=None):
    """Preprocessed (X_fit, y_fit, X_eval, y_eval): the test split, or folds of train."""
    ds = _dataset(spec.dataset, spec.data_dir)
    X_tr, y_tr, X_te, y_te, _ = select_data(spec, ds)
    if fit_idx is not None:
        X_tr, y_tr, X_te, y_te = X_tr[fit_idx], y_tr[fit_idx], X_tr[eval_idx], y_tr[eval_idx]
    pipeline = spec_pipeline(spec, ds.sample_shape).fit(X_tr)
    return pipeline.transform(X_tr), y_tr, pipeline.transform(X_te), y_te


def _score(task, bench, suite_models, size, seed, params, data_dir, folds=None, device=None):
    """Train with ``params`` and score on the test split (or on one fold)."""
    train_params = {k: v for k, v in params.items() if k in TrainConfig.__dataclass_fields__}
    spec = bench_spec(task, bench, suite_models, size, seed, data_dir)
    if bench.estimator:
        X, y, Xe, ye = _arrays(spec, task, *(folds or (None, None)))
        est = _estimator(bench, seed, params)
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        pred = est.predict(Xe)
        return _sklearn_result(pred, ye, seconds, len(y), task.n_classes())
    config = model_config(task, bench, suite_models, data_dir)
    X, y, Xe, ye = (torch.as_tensor(a) for a in _arrays(spec, task, *(folds or (None, None))))
    config = config.replace(n_features=X.shape[1]).resolved()
    train_cfg = TrainConfig(**{**bench.train, **train_params, "seed": seed})
    execution = Execution(device=device)
    frozen = bench.model.get("frozen", False)
    model, seconds, history = _train_torch(
        config, train_cfg, X.float(), y.long(), frozen, seed, execution
    )
    metrics = evaluate(
        model,
        Xe.float(),
        ye.long(),
        task.n_classes(),
        execution=execution,
        objective=config.objective,
    )
    return {
        "accuracy": metrics["accuracy"],
        "confusion": metrics["confusion"],
        "n_parameters": count_parameters(model),
        "train_seconds": seconds,
        "samples_per_s": float(np.mean([r["samples_per_s"] for r in history.rows])),
        "epochs": len(history.rows),
        "val_accuracy": _best_val(history),
        "n_train": len(y),
        "model_config": config.to_dict(),
    }


def _best_val(history) -> float | None:
    """The best validation accuracy over epochs (the weights kept), to choose between
    configurations without looking at the test split."""
    values = [
        row["val_acc"] for row in history.rows if not math.isnan(row.get("val_acc", math.nan))
    ]
    return max(values) if values else None


def _sklearn_result(pred, truth, seconds, n_train, n_classes) -> dict:
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(confusion, (np.asarray(truth), np.asarray(pred)), 1)
    return {
        "accuracy": float((np.asarray(pred) == np.asarray(truth)).mean()),
        "confusion": confusion.tolist(),
        "n_parameters": None,
        "train_seconds": seconds,
        "samples_per_s": n_train / seconds if seconds > 0 else None,
        "epochs": None,
        "n_train": n_train,
    }


def _capped(task: Task, size: int | None, data_dir) -> int | None:
    """``size``, or None (all of it) when the task's training split is not larger (the
    256-state quantum dataset against a search size of 500)."""
    y = _dataset(task.dataset, data_dir).y_train
    available = int(np.isin(y, task.classes).sum()) if task.classes else len(y)
    return None if size is None or size >= available else size


def search_hyperparameters(
    task, bench, suite_models, *, folds: int, size: int, data_dir=None, seed: int = 0, device=None
) -> dict:
    """The candidate with the best mean k-fold accuracy on (a subsample of) the training split."""
    if not bench.search:
        return {}
    from sklearn.model_selection import StratifiedKFold

    size = _capped(task, size, data_dir)
    spec = bench_spec(task, bench, suite_models, size, seed, data_dir)
    _, y, _, _, _ = select_data(spec, _dataset(spec.dataset, data_dir))
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(y, y))
    keys = list(bench.search)
    best, best_score = {}, -1.0
    for values in itertools.product(*(bench.search[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        score = np.mean(
            [
                _score(task, bench, suite_models, size, seed, params, data_dir, fold, device)[
                    "accuracy"
                ]
                for fold in splits
            ]
        )
        if score > best_score:
            best, best_score = params, float(score)
    return {**best, "cv_accuracy": best_score}


def class_names(task: Task, data_dir=None) -> list[str]:
    """The task's class names, indexed by its labels (``["3", "5"]`` for MNIST 3 vs 5).

    Stored in every result row, so the report labels confusion matrices without importing
    the data layer.
    """
    names = _dataset(task.dataset, data_dir).class_names
    return list(ClassSubset(task.classes).select_names(names) if task.classes else names)


def _classification_cell(task, bench, suite_models, size, seed, params, data_dir, device):
    result = _score(task, bench, suite_models, size, seed, params, data_dir, device=device)
    return {**result, "class_names": class_names(task, data_dir)}


#: Per task kind (``Task.kind``): how a cell is trained and scored, and how the task's
#: data is loaded (``load(task, data_dir)``).
CELLS = {"classification": _classification_cell, "generative": generative_cell}
_LOADERS = {"classification": lambda task, data_dir: _dataset(task.dataset, data_dir),
            "generative": task_bits}  # fmt: skip


def check_task_data(task: Task, data_dir=None) -> None:
    """Load ``task``'s data once, so a missing dataset fails before any cell runs."""
    _LOADERS[task.kind](task, data_dir)


def run_cell(task, bench, suite_models, size, seed, params, data_dir=None, device=None) -> dict:
    """Train and score one cell; errors are recorded, not raised, so a suite keeps going."""
    chosen = {k: v for k, v in params.items() if k != "cv_accuracy"}
    try:
        cell = CELLS[task.kind]
        result = cell(task, bench, suite_models, size, seed, chosen, data_dir, device)
    except (QimageError, ValueError, MemoryError) as err:
        return {"error": f"{type(err).__name__}: {err}"}
    return {**result, "hyperparameters": params}
