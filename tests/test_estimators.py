"""scikit-learn estimators: the full estimator checks, Pipeline and GridSearchCV, the
train/test Gram of the kernel SVC, shots, the quanvolution feature path and seeding.

Expected failures of ``parametrize_with_checks``: none. Two choices make every check pass
and are part of the estimators' documented behaviour, not test exceptions:

* ``QuanvClassifier(trainable=False)`` carries scikit-learn's ``poor_score`` tag: a frozen
  random circuit on the checks' 2-feature blobs (a single 2x2 patch) may keep too little
  for the head to reach 83% training accuracy; the trainable instance below is held to it.
* ``QuantumKernelSVC(probability=True)`` predicts the argmax of its calibrated probabilities
  and offers no ``decision_function``, so that ``predict`` and ``predict_proba`` agree.

The checks run single-threaded: with these tiny circuits, thread hand-off costs more than
it saves, and far more when other jobs load the machine.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

import qimage.models.layer as layer_module
from qimage.estimators import (
    DressedQNNClassifier,
    ModelClassifier,
    QNNClassifier,
    QuantumKernelSVC,
    QuanvClassifier,
)
from qimage.models import FidelityKernel, count_parameters, quanv_features


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Run this module on one thread and restore the setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


CHECKED = [
    QNNClassifier(n_layers=2, epochs=6, lr=0.1, random_state=0),
    DressedQNNClassifier(n_qubits=2, n_layers=1, epochs=5, batch_size=64, lr=0.1, random_state=0),
    QuanvClassifier(epochs=10, lr=0.1, random_state=0),
    QuanvClassifier(trainable=True, epochs=6, lr=0.1, random_state=0),
    ModelClassifier(
        model="mlp", options={"hidden": 8}, epochs=5, batch_size=64, lr=0.05, random_state=0
    ),
    QuantumKernelSVC(bandwidth=0.5, random_state=0),
    QuantumKernelSVC(kernel="projected", bandwidth=0.3, probability=True, random_state=0),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    """Every estimator passes scikit-learn's estimator checks."""
    check(estimator)


@pytest.fixture(scope="module")
def three_vs_five():
    """Digits 3 and 5, PCA to 4 features: (X_train, y_train, X_test, y_test)."""
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, [3, 5])
    X, y = X[keep], y[keep]
    X = PCA(4, random_state=0).fit_transform(StandardScaler().fit_transform(X))
    return X[:200], y[:200], X[200:], y[200:]


class TestKernelSVC:
    def test_train_and_test_gram_match_an_explicit_svc(self, three_vs_five):
        """Decision values equal an SVC on the explicit train Gram, applied to test-by-train."""
        X, y, Xt, _ = three_vs_five
        clf = QuantumKernelSVC(bandwidth=0.4, C=2.0, random_state=0).fit(X, y)
        kernel = FidelityKernel("iqp", bandwidth=0.4, dtype=torch.complex128)
        K, Kt = kernel(torch.as_tensor(X)).numpy(), kernel(torch.as_tensor(Xt), torch.as_tensor(X))
        svc = SVC(kernel="precomputed", C=2.0).fit(K, y)
        np.testing.assert_allclose(clf.decision_function(Xt), svc.decision_function(Kt.numpy()))

    def test_callable_kernel_agrees(self, three_vs_five):
        """The same predictions as SVC with the kernel as a callable on raw features."""
        X, y, Xt, _ = three_vs_five
        kernel = FidelityKernel("angle", dtype=torch.complex128)

        def gram(A, B):
            return kernel(torch.as_tensor(A), torch.as_tensor(B)).numpy()

        ours = QuantumKernelSVC(encoder="angle", random_state=0).fit(X, y).predict(Xt)
        np.testing.assert_array_equal(ours, SVC(kernel=gram).fit(X, y).predict(Xt))

    def test_learns_three_vs_five(self, three_vs_five):
        """An IQP kernel SVC separates 3 from 5 on held-out digits."""
        X, y, Xt, yt = three_vs_five
        assert QuantumKernelSVC(bandwidth=0.1, random_state=0).fit(X, y).score(Xt, yt) > 0.9

    def test_shots_are_seeded_and_close_to_exact(self, three_vs_five):
        """Shot estimates repeat under one random_state and agree with exact predictions mostly."""
        X, y, Xt, _ = three_vs_five
        noisy = QuantumKernelSVC(bandwidth=0.3, shots=2000, random_state=1)
        a = noisy.fit(X, y).decision_function(Xt)
        np.testing.assert_array_equal(a, clone(noisy).fit(X, y).decision_function(Xt))
        exact = QuantumKernelSVC(bandwidth=0.3, random_state=1).fit(X, y).decision_function(Xt)
        assert not np.allclose(a, exact)
        assert np.mean(np.sign(a) == np.sign(exact)) > 0.95

    def test_predict_proba_needs_probability(self, three_vs_five):
        """predict_proba exists only with probability=True, and then agrees with predict."""
        X, y, Xt, _ = three_vs_five
        assert not hasattr(QuantumKernelSVC(), "predict_proba")
        clf = QuantumKernelSVC(bandwidth=0.3, probability=True, random_state=0).fit(X, y)
        proba = clf.predict_proba(Xt)
        np.testing.assert_allclose(proba.sum(1), 1.0)
        np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(Xt))

    def test_unknown_kernel(self, three_vs_five):
        """An unknown kernel name is a ValueError naming the choices."""
        with pytest.raises(ValueError, match="fidelity"):
            QuantumKernelSVC(kernel="rbf").fit(*three_vs_five[:2])


