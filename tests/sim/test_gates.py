"""Every gate against its textbook matrix and against the dense reference simulator."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from reference import GATE_NAMES, N_PARAMS, N_WIRES, expand, matrix

from qimage.sim import GATES, gate_matrix
from qimage.sim.gates import FOUR_TERM, TWO_TERM
from qimage.sim.kernels import KERNELS


def _random_state(rng, batch: int, n: int) -> np.ndarray:
    psi = rng.normal(size=(batch, 2**n)) + 1j * rng.normal(size=(batch, 2**n))
    return psi / np.linalg.norm(psi, axis=1, keepdims=True)


def _wire_placements(n: int, k: int):
    return list(itertools.permutations(range(n), k))


class TestTable:
    def test_table_covers_the_gate_set(self):
        """The table holds exactly the gates the issue lists."""
        assert set(GATES) == set(GATE_NAMES)

    def test_counts_match_textbook(self):
        """Wire and parameter counts agree with the reference definitions."""
        for name, gate in GATES.items():
            assert gate.n_params == N_PARAMS[name], name
            assert gate.n_wires == N_WIRES[name], name

    @pytest.mark.parametrize("name", GATE_NAMES)
    def test_matrix_equals_textbook(self, name, rng):
        """gate_matrix reproduces the textbook matrix for random angles."""
        for _ in range(5):
            params = rng.uniform(-2 * np.pi, 2 * np.pi, N_PARAMS[name])
            k = N_WIRES[name] or 3
            ours = gate_matrix(name, params, n_wires=k).numpy()
            np.testing.assert_allclose(ours, matrix(name, params, k), atol=1e-12)

    @pytest.mark.parametrize("name", GATE_NAMES)
    def test_unitary(self, name, rng):
        """Every gate matrix is unitary."""
        params = rng.uniform(-3, 3, N_PARAMS[name])
        u = gate_matrix(name, params, n_wires=N_WIRES[name] or 2).numpy()
        np.testing.assert_allclose(u @ u.conj().T, np.eye(len(u)), atol=1e-12)

    def test_shift_rules(self):
        """Rotations use the two-term rule, controlled rotations the four-term rule."""
        for name in ("RX", "RY", "RZ", "PhaseShift", "Rot", "U3", "IsingXX", "MultiRZ"):
            assert GATES[name].shift_rule == TWO_TERM
        for name in ("CRX", "CRY", "CRZ"):
            assert GATES[name].shift_rule == FOUR_TERM

    def test_reference_expand_is_a_kronecker_product(self, rng):
        """The oracle's expansion equals I (x) U (x) I on adjacent wires."""
        u = matrix("CRY", [0.7])
        np.testing.assert_allclose(expand(u, (1, 2), 4), np.kron(np.kron(np.eye(2), u), np.eye(2)))


@pytest.mark.parametrize("name", GATE_NAMES)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_kernel_matches_dense_reference(name, n, rng):
    """A gate on random batched states equals its expanded dense matrix, on every wire placement."""
    gate = GATES[name]
    k_options = [gate.n_wires] if gate.n_wires else range(1, n + 1)
    for k in k_options:
        if k > n:
            continue
        placements = _wire_placements(n, k)
        if len(placements) > 12:
            placements = [placements[i] for i in rng.choice(len(placements), 12, replace=False)]
        for wires in placements:
            psi = _random_state(rng, 3, n)
            params = rng.uniform(-np.pi, np.pi, (3, gate.n_params))
            tensor = gate.build(torch.tensor(params), k, torch.complex128)
            state = torch.tensor(psi).reshape(3, *[2] * n)
            out = KERNELS[gate.kind].apply(state, tensor, tuple(wires)).reshape(3, -1).numpy()
            want = [expand(matrix(name, params[b], k), wires, n) @ psi[b] for b in range(3)]
            np.testing.assert_allclose(out, np.array(want), atol=1e-12, err_msg=f"{name} {wires}")


@pytest.mark.parametrize("name", GATE_NAMES)
def test_adjoint_kernel_inverts(name, rng):
    """apply_adjoint undoes apply, for shared and per-sample tensors."""
    gate, n = GATES[name], 4
    k = gate.n_wires or 3
    kernel = KERNELS[gate.kind]
    for rows in (1, 2):
        tensor = gate.build(
            torch.tensor(rng.uniform(-3, 3, (rows, gate.n_params))), k, torch.complex128
        )
        state = torch.tensor(_random_state(rng, 2, n)).reshape(2, *[2] * n)
        wires = (3, 0, 2)[:k]
        back = kernel.apply_adjoint(kernel.apply(state, tensor, wires), tensor, wires)
        torch.testing.assert_close(back, state, atol=1e-12, rtol=0)
