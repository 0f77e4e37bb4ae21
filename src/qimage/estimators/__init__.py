"""scikit-learn estimators for qimage's models: ``fit`` / ``predict`` / ``predict_proba`` /
``score``, usable in ``Pipeline`` and ``GridSearchCV``.

* :class:`QNNClassifier`: the quantum-only QNN (features are used as angles as given);
* :class:`DressedQNNClassifier`: linear layer, circuit, linear layer;
* :class:`QuanvClassifier`: quanvolution + head on image rows;
* :class:`ModelClassifier`: any model of :data:`qimage.models.REGISTRY` by name;
* :class:`QuantumKernelSVC`: scikit-learn's ``SVC(kernel="precomputed")`` on a quantum kernel;
* :class:`QuantumKernelPCA`: kernel PCA on a quantum kernel (a transformer);
* :class:`BornMachine`: the quantum circuit Born machine (generative, on bit strings), and
  its classical baselines :class:`IndependentBits`, :class:`BitRBM` and :class:`MADE`;
* :class:`LocalPauliFeatures` and :func:`local_observable_classifier`: what a classical
  learner can measure of quantum states (exact or classical-shadow local observables).

They follow scikit-learn's developer guide: ``__init__`` only stores its keyword arguments,
validation happens in ``fit``, everything learned lives in attributes ending in ``_``, and
``random_state`` fixes initial weights, batch order and shot noise. The neural models train
through :func:`qimage.train.fit`, the loop every qimage model uses, without a validation
split (tune with ``GridSearchCV`` instead). They compute in double precision
(``complex128`` states) so that a sample's prediction does not depend on its batch.

Example:
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DressedQNNClassifier(n_qubits=3, epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
"""

from __future__ import annotations

from qimage.estimators.born import BornMachine
from qimage.estimators.generative import MADE, BitRBM, IndependentBits
from qimage.estimators.kernel_pca import QuantumKernelPCA
from qimage.estimators.kernel_svc import QuantumKernelSVC
from qimage.estimators.neural import (
    DressedQNNClassifier,
    ModelClassifier,
    QNNClassifier,
    QuanvClassifier,
)
from qimage.estimators.observables import LocalPauliFeatures, local_observable_classifier

__all__ = [
    "MADE",
    "BitRBM",
    "BornMachine",
    "DressedQNNClassifier",
    "IndependentBits",
    "LocalPauliFeatures",
    "ModelClassifier",
    "QNNClassifier",
    "QuantumKernelPCA",
    "QuantumKernelSVC",
    "QuanvClassifier",
    "local_observable_classifier",
]
