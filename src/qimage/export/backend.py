"""Run a trained model's circuits on an external PennyLane device (``--backend``).

:class:`PennyLaneModel` wraps a model so that every :class:`qimage.models.QuantumLayer` is
executed on a PennyLane device instead of qimage's simulator; the classical parts (dressed
in-layer, readout, quanvolution head) run unchanged on what the device measured. Each row a
layer receives is bound into the same circuit :func:`qimage.export.capture_circuits` exports
(amplitude vectors become Möttönen gates, as on hardware), and the rows of one call go to
the device as one batch of tapes, which a remote device can submit as a single job.

PennyLane is imported only when a device is opened. Inference only: no gradients flow.

Example:
    >>> import torch
    >>> from qimage.circuits import AngleEncoder, BasicEntangler
    >>> from qimage.models import QNN
    >>> model = QNN(AngleEncoder(), BasicEntangler(), 2, 1, 2, 2)
    >>> run_on_pennylane(model, torch.rand(3, 2)).shape  # doctest: +SKIP
    torch.Size([3, 2])
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from qimage.errors import CircuitError
from qimage.export.model import bind_layer
from qimage.export.targets import pennylane_ops
from qimage.models import QuantumLayer
from qimage.sim import Expval, ExpvalZ, Probs

__all__ = ["PREFIX", "PennyLaneModel", "open_device", "parse_backend", "run_on_pennylane"]

PREFIX = "pennylane:"

# Device-name prefix -> the pip package that provides those devices.
PLUGINS = {
    "lightning.": "pennylane-lightning",
    "qiskit.": "pennylane-qiskit",
    "braket.": "amazon-braket-pennylane-plugin",
    "cirq.": "pennylane-cirq",
    "ionq.": "pennylane-ionq",
}

# How a device takes its random seed; devices not listed here (hardware) take none.
SEED_OPTIONS = {"default.": "seed", "lightning.": "seed", "qiskit.aer": "seed_simulator"}


def parse_backend(spec: str | None) -> str | None:
    """The device name of ``"pennylane:<device>"``, or None for qimage's own simulator.

    Example:
        >>> parse_backend("pennylane:lightning.qubit")
        'lightning.qubit'
    """
    if spec is None or spec == "qimage":
        return None
    name = spec.removeprefix(PREFIX).strip()
    if not spec.startswith(PREFIX) or not name:
        raise CircuitError(
            f"unknown backend {spec!r}; use qimage or pennylane:<device>, "
            "e.g. pennylane:default.qubit, pennylane:lightning.qubit or pennylane:qiskit.aer"
        )
    return name


def _missing(name: str, qml) -> CircuitError:
    plugin = next((pkg for prefix, pkg in PLUGINS.items() if name.startswith(prefix)), None)
    if plugin is not None:
        return CircuitError(f"PennyLane device {name!r} is not installed: pip install {plugin}")
    known = ", ".join(sorted(qml.plugin_devices))
    return CircuitError(f"unknown PennyLane device {name!r}; installed devices: {known}")


def open_device(name: str, wires: int, seed: int | None = None):
    """``qml.device(name, wires=wires)``, seeded when the device takes a seed.

    Raises:
        CircuitError: PennyLane or the device's plugin is not installed, or the device
            cannot be opened by name alone (``qiskit.remote`` needs a backend object: make
            the device yourself and pass it to :class:`PennyLaneModel`).
    """
    try:
        import pennylane as qml
    except ImportError:
        raise CircuitError(
            "running on a PennyLane device needs PennyLane: pip install pennylane"
        ) from None
    if name not in qml.plugin_devices:
        raise _missing(name, qml)
    option = next((key for prefix, key in SEED_OPTIONS.items() if name.startswith(prefix)), None)
    options = {option: seed} if option and seed is not None else {}
    try:
        return qml.device(name, wires=wires, **options)
    except Exception as err:  # plugins raise anything from ImportError to IBM account errors
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CircuitError(f"cannot open PennyLane device {name!r}: {first}") from err


def _measurements(measurement, n_qubits: int) -> list:
    """The PennyLane measurements equal to a qimage measurement object."""
    import pennylane as qml

    if isinstance(measurement, ExpvalZ):
        return [qml.expval(qml.Z(w)) for w in measurement.wires or range(n_qubits)]
    if isinstance(measurement, Probs):
        return [qml.probs(wires=list(measurement.wires or range(n_qubits)))]
    if isinstance(measurement, Expval):
        return [qml.expval(qml.pauli.string_to_pauli_word(w.upper())) for w in measurement.words]
    raise CircuitError(f"cannot run the measurement {measurement!r} on a PennyLane device")


def _open_all(device, widths: set[int], seed: int | None) -> dict:
    """One device per register width (an opened device serves them all)."""
    if not isinstance(device, str):
        return dict.fromkeys(widths, device)
    ordered = sorted(widths)
    seeds = [None] * len(ordered)
    if seed is not None:  # independent streams for registers of different widths
        seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(len(ordered))]
    return {n: open_device(device, n, s) for n, s in zip(ordered, seeds, strict=True)}


class PennyLaneModel(nn.Module):
    """``model`` with its quantum layers run on a PennyLane device: ``(B, F)`` -> ``(B, C)``.

    Args:
        model: a qimage model with at least one :class:`qimage.models.QuantumLayer`.
        device: a device name (``"default.qubit"``, ``"lightning.qubit"``, ``"qiskit.aer"``)
            or an opened PennyLane device (e.g. ``qiskit.remote`` on an IBM backend).
        shots: shots per circuit, or None for exact values (when the device allows).
        seed: seeds the devices opened by name (the same seed gives the same samples).
    """

    def __init__(self, model: nn.Module, device="default.qubit", *, shots=None, seed=None):
        super().__init__()
        if shots is not None and shots < 1:
            raise CircuitError(f"shots must be >= 1, got {shots}")
        self.model, self.device, self.shots = model, device, shots
        self.layers = [m for m in model.modules() if isinstance(m, QuantumLayer)]
        if not self.layers:
            raise CircuitError("the model has no quantum layer to run on a PennyLane device")
        # Opened now, so that a missing plugin fails before any work, and reused for every
        # batch, so that shots keep drawing from one seeded stream.
        self._devices = _open_all(device, {layer.qc.n_qubits for layer in self.layers}, seed)

    def execute(self, layer: QuantumLayer, rows: torch.Tensor) -> np.ndarray:
        """The layer's measurements ``(R, K)`` for its inputs ``rows`` ``(R, F)``, on the device."""
        import pennylane as qml

        n = layer.qc.n_qubits
        measurements = _measurements(layer.measurement, n)
        tapes = [
            qml.tape.QuantumScript(
                pennylane_ops(bind_layer(self.model, layer, rows[i : i + 1], 0)),
                measurements,
                shots=self.shots,
            )
            for i in range(rows.shape[0])
        ]
        results = qml.execute(tapes, self._devices[n])
        return np.stack([np.asarray(r, dtype=np.float64).reshape(-1) for r in results])

    def _replace(self, layer: QuantumLayer, args, out: torch.Tensor) -> torch.Tensor:
        # A forward hook: the layer's own simulation has run (cheap next to any external
        # device) and only its output's shape and dtype are kept.
        rows = args[0].reshape(-1, layer.n_features)
        measured = torch.from_numpy(self.execute(layer, rows))
        return measured.reshape(out.shape).to(out.dtype)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hooks = [layer.register_forward_hook(self._replace) for layer in self.layers]
        try:
            return self.model(x)
        finally:
            for hook in hooks:
                hook.remove()


def run_on_pennylane(model, x, device="default.qubit", shots=None, seed=None) -> torch.Tensor:
    """``model(x)`` with its circuits run on a PennyLane device: ``(B, F)`` -> ``(B, C)``.

    One call opens its own devices; keep a :class:`PennyLaneModel` to run many batches.
    """
    return PennyLaneModel(model, device, shots=shots, seed=seed).eval()(x)
