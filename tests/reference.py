"""A slim dense reference simulator: the oracle the fast engine is tested against.

It shares no code with ``qimage.sim`` beyond reading the op list: gate matrices are written
out here from textbook definitions in NumPy complex128, every gate is expanded to a full
``2^n x 2^n`` operator, and each sample is simulated on its own. It is slow on purpose; it is
meant to be obviously right.

Endianness: wire 0 is the most significant bit of the basis index, as in qimage and PennyLane.
"""

from __future__ import annotations

import numpy as np
import torch

from qimage.sim import Circuit, Op, Param

# Agreement required with the oracles (PennyLane and this reference), per state dtype.
TOLERANCE = {torch.complex64: 1e-5, torch.complex128: 1e-10}

I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.array([[1, 0], [0, -1]], dtype=complex)
H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
PAULI = {"I": I2, "X": X, "Y": Y, "Z": Z}


def _rx(t):
    return np.array([[np.cos(t / 2), -1j * np.sin(t / 2)], [-1j * np.sin(t / 2), np.cos(t / 2)]])


def _ry(t):
    return np.array(
        [[np.cos(t / 2), -np.sin(t / 2)], [np.sin(t / 2), np.cos(t / 2)]], dtype=complex
    )


def _rz(t):
    return np.diag([np.exp(-1j * t / 2), np.exp(1j * t / 2)])


def _controlled(u):
    out = np.eye(4, dtype=complex)
    out[2:, 2:] = u
    return out


def _expm_pauli(t, pauli):
    """exp(-i t P / 2) for a Pauli word matrix P (P^2 = I)."""
    return np.cos(t / 2) * np.eye(len(pauli)) - 1j * np.sin(t / 2) * pauli


def _multirz(t, n):
    zz = Z
    for _ in range(n - 1):
        zz = np.kron(zz, Z)
    return _expm_pauli(t, zz)


MATRICES = {
    "X": lambda: X,
    "Y": lambda: Y,
    "Z": lambda: Z,
    "H": lambda: H,
    "S": lambda: np.diag([1, 1j]),
    "T": lambda: np.diag([1, np.exp(1j * np.pi / 4)]),
    "SX": lambda: 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]),
    "RX": _rx,
    "RY": _ry,
    "RZ": _rz,
    "PhaseShift": lambda p: np.diag([1, np.exp(1j * p)]),
    "Rot": lambda a, b, c: _rz(c) @ _ry(b) @ _rz(a),
    "U3": lambda t, p, lam: np.array(
        [
            [np.cos(t / 2), -np.exp(1j * lam) * np.sin(t / 2)],
            [np.exp(1j * p) * np.sin(t / 2), np.exp(1j * (p + lam)) * np.cos(t / 2)],
        ]
    ),
    "CNOT": lambda: _controlled(X),
    "CZ": lambda: np.diag([1, 1, 1, -1]).astype(complex),
    "SWAP": lambda: np.array(
        [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex
    ),
    "CRX": lambda t: _controlled(_rx(t)),
    "CRY": lambda t: _controlled(_ry(t)),
    "CRZ": lambda t: _controlled(_rz(t)),
    "IsingXX": lambda t: _expm_pauli(t, np.kron(X, X)),
    "IsingYY": lambda t: _expm_pauli(t, np.kron(Y, Y)),
    "IsingZZ": lambda t: _expm_pauli(t, np.kron(Z, Z)),
}


def matrix(name: str, params=(), n_wires: int = 1) -> np.ndarray:
    """Textbook matrix of a gate."""
    if name == "MultiRZ":
        return _multirz(params[0], n_wires)
    return np.asarray(MATRICES[name](*params), dtype=complex)


def expand(u: np.ndarray, wires, n: int) -> np.ndarray:
    """The ``2^n x 2^n`` operator of ``u`` acting on ``wires``, identity elsewhere.

    ``U[i, j] = u[sub(i), sub(j)]`` when ``i`` and ``j`` agree on every other wire, else 0.
    """
    index = np.arange(2**n)
    bits = (index[:, None] >> (n - 1 - np.arange(n))) & 1
    weights = 2 ** np.arange(len(wires) - 1, -1, -1)
    sub = bits[:, list(wires)] @ weights
    rest_wires = [q for q in range(n) if q not in wires]
    rest = (
        bits[:, rest_wires] @ (2 ** np.arange(len(rest_wires) - 1, -1, -1))
        if rest_wires
        else 0 * index
    )
    same_rest = rest[:, None] == rest[None, :]
    return u[sub[:, None], sub[None, :]] * same_rest


