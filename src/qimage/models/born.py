"""The quantum circuit Born machine: a circuit whose measurement statistics are the model.

``n`` pixels are ``n`` qubits. A condition row ``x`` (a class one-hot, or a single 1 for an
unconditional model) picks initial ``RY`` angles ``x @ embedding`` (one trainable angle per
class and qubit: on hardware, per-class parameter values), a hardware-efficient or
strongly-entangling ansatz follows, and the model's output is the probability of each of the
``2^n`` bit strings (pixel ``j`` = qubit ``j``, qubit 0 the most significant bit of the index).

Exact probabilities train by backprop or adjoint; under ``Execution(shots=N)`` the outputs are
shot frequencies and their gradient is the parameter-shift rule hardware would use. Rows of
a batch with equal conditions share one simulation (and, under shots, one set of shots).

Example:
    >>> model = BornMachine(n_qubits=4, n_layers=2, generator=torch.Generator().manual_seed(0))
    >>> p = model(model.inputs(torch.zeros(3, dtype=torch.long)))
    >>> p.shape, bool(torch.allclose(p.sum(1), torch.ones(3)))
    (torch.Size([3, 16]), True)
    >>> born_sample(model, 5, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([5, 4])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from qimage.circuits import AngleEncoder, make_ansatz
from qimage.errors import CircuitError, MemoryLimitError
from qimage.models.layer import QuantumLayer
from qimage.sim import Execution, Probs, memory_limit

__all__ = ["BornMachine", "born_sample", "born_targets", "index_bits"]


def _check_size(n_qubits: int, n_conditions: int) -> None:
    """One line when the ``2^n`` probabilities (a few copies a condition) exceed memory."""
    need = 16 * n_conditions * 2**n_qubits * 8  # complex64 states and float64 vectors
    if need > memory_limit():
        raise MemoryLimitError(
            f"a Born machine on {n_qubits} pixels holds 2^{n_qubits} probabilities a class, "
            f"about {need / 2**30:.1f} GiB, over the {memory_limit() / 2**30:.1f} GiB limit: "
            "pool the images smaller or raise QIMAGE_MAX_MEMORY"
        )


def index_bits(index: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Bit-string indices ``(N,)`` -> pixels ``(N, n_bits)`` uint8, pixel 0 the top bit."""
    shifts = torch.arange(n_bits - 1, -1, -1, device=index.device)
    return ((index.long()[:, None] >> shifts) & 1).to(torch.uint8)


def born_targets(bits: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Training targets ``(N,)`` int64: ``label * 2^n + index`` of each bit string ``(N, n)``.

    The class travels with the bit string so that the objective compares each class's model
    distribution with that class's empirical one (label 0 for unconditional data).
    """
    bits = torch.as_tensor(bits)
    if bits.dim() != 2 or not ((bits == 0) | (bits == 1)).all():
        raise CircuitError("Born machine targets need bit strings (N, n) of 0/1 pixels")
    n = bits.shape[1]
    index = (bits.long() << torch.arange(n - 1, -1, -1)).sum(1)
    labels = torch.zeros_like(index) if labels is None else torch.as_tensor(labels).long()
    return labels * 2**n + index


class BornMachine(nn.Module):
    """Condition rows ``(B, n_conditions)`` -> probabilities ``(B, 2^n_qubits)`` of bit strings.

    Args:
        n_qubits: pixels (= qubits).
        n_layers: ansatz layers.
        ansatz: a name of :data:`qimage.circuits.ANSATZE`.
        n_conditions: classes the model is conditioned on (1: unconditional).
        dtype: state precision (weights are its real counterpart).
        generator: seeds the initial weights.
    """

    def __init__(
        self,
        n_qubits: int,
        n_layers: int = 4,
        ansatz: str = "hardware_efficient",
        n_conditions: int = 1,
        *,
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        _check_size(n_qubits, n_conditions)
        self.n_qubits, self.n_conditions = n_qubits, n_conditions
        angles = math.pi * torch.rand(n_conditions, n_qubits, generator=generator)
        self.embedding = nn.Parameter(angles.to(dtype.to_real()))
        self.circuit = QuantumLayer(
            AngleEncoder("Y"),
            make_ansatz(ansatz),
            n_qubits,
            n_layers,
            n_qubits,
            measurement=Probs(),
            dtype=dtype,
            generator=generator,
        )

    def inputs(self, labels: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        """Condition rows for ``labels`` ``(B,)`` (one-hot), or ``n`` rows of ones when the
        model is unconditional; a label it was not conditioned on is one clear error."""
        dtype = self.embedding.dtype
        if self.n_conditions == 1:
            count = n if labels is None else len(labels)
            return torch.ones(count if count is not None else 1, 1, dtype=dtype)
        if labels is None:
            raise CircuitError(
                f"this Born machine is conditioned on classes 0..{self.n_conditions - 1}: "
                "give a label"
            )
        labels = torch.as_tensor(labels).long().reshape(-1)
        bad = labels[(labels < 0) | (labels >= self.n_conditions)]
        if bad.numel():
            raise CircuitError(
                f"label {int(bad[0])} is not one the model was conditioned on "
                f"(0..{self.n_conditions - 1})"
            )
        return nn.functional.one_hot(labels, self.n_conditions).to(dtype)

    def forward(self, x: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        """Probabilities ``(B, 2^n)`` for condition rows ``x`` ``(B, n_conditions)``; an
        unconditional model reads only the number of rows of ``x`` (any width)."""
        if self.n_conditions == 1 and x.dim() == 2:
            x = torch.ones(len(x), 1, dtype=self.embedding.dtype, device=x.device)
        if x.dim() != 2 or x.shape[1] != self.n_conditions:
            raise CircuitError(
                f"BornMachine expects condition rows (B, {self.n_conditions}), got {tuple(x.shape)}"
            )
        rows, inverse = torch.unique(x, dim=0, return_inverse=True)
        angles = rows.to(self.embedding) @ self.embedding
        p = self.circuit(angles, execution=execution)
        if len(rows) == 1:  # a view: a large batch of one condition costs no memory
            return p.expand(len(x), -1)
        return p[inverse.to(angles.device)]


@torch.no_grad()
def born_sample(
    model: BornMachine,
    n: int,
    label: int | None = None,
    *,
    execution: Execution | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` bit strings ``(n, n_qubits)`` uint8 drawn from the model (class ``label``).

    Exact runs draw from the probabilities with ``torch.multinomial(generator=...)``; an
    execution with shots measures the circuit ``n`` times as hardware would (its seed, or
    generator, fixes the shots; its ``shots`` value is replaced by ``n``).
    """
    if n < 1:
        raise CircuitError(f"the number of samples must be >= 1, got {n}")
    if label is not None and model.n_conditions == 1:
        raise CircuitError("this Born machine was not conditioned on classes: drop the label")
    x = model.inputs(None if label is None else torch.tensor([label]))
    if execution is None or execution.shots is None:
        p = model(x, execution=execution)[0].double().clamp_min(0)
        index = torch.multinomial(p.cpu(), n, replacement=True, generator=generator)
    else:
        freq = model(x, execution=execution.replace(shots=n))[0].double().cpu()
        counts = (freq * n).round().long()
        index = torch.repeat_interleave(torch.arange(len(counts)), counts)
        shuffle = generator if generator is not None else execution.rng("cpu")
        index = index[torch.randperm(len(index), generator=shuffle)]
    return index_bits(index, model.n_qubits)
