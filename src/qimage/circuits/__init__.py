"""The circuit library: encoders and ansatzes as op lists for :mod:`qimage.sim`.

Templates declare their shapes up front (``n_features(n_qubits)`` for encoders,
``weight_shape(n_layers, n_qubits)`` for ansatzes) and fail early with a message that states
the limit. :func:`compose` joins an encoder and an ansatz; :data:`ENCODERS` and
:data:`ANSATZE` map the names used by the command line to the templates.
"""

from __future__ import annotations

from qimage.circuits.ansatz import (
    QCNN,
    BasicEntangler,
    HardwareEfficient,
    Separable,
    StronglyEntangling,
)
from qimage.circuits.compose import QNNCircuit, compose
from qimage.circuits.draw import draw
from qimage.circuits.encoders import (
    AmplitudeEncoder,
    AngleEncoder,
    IQPEncoder,
    ReuploadingEncoder,
    fewest_qubits,
)
from qimage.errors import CircuitError

__all__ = [
    "ANSATZE",
    "ENCODERS",
    "QCNN",
    "AmplitudeEncoder",
    "AngleEncoder",
    "BasicEntangler",
    "HardwareEfficient",
    "IQPEncoder",
    "QNNCircuit",
    "ReuploadingEncoder",
    "Separable",
    "StronglyEntangling",
    "compose",
    "draw",
    "fewest_qubits",
    "make_ansatz",
    "make_encoder",
]

ENCODERS = {
    "angle": AngleEncoder,
    "amplitude": AmplitudeEncoder,
    "iqp": IQPEncoder,
    "reupload": ReuploadingEncoder,
}
"""Encoder classes by name."""

ANSATZE = {
    "strongly_entangling": StronglyEntangling,
    "basic": BasicEntangler,
    "hardware_efficient": HardwareEfficient,
    "qcnn": QCNN,
    "separable": Separable,
}
"""Ansatz classes by name."""


def _make(table: dict, kind: str, name: str, kwargs: dict):
    if name not in table:
        raise CircuitError(f"unknown {kind} {name!r}; choose one of {', '.join(table)}")
    try:
        return table[name](**kwargs)
    except TypeError as err:
        raise CircuitError(f"bad options for {kind} {name!r}: {err}") from None


def make_encoder(name: str, **kwargs):
    """An encoder by name, e.g. ``make_encoder("angle", rotations="YZ")``."""
    return _make(ENCODERS, "encoder", name, kwargs)


def make_ansatz(name: str, **kwargs):
    """An ansatz by name; ``make_ansatz("separable", of="hardware_efficient")`` also works."""
    if name == "separable" and isinstance(kwargs.get("of"), str):
        kwargs = {**kwargs, "of": make_ansatz(kwargs["of"])}
    return _make(ANSATZE, "ansatz", name, kwargs)
