"""``QuantumLayer``: any encoder + ansatz + measurement as a ``torch.nn.Module``.

It plays the part of PennyLane's ``TorchLayer`` but runs the whole batch through qimage's
engine in one call. Inputs of shape ``(..., F)`` are flattened to ``(B, F)``, simulated, and
given back as ``(..., K)``; the module holds the weights and nothing else.

Example:
    >>> import torch
    >>> from qimage.circuits import AngleEncoder, StronglyEntangling
    >>> from qimage.sim import Execution
    >>> layer = QuantumLayer(AngleEncoder(), StronglyEntangling(), n_qubits=4, n_layers=2)
    >>> layer(torch.rand(5, 3, 4)).shape
    torch.Size([5, 3, 4])
    >>> layer(torch.rand(5, 4), execution=Execution(shots=100, seed=0)).shape
    torch.Size([5, 4])
"""

from __future__ import annotations

import torch
from torch import nn

from qimage.circuits import compose
from qimage.errors import CircuitError
from qimage.sim import Execution, ExpvalZ, run
from qimage.sim.execute import gradient_method

__all__ = ["QuantumLayer", "device_of", "gradient_methods"]


def device_of(module: nn.Module, execution: Execution | None) -> torch.device:
    """Where ``module`` runs: the execution's device, else that of its first parameter."""
    if execution is not None and execution.device is not None:
        return execution.device
    first = next(module.parameters(), None)
    return torch.device("cpu") if first is None else first.device


def gradient_methods(model: nn.Module, batch: int, execution: Execution | None = None) -> list:
    """The diff method of each :class:`QuantumLayer` in ``model`` for ``batch`` rows per
    call under ``execution`` (the automatic choice resolved: backprop or adjoint)."""
    layers = [m for m in model.modules() if isinstance(m, QuantumLayer)]
    return [layer.gradient_method(batch, execution) for layer in layers]


class QuantumLayer(nn.Module):
    """A parametrised circuit as a layer: features ``(..., F)`` -> measurements ``(..., K)``.

    The module holds the circuit and its weights only. How it runs (gradient method, shots,
    noise, seed) is an :class:`qimage.sim.Execution` passed to each call; the state precision
    follows the weights (``.double()`` simulates in complex128) and the state lives on the
    weights' device (``.to("cuda")``), unless the execution says otherwise.

    Args:
        encoder, ansatz: templates from :mod:`qimage.circuits`.
        n_qubits, n_layers: circuit size.
        n_features: features per sample (default: the encoder's limit on ``n_qubits``).
        measurement: a :mod:`qimage.sim` measurement; ``<Z>`` of the ansatz's output wires
            by default.
        dtype: ``torch.complex64`` or ``torch.complex128``: the initial state precision
            (weights are float32 or float64 to match).
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
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        n_features = encoder.n_features(n_qubits) if n_features is None else n_features
        self.qc = compose(encoder, ansatz, n_qubits, n_layers, n_features)
        self.measurement = measurement or ExpvalZ(self.qc.output_wires)
        self.n_outputs = self.measurement.n_outputs(n_qubits)
        self.weights = nn.Parameter(self.qc.init_weights(generator).to(dtype.to_real()))

    @property
    def n_features(self) -> int:
        return self.qc.n_features

    @property
    def dtype(self) -> torch.dtype:
        """The state precision of a default execution: complex of the weights' dtype."""
        return Execution().state_dtype(self.weights.dtype)

    def gradient_method(self, batch: int, execution: Execution | None = None) -> str:
        """The diff method a call on ``batch`` rows uses under ``execution``: the automatic
        default resolves to backprop where its stored states fit the memory budget, else
        adjoint (:func:`qimage.sim.execute.gradient_method`)."""
        execution = execution or Execution()
        dtype = execution.state_dtype(self.weights.dtype)
        return gradient_method(self.qc.circuit, batch, execution.gradient_method, dtype)

    def simulate(self, circuit, inputs, state, execution: Execution | None) -> torch.Tensor:
        """The one call into the engine: ``circuit`` on ``inputs``/``state`` under
        ``execution``, on the weights' device (or the execution's)."""
        execution = execution or Execution()
        weights = self.weights.to(device_of(self, execution))
        options = execution.run_options(weights.dtype, weights.device)
        if state is not None:
            state = state.to(device=weights.device, dtype=options["dtype"])
        if inputs is not None:
            inputs = inputs.to(device=weights.device, dtype=weights.dtype)
        return run(circuit, inputs, weights, measurement=self.measurement, state=state, **options)

    def forward(self, x: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        if x.shape[-1] != self.n_features:
            raise CircuitError(
                f"QuantumLayer expects {self.n_features} features per sample, got {x.shape[-1]}"
            )
        lead = x.shape[:-1]
        device = device_of(self, execution)
        flat = x.reshape(-1, self.n_features).to(device=device, dtype=self.weights.dtype)
        inputs = self.qc.prepare(flat) if self.qc.circuit.n_inputs else None
        dtype = (execution or Execution()).state_dtype(self.weights.dtype)
        state = self.qc.initial_state(flat, dtype)
        out = self.simulate(self.qc.circuit, inputs, state, execution)
        return out.reshape(*lead, self.n_outputs).to(x.dtype)  # like any layer: dtype in = out

    def extra_repr(self) -> str:
        qc = self.qc
        return (
            f"{qc.encoder.name} -> {qc.ansatz.name} x{qc.n_layers} on {qc.n_qubits} qubits, "
            f"{qc.n_weights} weights"
        )
