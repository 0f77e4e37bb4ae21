"""Quantum kernels: the fidelity kernel and the projected quantum kernel, with shot noise.

Both start from the encoded states ``|psi(x)>`` of any fixed encoder (IQP/ZZ, angle,
amplitude), computed by the engine as **N simulations**, never N^2:

* fidelity kernel ``K(x, x') = |<psi(x)|psi(x')>|^2``: one batched inner-product matrix
  (a GEMM ``S1^* S2^T``, in row chunks to bound memory);
* projected quantum kernel (Huang et al. 2021, arXiv:2011.01938)
  ``K(x, x') = exp(-gamma * sum_q ||rho_q(x) - rho_q(x')||_F^2)`` on the one-qubit reduced
  states ``rho_q = (I + <X_q> X + <Y_q> Y + <Z_q> Z) / 2``, so
  ``||rho_q - rho_q'||_F^2 = sum_P (<P_q> - <P_q>')^2 / 2``.

``bandwidth`` scales the features before encoding, ``x -> bandwidth * x`` (Shaydulin and
Wild 2022): small bandwidths keep kernel values away from exponential concentration.

Shots: with ``shots``, the fidelity kernel is the *compute-uncompute* estimate, the
frequency of the all-zero outcome of ``U(x')^dagger U(x)|0>`` over ``shots`` runs. That
outcome has probability exactly ``K(x, x')``, so the estimate is ``Binomial(shots, K) / shots``
(drawn here from the exact ``K`` with a seeded generator): unbiased, variance
``K (1 - K) / shots``. On a symmetric training Gram the diagonal is exactly 1 and each pair is
drawn once. The projected kernel estimates each ``<P_q>`` from ``shots`` single-qubit
measurements, ``2 * Binomial(shots, (1 + <P_q>) / 2) / shots - 1`` (variance
``(1 - <P_q>^2) / shots``).

Example:
    >>> import torch
    >>> kernel = FidelityKernel("iqp", bandwidth=0.5)
    >>> X = torch.rand(5, 3)
    >>> K = kernel(X)                     # (5, 5), ones on the diagonal
    >>> bool(torch.allclose(K.diagonal(), torch.ones(5, dtype=K.dtype), atol=1e-5))
    True
"""

from __future__ import annotations

import math

import torch

from qimage.circuits import fewest_qubits, make_encoder
from qimage.errors import CircuitError
from qimage.sim import Circuit, evolve

__all__ = [
    "FidelityKernel",
    "ProjectedKernel",
    "encoded_states",
    "fewest_qubits",
    "fidelity_gram",
    "pauli_expectations",
    "projected_gram",
    "sample_fidelity",
]

_CHUNK = 2048  # rows per GEMM / per engine call: (2048 x 2^n) complex64 is 16 MB at 10 qubits


def _encoder(encoder, options: dict | None):
    enc = make_encoder(encoder, **(options or {})) if isinstance(encoder, str) else encoder
    if getattr(enc, "reuploads", False):
        raise CircuitError("a kernel needs a fixed feature map; re-uploading has trainable weights")
    return enc


