"""The benchmark suites: ``quick`` (minutes, smoke-tested in CI), ``standard`` (about an
hour on 2 cores, its results committed under ``docs/benchmark/``) and ``full`` (hours).
``standard`` and ``full`` end with quantum data: the QCNN on cluster-Ising ground states
against classical models on measurements of them. ``standard`` then has two generative
tasks (bars and stripes 3x3, digits pooled to 4x4): the Born machine against classical
generative models of matched size.

Every quantum model comes with its ablations (separable: no entanglement; frozen: random
circuit, only the readout trained; classical-part: the model without its circuit, where it
has classical parts) and a classical twin with a matched parameter count, trained by the same
loop with the same budget and the same search budget.

Twins see their model's features (a QNN on PCA features gets an MLP on the same PCA
features) and come from the first of :data:`TWINS` that can be within 2x of the model's
size: an MLP where one is that small, else logistic regression on a fixed random projection
(on raw pixels the smallest MLP has 805 parameters against a 260-parameter QNN).

Search budgets are equal: every model, quantum or classical, gets :data:`CANDIDATES`
hyperparameter candidates (one learning-rate grid shared by every trained model, C for the
RBF-SVM, the kernel bandwidth for the quantum-kernel SVM), and each suite checks it.
"""

from __future__ import annotations

from qimage.bench.spec import FULL, BenchModel, Suite, Task

__all__ = ["SUITES"]

CANDIDATES = 8
"""Hyperparameter candidates of every model in every suite (searched by cross-validation)."""