def angle(param: Param, x_row, w) -> float:
    value = param.scale
    if param.x is not None:
        value *= x_row[param.x]
    if param.w is not None:
        value *= w[param.w]
    return value


def final_states(circuit: Circuit, x=None, w=None, state=None) -> np.ndarray:
    """Final states ``(B, 2^n)``, one sample at a time."""
    n = circuit.n_qubits
    batch = len(x) if x is not None else (len(state) if state is not None else 1)
    x = np.zeros((batch, 0)) if x is None else np.asarray(x, dtype=float)
    w = np.zeros(0) if w is None else np.asarray(w, dtype=float)
    out = []
    for b in range(batch):
        psi = np.zeros(2**n, dtype=complex)
        psi[0] = 1
        if state is not None:
            psi = np.asarray(state[b if len(state) > 1 else 0], dtype=complex).reshape(-1)
        for op in circuit.ops:
            params = [angle(p, x[b], w) for p in op.params]
            psi = expand(matrix(op.gate, params, len(op.wires)), op.wires, n) @ psi
        out.append(psi)
    return np.array(out)


def pauli_operator(word: str) -> np.ndarray:
    out = np.ones((1, 1), dtype=complex)
    for letter in word:
        out = np.kron(out, PAULI[letter])
    return out


def expval_z(states: np.ndarray, n: int) -> np.ndarray:
    """``<Z_q>`` for every wire: ``(B, n)``."""
    words = ["I" * q + "Z" + "I" * (n - q - 1) for q in range(n)]
    return expval_words(states, words)


def expval_words(states: np.ndarray, words) -> np.ndarray:
    ops = [pauli_operator(w) for w in words]
    return np.array([[np.vdot(s, o @ s).real for o in ops] for s in states])


def probs(states: np.ndarray, n: int, wires=None) -> np.ndarray:
    """Marginal probabilities of ``wires`` (in that order): ``(B, 2^k)``."""
    wires = list(range(n)) if wires is None else list(wires)
    index = np.arange(2**n)
    bits = (index[:, None] >> (n - 1 - np.arange(n))) & 1
    sub = bits[:, wires] @ (2 ** np.arange(len(wires) - 1, -1, -1))
    p = np.abs(states) ** 2
    out = np.zeros((len(states), 2 ** len(wires)))
    for i in range(2**n):
        out[:, sub[i]] += p[:, i]
    return out


GATE_NAMES = [*MATRICES, "MultiRZ"]
N_PARAMS = {
    name: (MATRICES[name].__code__.co_argcount if name != "MultiRZ" else 1) for name in GATE_NAMES
}
N_WIRES = {
    name: (int(np.log2(len(matrix(name, [0.1] * N_PARAMS[name])))) if name != "MultiRZ" else None)
    for name in GATE_NAMES
}


def random_param(rng: np.random.Generator, n_inputs: int, n_weights: int) -> Param:
    kind = rng.integers(4)
    if kind == 0:
        return Param.input(int(rng.integers(n_inputs)), scale=float(rng.uniform(0.5, 2)))
    if kind == 1:
        return Param.weight(int(rng.integers(n_weights)))
    if kind == 2:
        return Param.scaled_input(int(rng.integers(n_inputs)), int(rng.integers(n_weights)))
    return Param.const(float(rng.uniform(-np.pi, np.pi)))


def random_circuit(
    rng, n_qubits: int, n_ops: int, n_inputs: int = 3, n_weights: int = 5
) -> Circuit:
    """A random circuit over the whole gate set, with every kind of parameter source."""
    names = [g for g in GATE_NAMES if (N_WIRES[g] or 1) <= n_qubits]
    ops = []
    for _ in range(n_ops):
        name = names[rng.integers(len(names))]
        k = N_WIRES[name] or int(rng.integers(1, n_qubits + 1))
        wires = tuple(int(q) for q in rng.permutation(n_qubits)[:k])
        params = tuple(random_param(rng, n_inputs, n_weights) for _ in range(N_PARAMS[name]))
        ops.append(Op(name, wires, params))
    return Circuit(n_qubits, ops, n_inputs=n_inputs, n_weights=n_weights)
