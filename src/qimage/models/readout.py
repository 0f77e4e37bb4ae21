"""Readouts: from measured qubits to class logits, with a trainable scale and bias only.

* :class:`ExpvalReadout`: ``logit_c = scale_c * <Z_c> + bias_c``, one qubit per class;
* :class:`ProbsReadout`: measure ``k`` qubits (all output wires by default, at least
  ``ceil(log2 C)``); basis outcome ``j`` votes for class ``j mod C``;
  ``logit_c = scale_c * log(p_c) + bias_c``. With scale 1 and bias 0 the
  softmax is exactly the measured class distribution, so training maximises the probability
  that a measurement names the right class.

Both keep the model *quantum-only*: the readout cannot compute features of its own.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from qimage.errors import CircuitError
from qimage.sim import ExpvalZ, Probs

__all__ = ["READOUTS", "ExpvalReadout", "ProbsReadout"]

_MAX_WIRES = 12  # the default probs readout measures at most this many wires (4096 outcomes)
_EPS = 1e-9  # keeps log(p) finite when a class group has (numerically) zero probability


class ExpvalReadout(nn.Module):
    """``<Z>`` of one output wire per class, affinely scaled: ``(B, C)`` -> ``(B, C)``."""

    def __init__(self, n_classes: int, output_wires: tuple[int, ...], init_scale: float = 4.0):
        super().__init__()
        if n_classes > len(output_wires):
            raise CircuitError(
                f"the expval readout needs one output qubit per class: {n_classes} classes but "
                f"{len(output_wires)} output qubits; use readout='probs' or more qubits"
            )
        self.measurement = ExpvalZ(tuple(output_wires[:n_classes]))
        self.scale = nn.Parameter(torch.full((n_classes,), float(init_scale)))
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, measured: torch.Tensor) -> torch.Tensor:
        return self.scale * measured + self.bias


class ProbsReadout(nn.Module):
    """Probabilities of ``k`` output wires grouped into classes: ``(B, 2^k)`` -> ``(B, C)``."""

    def __init__(
        self,
        n_classes: int,
        output_wires: tuple[int, ...],
        n_wires: int | None = None,
        init_scale: float = 1.0,
    ):
        super().__init__()
        least = max(1, math.ceil(math.log2(n_classes)))
        k = min(len(output_wires), _MAX_WIRES) if n_wires is None else n_wires
        if not least <= k <= len(output_wires):
            raise CircuitError(
                f"the probs readout of {n_classes} classes measures {least} to "
                f"{len(output_wires)} output qubits, got {k}"
            )
        self.measurement = Probs(tuple(output_wires[:k]))
        groups = torch.zeros(2**k, n_classes)
        groups[torch.arange(2**k), torch.arange(2**k) % n_classes] = 1
        self.register_buffer("groups", groups, persistent=False)
        self.scale = nn.Parameter(torch.full((n_classes,), float(init_scale)))
        self.bias = nn.Parameter(torch.zeros(n_classes))

    def forward(self, measured: torch.Tensor) -> torch.Tensor:
        p = measured @ self.groups.to(measured.dtype)
        return self.scale * torch.log(p.clamp_min(_EPS)) + self.bias


READOUTS = {"expval": ExpvalReadout, "probs": ProbsReadout}
"""Readout classes by name."""