class TestComposition:
    def test_grid_search_over_a_pipeline(self, three_vs_five):
        """GridSearchCV tunes the bandwidth of a scaler + kernel SVC pipeline."""
        X, y, Xt, yt = three_vs_five
        pipe = Pipeline([("scale", MinMaxScaler((0, np.pi))), ("svc", QuantumKernelSVC())])
        search = GridSearchCV(pipe, {"svc__bandwidth": [0.05, 0.3, 3.0]}, cv=3).fit(X, y)
        assert search.best_params_["svc__bandwidth"] in (0.05, 0.3)
        assert search.score(Xt, yt) > 0.85

    def test_grid_search_over_a_qnn(self, three_vs_five):
        """A QNN in a pipeline goes through GridSearchCV and refits the best setting."""
        X, y, Xt, yt = three_vs_five
        pipe = Pipeline(
            [("scale", MinMaxScaler((0, np.pi))), ("qnn", QNNClassifier(epochs=5, random_state=0))]
        )
        search = GridSearchCV(pipe, {"qnn__n_layers": [1, 2]}, cv=2).fit(X, y)
        assert len(search.cv_results_["params"]) == 2
        assert search.score(Xt, yt) > 0.7


class TestTorchEstimators:
    def test_random_state_fixes_everything(self):
        """The same random_state gives identical probabilities; another gives others."""
        X, y = make_blobs(60, n_features=3, centers=3, random_state=0)
        make = lambda s: DressedQNNClassifier(n_qubits=2, epochs=3, random_state=s)  # noqa: E731
        p0, p0_again, p1 = (make(s).fit(X, y).predict_proba(X) for s in (0, 0, 1))
        np.testing.assert_array_equal(p0, p0_again)
        assert not np.allclose(p0, p1)

    def test_qubits_follow_the_features(self):
        """QNNClassifier takes one qubit per angle feature, log2 of them for amplitudes."""
        X, y = make_blobs(40, n_features=5, centers=2, random_state=0)
        assert QNNClassifier(epochs=1).fit(X, y).config_.n_qubits == 5
        amp = QNNClassifier(encoder="amplitude", epochs=1).fit(X - X.min() + 1, y)
        assert amp.config_.n_qubits == 3

    def test_model_classifier_forwards_options(self):
        """ModelClassifier builds the named registry model with the given config fields."""
        X, y = make_blobs(40, n_features=4, centers=2, random_state=0)
        clf = ModelClassifier(model="mlp", options={"hidden": 3}, epochs=1).fit(X, y)
        assert clf.config_.hidden == 3
        assert count_parameters(clf.model_) == 3 * 4 + 3 + 2 * 3 + 2

    def test_string_labels(self):
        """Labels of any type come back as given, via classes_."""
        X, y = make_blobs(40, n_features=2, centers=2, random_state=0)
        labels = np.array(["cat", "dog"])[y]
        clf = ModelClassifier(model="logreg", epochs=50, lr=0.1, random_state=0).fit(X, labels)
        assert set(clf.predict(X)) <= {"cat", "dog"} and clf.score(X, labels) > 0.9


class TestQuanvClassifier:
    def test_frozen_head_reads_quanv_features(self, tmp_path):
        """Predictions equal the head applied to quanv_features of the scaled images."""
        X, y = load_digits(return_X_y=True)
        X, y = X[:120], y[:120]
        clf = QuanvClassifier(epochs=3, cache_dir=str(tmp_path), random_state=0).fit(X, y)
        images = torch.as_tensor(X / X.max() * np.pi).reshape(-1, 8, 8)
        maps = quanv_features(images, clf.model_.quanv).flatten(1)
        expected = torch.softmax(clf.model_.head(maps), 1).detach().numpy()
        np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-12)
        assert clf.image_size_ == 8 and len(list(tmp_path.glob("quanv-*.npy"))) == 1

    def test_cached_refit_skips_simulation(self, tmp_path, monkeypatch):
        """A second fit on the same data reads the cached features instead of simulating."""
        X, y = load_digits(return_X_y=True)
        X, y = X[:60], y[:60]
        first = QuanvClassifier(epochs=2, cache_dir=str(tmp_path), random_state=0).fit(X, y)
        monkeypatch.setattr(layer_module, "run", lambda *a, **k: pytest.fail("simulated"))
        second = QuanvClassifier(epochs=2, cache_dir=str(tmp_path), random_state=0).fit(X, y)
        pairs = zip(first.model_.head.parameters(), second.model_.head.parameters(), strict=True)
        for a, b in pairs:
            assert torch.equal(a, b)

    def test_rows_are_padded_to_square_images(self):
        """Five features become a zero-padded 3x3 image; the circuit trains when asked."""
        X, y = make_blobs(30, n_features=5, centers=2, random_state=0)
        clf = QuanvClassifier(stride=1, trainable=True, epochs=2, random_state=0).fit(X, y)
        assert clf.image_size_ == 3 and clf.model_.quanv.layer.weights.requires_grad
        assert count_parameters(clf.model_) == 12 + 4 * 2 * 2 * 2 + 2
