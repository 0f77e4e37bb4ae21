"""What a benchmark is made of: tasks, models and suites, as reviewable data.

* A :class:`Task` is a dataset, optionally a class subset and a feature size, and the
  training-set sizes of its data-efficiency curve.
* A :class:`BenchModel` is a model (a registry model trained by :func:`qimage.train.fit`,
  or a scikit-learn estimator), its search space, its matched classical twin and, for an
  ablation, the model it ablates and how.
* A :class:`Suite` is tasks x models x sizes x seeds, plus the search budget.

Twins are matched at run time: ``{"name": "mlp", "match": "qnn"}`` builds the MLP whose
trainable-parameter count is closest to the quantum model ``qnn`` on the same task, on the
same features; ``{"families": ("mlp", "projected_logreg"), "match": "qnn"}`` takes the first
family that can come within 2x of ``qnn``'s size.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from qimage.errors import QimageError

__all__ = ["TASK_KINDS", "BenchModel", "Suite", "Task"]

FULL = None
"""A training-set size meaning "the whole official training split"."""
TASK_KINDS = ("classification", "generative")
"""What a task's models do: predict labels, or learn the distribution of bit images."""


@dataclass(frozen=True)
class Task:
    """A dataset, optionally a class subset and PCA size, and the sizes to train on.

    ``image_side`` is the side of the square images; samples that are not images (quantum
    states) have None there and their length in ``features``.

    ``kind`` is ``"classification"`` (models predict labels, scored by accuracy) or
    ``"generative"`` (models learn the distribution of the images as bit strings,
    ``image_side x image_side`` pixels: the dataset's images pooled to that side and
    binarised, or ``"bars-and-stripes"``; scored by KL divergence to the test strings).
    ``candidates`` is the search budget of this task's models when it is not the suite's
    (generative models have fixed hyperparameters: 1).
    """

    name: str
    dataset: str
    label: str
    image_side: int | None
    classes: tuple[int, ...] | None = None
    pca: int | None = None
    sizes: tuple[int | None, ...] = (FULL,)
    dataset_classes: int = 10  # classes of the whole dataset
    features: int | None = None  # per raw sample, when the samples are not images
    kind: str = "classification"
    candidates: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise QimageError(f"task {self.name}: kind is one of {TASK_KINDS}, not {self.kind!r}")

    def n_features(self) -> int:
        """Features per sample before model-specific scaling (PCA size, pixels, amplitudes)."""
        return self.pca or self.features or self.image_side**2

    def n_classes(self) -> int:
        return len(self.classes) if self.classes else self.dataset_classes

    def unit(self) -> str:
        """What one sample is, for the report's sentences and headers."""
        if self.kind == "generative":
            return "bit strings"
        return "images" if self.image_side else "states"


@dataclass(frozen=True)
class BenchModel:
    """One model of the benchmark.

    Attributes:
        name: unique name in the suite, e.g. ``"qnn"`` or ``"qnn:separable"``.
        family: ``"quantum"`` or ``"classical"``.
        model: :class:`qimage.models.ModelConfig` fields (family models), or estimator
            parameters (``estimator`` set). A QNN without ``n_qubits`` takes the fewest
            qubits that hold its features (its family's rule).
        estimator: ``"svc"`` (RBF), ``"qsvc"`` (quantum kernel) or ``"observables"``
            (logistic regression on local Pauli observables of quantum states, exact or
            from ``shots`` classical-shadow snapshots) for scikit-learn models.
        train: :class:`qimage.train.TrainConfig` fields.
        search: hyperparameter -> candidates, chosen by cross-validation on the training
            split (every model gets the same number of candidates).
        twin: name of the matched classical twin (quantum models).
        ablation_of / ablation: the model this one ablates and how (``"separable"``,
            ``"frozen"`` or ``"classical-part"``).
        sizes: training-set sizes for this model (default: the task's).
    """

    name: str
    family: str
    model: dict = field(default_factory=dict)
    estimator: str | None = None
    train: dict = field(default_factory=dict)
    search: dict = field(default_factory=dict)
    twin: str | None = None
    ablation_of: str | None = None
    ablation: str | None = None
    sizes: tuple[int | None, ...] | None = None

    def budget(self) -> int:
        """Number of hyperparameter combinations searched."""
        return math.prod(len(v) for v in self.search.values()) if self.search else 1


@dataclass(frozen=True)
class Suite:
    """Tasks x models x sizes x seeds, and the search protocol.

    ``candidates``, when set, is the search budget every model gets (checked here, with a
    task's own ``candidates`` in its place), so quantum and classical models are tuned
    equally; results rows record each model's.
    """

    name: str
    tasks: tuple[Task, ...]
    models: dict[str, tuple[BenchModel, ...]]  # task name -> models
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    cv_folds: int = 3
    search_size: int = 500  # hyperparameters are searched on at most this many samples
    candidates: int | None = None

    def __post_init__(self) -> None:
        for task in self.tasks:
            budget = task.candidates or self.candidates
            if budget is None:
                continue
            models = self.models.get(task.name, ())
            unequal = [f"{m.name} ({m.budget()})" for m in models if m.budget() != budget]
            if unequal:
                raise QimageError(
                    f"suite {self.name}, task {task.name}: every model searches {budget} "
                    f"candidates, not {', '.join(unequal)}"
                )

    def only(self, names) -> Suite:
        """This suite restricted to the tasks called ``names`` (to re-run some of them)."""
        unknown = sorted(set(names) - {t.name for t in self.tasks})
        if unknown:
            known = ", ".join(t.name for t in self.tasks)
            raise QimageError(f"suite {self.name} has no task {', '.join(unknown)} ({known})")
        return dataclasses.replace(self, tasks=tuple(t for t in self.tasks if t.name in names))

    def cells(self):
        """Every (task, model, n_train, seed), in a stable order."""
        for task in self.tasks:
            for model in self.models[task.name]:
                for size in model.sizes or task.sizes:
                    for seed in self.seeds:
                        yield task, model, size, seed