def encoded_states(
    X: torch.Tensor,
    encoder="iqp",
    n_qubits: int | None = None,
    *,
    bandwidth: float = 1.0,
    encoder_options: dict | None = None,
    dtype: torch.dtype = torch.complex64,
) -> torch.Tensor:
    """``|psi(bandwidth * x)>`` for each row of ``X`` ``(N, F)``: ``(N, 2^n)`` complex.

    ``encoder`` is a name of :data:`qimage.circuits.ENCODERS` or an encoder object;
    ``n_qubits`` defaults to the fewest that hold ``F`` features.

    Example:
        >>> encoded_states(torch.zeros(2, 3), "angle").shape
        torch.Size([2, 8])
    """
    enc = _encoder(encoder, encoder_options)
    X = torch.as_tensor(X).to(dtype.to_real())
    if X.dim() != 2:
        raise CircuitError(f"kernel features must have shape (N, F), got {tuple(X.shape)}")
    n_features = X.shape[1]
    n = fewest_qubits(enc, n_features) if n_qubits is None else n_qubits
    enc.check(n_features, n)
    circuit = Circuit(n, enc.ops(n, n_features), n_inputs=enc.n_inputs(n_features))
    chunks = []
    for start in range(0, X.shape[0], _CHUNK):
        x = bandwidth * X[start : start + _CHUNK]
        state = enc.initial_state(x, n, dtype)
        if circuit.ops:  # amplitude encoding has none: its prepared state is final
            inputs = enc.prepare(x) if circuit.n_inputs else None
            state = evolve(circuit, inputs, state=state, dtype=dtype)
        chunks.append(state.reshape(x.shape[0], -1))
    return torch.cat(chunks) if chunks else torch.zeros(0, 2**n, dtype=dtype)


def fidelity_gram(S1: torch.Tensor, S2: torch.Tensor | None = None) -> torch.Tensor:
    """``|S1^* S2^T|^2``: fidelities of states ``(N1, D)`` and ``(N2, D)``, ``(N1, N2)`` float64.

    One GEMM per chunk of rows. ``S2=None`` means ``S1`` (a training Gram).
    """
    S2 = S1 if S2 is None else S2
    right = S2.transpose(0, 1)
    rows = [(S1[i : i + _CHUNK].conj() @ right).abs().square() for i in range(0, len(S1), _CHUNK)]
    out = torch.cat(rows) if rows else torch.zeros(0, len(S2), dtype=S1.real.dtype)
    return out.to(torch.float64)


def pauli_expectations(states: torch.Tensor) -> torch.Tensor:
    """``<X_q>, <Y_q>, <Z_q>`` of every qubit: states ``(N, 2^n)`` -> ``(N, n, 3)`` real.

    Batched from the amplitudes: with ``a``/``b`` the amplitudes where qubit ``q`` is 0/1,
    ``<Z> = |a|^2 - |b|^2``, ``<X> + i <Y> = 2 sum conj(a) b``.
    """
    n_states, dim = states.shape
    n = dim.bit_length() - 1
    out = []
    for q in range(n):
        halves = states.reshape(n_states, 2**q, 2, 2 ** (n - q - 1))
        a, b = halves[:, :, 0], halves[:, :, 1]
        cross = 2 * (a.conj() * b).sum(dim=(1, 2))
        z = (a.abs().square() - b.abs().square()).sum(dim=(1, 2))
        out.append(torch.stack([cross.real, cross.imag, z], dim=1))
    return torch.stack(out, dim=1)


def projected_gram(F1: torch.Tensor, F2: torch.Tensor | None = None, gamma: float = 1.0):
    """``exp(-gamma * sum_q ||rho_q - rho_q'||_F^2)`` from Pauli expectations ``(N, n, 3)``.

    Returns ``(N1, N2)`` float64.
    """
    a = F1.reshape(len(F1), -1).double()
    b = a if F2 is None else F2.reshape(len(F2), -1).double()
    sq = (a.square().sum(1)[:, None] + b.square().sum(1)[None, :] - 2 * a @ b.T).clamp_min(0)
    if F2 is None:
        sq.fill_diagonal_(0.0)  # exact, where the expansion above leaves rounding
    return torch.exp(-gamma * sq / 2)


def sample_fidelity(
    K: torch.Tensor,
    shots: int,
    generator: torch.Generator | None = None,
    *,
    symmetric: bool = False,
) -> torch.Tensor:
    """Compute-uncompute shot estimate of exact fidelities ``K``: ``Binomial(shots, K) / shots``.

    With ``symmetric`` (a training Gram of ``x`` against itself) each pair is sampled once,
    mirrored, and the diagonal kept at its exact value 1. Variance ``K (1 - K) / shots``.
    """
    if not isinstance(shots, int) or shots < 1:
        raise CircuitError(f"shots must be a positive integer, got {shots!r}")
    p = K.double().clamp(0.0, 1.0)
    counts = torch.binomial(torch.full_like(p, float(shots)), p, generator=generator)
    est = counts / shots
    if symmetric:
        upper = torch.triu(est, diagonal=1)
        est = upper + upper.T + torch.eye(len(est), dtype=est.dtype)
    return est


