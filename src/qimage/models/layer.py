"""``QuantumLayer``: any encoder + ansatz + measurement as a ``torch.nn.Module``.

It plays the part of PennyLane's ``TorchLayer`` but runs the whole batch through qimage's
engine in one call. Inputs of shape ``(..., F)`` are flattened to ``(B, F)``, simulated, and
given back as ``(..., K)``; the module holds the weights and nothing else.

Example:
    >>> import torch
    >>> from qimage.circuits import AngleEncoder, StronglyEntangling
    >>> layer = QuantumLayer(AngleEncoder(), StronglyEntangling(), n_qubits=4, n_layers=2)
    >>> layer(torch.rand(5, 3, 4)).shape
    torch.Size([5, 3, 4])
"""

from __future__ import annotations

import torch
from torch import nn

from qimage.circuits import compose
from qimage.errors import CircuitError
from qimage.sim import GRADIENT_METHODS, ExpvalZ, run

__all__ = ["QuantumLayer"]


class QuantumLayer(nn.Module):
    """A parametrised circuit as a layer: features ``(..., F)`` -> measurements ``(..., K)``.

    Args:
        encoder, ansatz: templates from :mod:`qimage.circuits`.
        n_qubits, n_layers: circuit size.
        n_features: features per sample (default: the encoder's limit on ``n_qubits``).
        measurement: a :mod:`qimage.sim` measurement; ``<Z>`` of the ansatz's output wires
            by default.
        diff_method: ``"backprop"``, ``"adjoint"`` or ``"parameter-shift"``.
        shots: ``None`` for exact outputs, else shots per estimate (drawn from
            ``shot_generator`` when set, else from PyTorch's global generator).
        noise: a :class:`qimage.sim.NoiseModel` to simulate, or ``None`` for an ideal device.
        dtype: ``torch.complex64`` or ``torch.complex128`` (state precision).
        generator: seeds the initial weights (and is not kept).
    """

    def __init__(
        self,
        encoder,
        ansatz,
        n_qubits: int,
        n_layers: int,
        n_features: int | None = None,
        *,
        measurement=None,
        diff_method: str = "adjoint",
        shots: int | None = None,
        noise=None,
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if diff_method not in GRADIENT_METHODS:
            raise CircuitError(
                f"unknown diff_method {diff_method!r}; choose one of {GRADIENT_METHODS}"
            )
        n_features = encoder.n_features(n_qubits) if n_features is None else n_features
        self.qc = compose(encoder, ansatz, n_qubits, n_layers, n_features)
        self.measurement = measurement or ExpvalZ(self.qc.output_wires)
        self.n_outputs = self.measurement.n_outputs(n_qubits)
        self.diff_method, self.shots, self.noise, self.dtype = diff_method, shots, noise, dtype
        self.shot_generator: torch.Generator | None = None
        self.weights = nn.Parameter(self.qc.init_weights(generator).to(dtype.to_real()))

    @property
    def n_features(self) -> int:
        return self.qc.n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.n_features:
            raise CircuitError(
                f"QuantumLayer expects {self.n_features} features per sample, got {x.shape[-1]}"
            )
        lead = x.shape[:-1]
        flat = x.reshape(-1, self.n_features).to(self.weights.dtype)
        inputs = self.qc.prepare(flat) if self.qc.circuit.n_inputs else None
        out = run(
            self.qc.circuit,
            inputs,
            self.weights,
            measurement=self.measurement,
            diff_method=self.diff_method,
            shots=self.shots,
            generator=self.shot_generator,
            state=self.qc.initial_state(flat, self.dtype),
            dtype=self.dtype,
            noise=self.noise,
        )
        return out.reshape(*lead, self.n_outputs).to(x.dtype)  # like any layer: dtype in = out

    def extra_repr(self) -> str:
        qc = self.qc
        return (
            f"{qc.encoder.name} -> {qc.ansatz.name} x{qc.n_layers} on {qc.n_qubits} qubits, "
            f"{qc.n_weights} weights, diff_method={self.diff_method!r}, shots={self.shots}"
            + (f", noise={self.noise}" if self.noise is not None else "")
        )