# One learning-rate grid for quantum and classical models alike, wide enough for both: the
# earlier 3-value grids had circuits choosing their top rate and networks their middle one.
LR = {"lr": [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3]}
C_SVC = {"C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0]}
BANDWIDTH = {"bandwidth": [0.02, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0]}
TWINS = ("mlp", "projected_logreg")
"""Twin families in order of preference (the first within 2x of the model's size)."""


def with_ablations(
    name,
    model,
    train,
    *,
    classical_part=None,
    sizes_ablations=(FULL,),
    search=None,
    twin=TWINS,
    frozen=True,
):
    """A quantum model, its separable and frozen ablations, and its matched twin.

    ``frozen=False`` for models whose circuit is already a frozen random one (quanvolution).
    """
    search = search or LR
    ansatz = model.get("ansatz", "strongly_entangling")
    separable = {**model, "ansatz": "separable", "ansatz_options": {"of": ansatz}}
    out = [
        BenchModel(name, "quantum", model, train=train, search=search, twin=f"{name}:twin"),
        BenchModel(
            f"{name}:separable",
            "quantum",
            separable,
            train=train,
            search=search,
            ablation_of=name,
            ablation="separable",
            sizes=sizes_ablations,
        ),
        BenchModel(
            f"{name}:twin",
            "classical",
            {"families": twin, "match": name},
            train=train,
            search=LR,
        ),
    ]
    if frozen:
        out.append(
            BenchModel(
                f"{name}:frozen",
                "quantum",
                {**model, "frozen": True},
                train=train,
                search=search,
                ablation_of=name,
                ablation="frozen",
                sizes=sizes_ablations,
            )
        )
    if classical_part:
        sizes = {"n_qubits": model["n_qubits"]} if "n_qubits" in model else {}
        out.append(
            BenchModel(
                f"{name}:classical-part",
                "classical",
                {"name": classical_part, **sizes},
                train=train,
                search=LR,
                ablation_of=name,
                ablation="classical-part",
                sizes=sizes_ablations,
            )
        )
    return out


def baselines(train, sizes=None):
    """The classical strong baselines: logistic regression, RBF-SVC and an MLP."""
    return [
        BenchModel("logreg", "classical", {"name": "logreg"}, train=train, search=LR, sizes=sizes),
        BenchModel(
            "mlp",
            "classical",
            {"name": "mlp", "hidden": 64},
            train=train,
            search=LR,
            sizes=sizes,
        ),
        BenchModel(
            "rbf-svc", "classical", {"gamma": "scale"}, estimator="svc", search=C_SVC, sizes=sizes
        ),
    ]


DIGITS = Task("digits", "digits", "8x8 digits, 10 classes", 8, sizes=(50, 100, 250, 500, FULL))
DIGITS_QUICK = Task("digits", "digits", "8x8 digits, 10 classes", 8, sizes=(100, FULL))
MNIST35 = {
    d: Task(
        f"mnist35-pca{d}",
        "mnist",
        f"MNIST 3 vs 5, PCA {d}",
        28,
        classes=(3, 5),
        pca=d,
        sizes=(250, 1000),
    )
    for d in (4, 8, 10)
}
MNIST10 = Task("mnist10", "mnist", "MNIST, 10 classes", 28, sizes=(500, 2000))
FASHION10 = Task("fashion10", "fashion-mnist", "Fashion-MNIST, 10 classes", 28, sizes=(500, 2000))
MNIST10_FULL = Task("mnist10", "mnist", "MNIST, 10 classes", 28, sizes=(500, 2000, 10000, FULL))
FASHION10_FULL = Task(
    "fashion10", "fashion-mnist", "Fashion-MNIST, 10 classes", 28, sizes=(500, 2000, 10000, FULL)
)

_QNN_DIGITS = {
    "name": "qnn",
    "encoder": "amplitude",
    "n_qubits": 6,
    "n_layers": 32,
    "readout": "probs",
}
_QNN_QUICK = {**_QNN_DIGITS, "n_layers": 3}
_DRESSED = {"name": "dressed", "encoder": "angle", "n_qubits": 6, "n_layers": 3}
# On 8x8 digits stride 2 keeps too little (16 windows); MNIST uses Henderson et al.'s 2x2/2.
_QUANV_DIGITS = {"name": "quanv", "patch": 2, "stride": 1, "n_layers": 2}
_QUANV = {"name": "quanv", "patch": 2, "stride": 2, "n_layers": 1}
_REUPLOAD = {
    "name": "qnn",
    "encoder": "reupload",
    "n_layers": 3,
    "readout": "expval",
}
_QNN_MNIST = {
    "name": "qnn",
    "encoder": "amplitude",
    "n_qubits": 10,
    "n_layers": 8,
    "readout": "probs",
}

CLUSTER = Task(
    "cluster-ising",
    "cluster-ising",
    "cluster-Ising phases (SPT or not), 8 spins",
    None,
    sizes=(32, FULL),
    dataset_classes=2,
    features=256,
)

BAS3 = Task(
    "bas3x3",
    "bars-and-stripes",
    "bars and stripes 3x3 (9 bits)",
    3,
    kind="generative",
    candidates=1,
)
DIGITS4 = Task(
    "digits4x4",
    "digits",
    "8x8 digits pooled to 4x4 and binarised (16 bits)",
    4,
    kind="generative",
    candidates=1,
)

_T_DIGITS = {"epochs": 20, "batch_size": 32}
_T_QCNN = {"epochs": 30, "batch_size": 16}
_T_QUICK = {"epochs": 4, "batch_size": 32}
_T_MNIST = {"epochs": 6, "batch_size": 64}


def _image_task_models(task: Task, train: dict):
    """28x28 tasks: the amplitude QNN, quanvolution, their ablations and twins, baselines.

    Ablations run at the task's largest size, the one its headline compares.
    """
    at = (task.sizes[-1],)
    return (
        *with_ablations("qnn", _QNN_MNIST, train, sizes_ablations=at),
        *with_ablations(
            "quanv", _QUANV, train, classical_part="quanv_twin", frozen=False, sizes_ablations=at
        ),
        *baselines(train),
    )


def _pca_task_models(task: Task, train: dict):
    # The kernel's bandwidth matters as RBF's gamma does; RBF-SVC gets gamma="scale" (fitted
    # to the data) and searches C, the qSVC searches its bandwidth: CANDIDATES each.
    qsvc = BenchModel(
        "qsvc",
        "quantum",
        {"kernel": "fidelity", "encoder": "iqp", "reps": 2},
        estimator="qsvc",
        search=BANDWIDTH,
    )
    at = (task.sizes[-1],)
    return (
        *with_ablations("reupload", _REUPLOAD, train, sizes_ablations=at),
        qsvc,
        *baselines(train),
    )


def _quantum_data_models(train: dict):
    """The QCNN reading the ground states themselves, its frozen ablation, and logistic
    regressions on what a classical learner can measure of the states: every one- and
    nearest-neighbour two-spin Pauli, exactly and from 100 classical-shadow snapshots per
    state. No matched twin: a classical network on the amplitudes would read what no
    measurement gives."""
    qcnn = {"name": "qcnn"}
    return (
        BenchModel("qcnn", "quantum", qcnn, train=train, search=LR),
        BenchModel(
            "qcnn:frozen",
            "quantum",
            {**qcnn, "frozen": True},
            train=train,
            search=LR,
            ablation_of="qcnn",
            ablation="frozen",
        ),
        BenchModel("local-observables", "classical", {}, estimator="observables", search=C_SVC),
        BenchModel(
            "shadows-100", "classical", {"shots": 100}, estimator="observables", search=C_SVC
        ),
    )


def generative_models(born: dict, kl: bool = False):
    """The Born machine (trained by MMD, and by KL when ``kl``) against independent
    pixels, an RBM and a MADE sized to the Born machine's parameter count. No search: every
    model keeps the hyperparameters given here (1 candidate each)."""
    quantum = [BenchModel("born", "quantum", born, estimator="born")]
    if kl:
        quantum.append(BenchModel("born-kl", "quantum", {**born, "loss": "kl"}, estimator="born"))
    return (
        *quantum,
        BenchModel("bernoulli", "classical", {}, estimator="bernoulli"),
        BenchModel("rbm", "classical", {"match": "born"}, estimator="rbm"),
        BenchModel("made", "classical", {"match": "born"}, estimator="made"),
    )


# Born hyperparameters of benchmarks/born.py: full batch on the 14 bars and stripes; 230
# steps of 64 strings on the digits (about 15 s a seed on one core).
_BORN_BAS = {"n_layers": 6, "epochs": 300, "batch_size": 14, "lr": 0.1}
_BORN_DIGITS = {"n_layers": 4, "epochs": 10, "batch_size": 64, "lr": 0.05}

QUICK = Suite(
    "quick",
    (DIGITS_QUICK,),
    {
        "digits": (
            *with_ablations("qnn", _QNN_QUICK, _T_QUICK),
            *baselines(_T_QUICK)[:1],
            baselines(_T_QUICK)[2],
        )
    },
    seeds=(0, 1),
    cv_folds=2,
    search_size=150,  # 8 candidates x 2 folds on 150 images: the smoke test stays quick
    candidates=CANDIDATES,
)

STANDARD = Suite(
    "standard",
    (DIGITS, MNIST35[4], MNIST35[8], MNIST10, FASHION10, CLUSTER, BAS3, DIGITS4),
    {
        "digits": (
            *with_ablations("qnn", _QNN_DIGITS, _T_DIGITS),
            *with_ablations("dressed", _DRESSED, _T_DIGITS, classical_part="dressed_classical"),
            *with_ablations(
                "quanv", _QUANV_DIGITS, _T_DIGITS, classical_part="quanv_twin", frozen=False
            ),
            *baselines(_T_DIGITS),
        ),
        "mnist35-pca4": _pca_task_models(MNIST35[4], _T_DIGITS),
        "mnist35-pca8": _pca_task_models(MNIST35[8], _T_DIGITS),
        "mnist10": _image_task_models(MNIST10, _T_MNIST),
        "fashion10": _image_task_models(FASHION10, _T_MNIST),
        "cluster-ising": _quantum_data_models(_T_QCNN),
        "bas3x3": generative_models(_BORN_BAS, kl=True),
        "digits4x4": generative_models(_BORN_DIGITS, kl=True),
    },
    candidates=CANDIDATES,
)

FULL_SUITE = Suite(
    "full",
    (DIGITS, MNIST35[4], MNIST35[8], MNIST35[10], MNIST10_FULL, FASHION10_FULL, CLUSTER),
    {
        **STANDARD.models,
        "mnist35-pca10": _pca_task_models(MNIST35[10], _T_DIGITS),
        "mnist10": _image_task_models(MNIST10_FULL, _T_MNIST),
        "fashion10": _image_task_models(FASHION10_FULL, _T_MNIST),
    },
    candidates=CANDIDATES,
)

SUITES = {s.name: s for s in (QUICK, STANDARD, FULL_SUITE)}
"""Suites by name."""