def _sample_pauli(F: torch.Tensor, shots: int, generator) -> torch.Tensor:
    p = ((1 + F.double()) / 2).clamp(0.0, 1.0)
    return 2 * torch.binomial(torch.full_like(p, float(shots)), p, generator=generator) / shots - 1


class FidelityKernel:
    """The fidelity kernel of an encoder: ``kernel(X1, X2)`` -> Gram ``(N1, N2)`` float64.

    Args:
        encoder: a name (``"iqp"``, ``"angle"``, ``"amplitude"``) or an encoder object.
        n_qubits: register size (default: the fewest that hold the features).
        bandwidth: features are scaled by it before encoding.
        encoder_options: keyword arguments of the encoder, e.g. ``{"reps": 2}``.
        dtype: state precision.

    ``features(X)`` returns the states; ``gram(F1, F2)`` the kernel between stored features,
    so a classifier keeps its training states and computes only test states at prediction.
    """

    def __init__(
        self,
        encoder="iqp",
        n_qubits: int | None = None,
        *,
        bandwidth: float = 1.0,
        encoder_options: dict | None = None,
        dtype: torch.dtype = torch.complex64,
    ):
        self.encoder = _encoder(encoder, encoder_options)
        self.n_qubits, self.bandwidth, self.dtype = n_qubits, bandwidth, dtype

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Encoded states ``(N, 2^n)``."""
        return encoded_states(
            X, self.encoder, self.n_qubits, bandwidth=self.bandwidth, dtype=self.dtype
        )

    def gram(self, F1, F2=None, *, shots: int | None = None, generator=None) -> torch.Tensor:
        """Exact fidelities, or their ``shots`` estimate (see :func:`sample_fidelity`)."""
        K = fidelity_gram(F1, F2)
        if shots is None:
            return K
        return sample_fidelity(K, shots, generator, symmetric=F2 is None)

    def __call__(self, X1, X2=None, *, shots: int | None = None, generator=None) -> torch.Tensor:
        F1 = self.features(X1)
        F2 = None if X2 is None else self.features(X2)
        return self.gram(F1, F2, shots=shots, generator=generator)


class ProjectedKernel(FidelityKernel):
    """The projected quantum kernel: a Gaussian of width ``gamma`` on one-qubit reduced states.

    Arguments as :class:`FidelityKernel`, plus ``gamma``. ``features(X)`` are the Pauli
    expectations ``(N, n, 3)``; with ``shots``, :meth:`gram` is computed from shot estimates
    of them (drawn from ``generator``).
    """

    def __init__(self, encoder="iqp", n_qubits=None, *, gamma: float = 1.0, **kwargs):
        super().__init__(encoder, n_qubits, **kwargs)
        if not gamma > 0 or math.isinf(gamma):
            raise CircuitError(f"gamma must be a positive number, got {gamma}")
        self.gamma = gamma

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """Pauli expectations ``(N, n, 3)`` of the encoded states."""
        return pauli_expectations(super().features(X))

    def gram(self, F1, F2=None, *, shots: int | None = None, generator=None) -> torch.Tensor:
        if shots is not None:
            if not isinstance(shots, int) or shots < 1:
                raise CircuitError(f"shots must be a positive integer, got {shots!r}")
            F1 = _sample_pauli(F1, shots, generator)
            F2 = None if F2 is None else _sample_pauli(F2, shots, generator)
        return projected_gram(F1, F2, self.gamma)
