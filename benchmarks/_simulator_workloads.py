"""The reference workloads R1 and R2 as qimage circuits, PennyLane QNodes and data.

Used by ``simulator.py``; the TorchQuantum worker rebuilds the same circuits from the spec
(it runs in another venv, without qimage or PennyLane).

* **R1**: 10 qubits, amplitude-encoded random L2-normalised 1024-vectors, six layers of
  PennyLane's StronglyEntanglingLayers pattern (``Rot`` on every wire, then a CNOT ring of
  range 1), ``<Z_0..Z_9>`` as logits, cross-entropy on random labels; gradient with respect
  to the 180 weights.
* **R2**: 8 qubits, 8 features; four blocks of (``RY(x_i)`` on wire ``i``, then one
  StronglyEntangling layer); ``<Z_0..Z_7>``; gradient with respect to the 96 weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Spec:
    """One workload's shape."""

    name: str
    n_qubits: int
    n_layers: int
    amplitude: bool  # R1: amplitude-encoded state; R2: RY(x) encodings per block

    @property
    def n_weights(self) -> int:
        return 3 * self.n_qubits * self.n_layers


R1 = Spec("R1", 10, 6, True)
R2 = Spec("R2", 8, 4, False)


def r1_like(n_qubits: int) -> Spec:
    """The R1 pattern on another register size (for the scaling curve)."""
    return Spec(f"R1-{n_qubits}", n_qubits, 6, True)


def make_data(spec: Spec, batch: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Float64 data: features (amplitudes or angles), weights, labels."""
    gen = torch.Generator().manual_seed(seed)
    if spec.amplitude:
        feats = torch.randn(batch, 2**spec.n_qubits, generator=gen, dtype=torch.float64)
        feats = feats / feats.norm(dim=1, keepdim=True)
    else:
        feats = torch.rand(batch, spec.n_qubits, generator=gen, dtype=torch.float64) * torch.pi
    weights = torch.rand(spec.n_weights, generator=gen, dtype=torch.float64) * 2 * torch.pi
    labels = torch.randint(0, spec.n_qubits, (batch,), generator=gen)
    return {"features": feats, "weights": weights, "labels": labels}


def qimage_circuit(spec: Spec):
    """The workload as a :class:`qimage.sim.Circuit` (weights flattened ``(L, n, 3)``)."""
    from qimage.sim import Circuit, Op, Param

    n, ops = spec.n_qubits, []
    for layer in range(spec.n_layers):
        if not spec.amplitude:
            ops += [Op("RY", q, (Param.input(q),)) for q in range(n)]
        base = 3 * n * layer
        ops += [
            Op("Rot", q, tuple(Param.weight(base + 3 * q + i) for i in range(3))) for q in range(n)
        ]
        ops += [Op("CNOT", (q, (q + 1) % n)) for q in range(n)] if n > 1 else []
    return Circuit(n, ops, n_inputs=0 if spec.amplitude else n, n_weights=spec.n_weights)


def pennylane_qnode(spec: Spec, device: str = "default.qubit", diff_method: str = "backprop"):
    """The workload as a PennyLane QNode (torch interface) returning ``(B, n)`` expvals."""
    import pennylane as qml

    n = spec.n_qubits
    dev = qml.device(device, wires=n)

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def qnode(features, weights):
        w = weights.reshape(spec.n_layers, n, 3)
        if spec.amplitude:
            qml.AmplitudeEmbedding(features, wires=range(n), normalize=False)
            qml.StronglyEntanglingLayers(w, wires=range(n), ranges=[1] * spec.n_layers)
        else:
            for layer in range(spec.n_layers):
                for q in range(n):
                    qml.RY(features[..., q], wires=q)
                qml.StronglyEntanglingLayers(w[layer : layer + 1], wires=range(n), ranges=[1])
        return [qml.expval(qml.PauliZ(q)) for q in range(n)]

    def run(features, weights):
        out = qnode(features, weights)
        return torch.stack(list(out), dim=-1).reshape(features.shape[0], n)

    return run
