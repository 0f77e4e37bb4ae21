"""Kernel PCA on quantum kernels: the estimator, the pipeline step and ``--reduce qkpca``.

Oracle: scikit-learn's ``KernelPCA`` (``kernel="precomputed"`` on the same quantum Gram, and
its own ``rbf`` kernel for the preprocessing step's built-in kernel).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import KernelPCA as SklearnKernelPCA
from sklearn.utils.estimator_checks import parametrize_with_checks

from qimage.cli import main
from qimage.estimators import QuantumKernelPCA
from qimage.models import FidelityKernel, ProjectedKernel
from qimage.preprocess import KernelPCA, Pipeline, PreprocessError, make_pipeline
from qimage.train import DataSpec, prepare_data


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@parametrize_with_checks(
    [
        QuantumKernelPCA(random_state=0),
        QuantumKernelPCA(kernel="projected", encoder="angle", bandwidth=0.3, random_state=0),
        KernelPCA(kernel="rbf"),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    """QuantumKernelPCA and the preprocessing step pass scikit-learn's estimator checks."""
    check(estimator)


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, size=(40, 3)), rng.uniform(0, 1, size=(12, 3))


@pytest.mark.parametrize(
    ("ours", "kernel"),
    [
        (
            QuantumKernelPCA(3, bandwidth=0.7),
            FidelityKernel("iqp", bandwidth=0.7, encoder_options={"reps": 2}),
        ),
        (
            QuantumKernelPCA(3, kernel="projected", encoder="angle", gamma=0.5),
            ProjectedKernel("angle", gamma=0.5),
        ),
    ],
    ids=["fidelity", "projected"],
)
def test_matches_sklearn_on_the_precomputed_gram(points, ours, kernel):
    """Train and test coordinates equal sklearn's KernelPCA on the explicit quantum Grams."""
    X, Xt = points
    kernel.dtype = torch.complex128
    K = kernel(torch.as_tensor(X)).numpy()
    Kt = kernel(torch.as_tensor(Xt), torch.as_tensor(X)).numpy()
    oracle = SklearnKernelPCA(3, kernel="precomputed").fit(K)
    ours.fit(X)
    np.testing.assert_allclose(ours.transform(X), oracle.transform(K), atol=1e-10)
    np.testing.assert_allclose(ours.transform(Xt), oracle.transform(Kt), atol=1e-10)
    np.testing.assert_allclose(ours.eigenvalues_, oracle.eigenvalues_, rtol=1e-10)


def test_shots_are_seeded_and_near_exact(points):
    """Shot-estimated Grams repeat under one random_state and stay near the exact result."""
    X, Xt = points
    make = lambda s: QuantumKernelPCA(2, bandwidth=0.7, shots=20000, random_state=s)  # noqa: E731
    a, again = (make(0).fit(X).transform(Xt) for _ in range(2))
    np.testing.assert_array_equal(a, again)
    exact = QuantumKernelPCA(2, bandwidth=0.7).fit(X).transform(Xt)
    assert not np.allclose(a, exact) and np.abs(a - exact).max() < 0.05


def test_too_many_components(points):
    with pytest.raises(ValueError, match="n_components"):
        QuantumKernelPCA(41).fit(points[0])


class TestPipelineStep:
    def test_rbf_step_matches_sklearn(self, points):
        """The preprocessing step's centring and projection equal sklearn's KernelPCA."""
        X, Xt = points
        step = KernelPCA(3, kernel="rbf", kernel_params={"gamma": 2.0}).fit(X)
        oracle = SklearnKernelPCA(3, kernel="rbf", gamma=2.0).fit(X)
        np.testing.assert_allclose(step.transform(Xt), oracle.transform(Xt), atol=1e-10)

    def test_unknown_kernel(self, points):
        with pytest.raises(PreprocessError, match="unknown kernel 'nope'"):
            KernelPCA(2, kernel="nope").fit(points[0])

    def test_unknown_reduce(self):
        with pytest.raises(PreprocessError, match="unknown reduce"):
            make_pipeline((8, 8), pca=4, reduce="ica")

    def test_qkpca_pipeline_is_the_estimator_and_saves(self):
        """reduce="qkpca" is QuantumKernelPCA on amplitude-encoded pixels; a saved pipeline
        rebuilt from its config and arrays gives the same output."""
        X = load_digits().images[:80]
        pipe = make_pipeline((8, 8), pca=4, reduce="qkpca").fit(X[:60])
        Z = pipe.transform(X[60:])
        direct = QuantumKernelPCA(4, encoder="amplitude").fit(X[:60].reshape(60, -1))
        np.testing.assert_allclose(Z, direct.transform(X[60:].reshape(20, -1)), atol=1e-10)
        config = json.loads(json.dumps(pipe.to_config()))
        rebuilt = Pipeline.from_config(config, pipe.state_dict())
        np.testing.assert_array_equal(rebuilt.transform(X[60:]), Z)

    def test_dataspec_reduce(self):
        """DataSpec(reduce="qkpca") puts kernel PCA where PCA was, with the same width."""
        spec = DataSpec("digits", classes=[3, 5], n_train=60, pca=4, scale="angle")
        pca = prepare_data(spec)
        qk = prepare_data(DataSpec(**{**spec.to_dict(), "reduce": "qkpca"}))
        assert [n for n, _ in qk.pipeline.steps] == ["flatten", "qkpca", "angle"]
        assert qk.X_train.shape == pca.X_train.shape == (60, 4)
        assert not np.allclose(qk.X_train, pca.X_train)


def test_cli_train_and_evaluate_with_qkpca(tmp_path, capsys):
    """qimage train --reduce qkpca writes a model whose saved pipeline evaluate reapplies."""
    out = tmp_path / "run"
    train = ["train", "--pca", "4", "--reduce", "qkpca", "--classes", "3,5", "--n-train", "60"]
    assert main([*train, "--layers", "1", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["reduce"] == "qkpca"
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    recorded = json.loads((out / "metrics.json").read_text())["test"]["accuracy"]
    assert f"{recorded:.4f}" in capsys.readouterr().out
