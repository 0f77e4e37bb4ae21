"""Initial states: |0...0>, basis states, amplitude vectors and the layout convention."""

from __future__ import annotations

import pytest
import torch

from qimage.errors import CircuitError
from qimage.sim import MAX_QUBITS, amplitude_state, as_tensor, as_vector, basis_state, zero_state


class TestStates:
    def test_zero_state(self):
        """|0...0> has amplitude 1 at index 0 and the (B, 2, ..., 2) shape."""
        s = zero_state(3, 4)
        assert s.shape == (3, 2, 2, 2, 2) and s.dtype == torch.complex64
        assert torch.equal(as_vector(s)[:, 0], torch.ones(3, dtype=torch.complex64))
        assert as_vector(s).abs().sum() == 3

    def test_basis_state_is_big_endian(self):
        """Index 1 of 3 qubits is |001>: only the last wire is 1."""
        s = basis_state([1, 4], 3, dtype=torch.complex128)
        assert s[0, 0, 0, 1] == 1 and s[1, 1, 0, 0] == 1
        assert as_vector(s).abs().sum() == 2

    def test_amplitude_pads_and_normalises(self):
        """A length-3 vector in 2 qubits is zero-padded to 4 and has unit norm."""
        s = as_vector(amplitude_state(torch.tensor([[1.0, 2.0, 2.0]]), 2))
        torch.testing.assert_close(
            s, torch.tensor([[1 / 3, 2 / 3, 2 / 3, 0]], dtype=torch.complex64)
        )

    def test_amplitude_is_differentiable(self):
        """Gradients flow from amplitudes back to the features."""
        x = torch.tensor([[3.0, 4.0]], requires_grad=True)
        as_vector(amplitude_state(x, 1))[0, 0].real.backward()
        # d(x0/|x|)/dx = (|x|^2 - x0^2, -x0 x1) / |x|^3
        torch.testing.assert_close(x.grad, torch.tensor([[16 / 125, -12 / 125]]))

    def test_round_trip_layout(self):
        """as_tensor and as_vector are inverse reshapes."""
        v = torch.randn(2, 8, dtype=torch.complex64)
        assert torch.equal(as_vector(as_tensor(v)), v)


class TestInputs:
    def test_all_zero_vector_is_an_error(self):
        """An all-zero feature vector cannot be amplitude-encoded."""
        with pytest.raises(CircuitError, match="all-zero"):
            amplitude_state(torch.zeros(2, 4), 2)

    def test_too_many_features(self):
        """Five features do not fit in two qubits."""
        with pytest.raises(CircuitError, match="do not fit"):
            amplitude_state(torch.ones(1, 5), 2)

    def test_too_many_qubits(self):
        """The qubit limit is stated in the message."""
        with pytest.raises(CircuitError, match=str(MAX_QUBITS)):
            zero_state(1, MAX_QUBITS + 1)

    @pytest.mark.parametrize("n", [0, -1, 2.5, True])
    def test_bad_qubit_count(self, n):
        """Non-positive or non-integer qubit counts are refused."""
        with pytest.raises(CircuitError, match="positive integer"):
            zero_state(1, n)

    def test_bad_dtype(self):
        """Only complex64 and complex128 states exist."""
        with pytest.raises(CircuitError, match="complex64"):
            zero_state(1, 2, dtype=torch.float32)

    def test_basis_index_out_of_range(self):
        """A basis index beyond 2^n is refused."""
        with pytest.raises(CircuitError, match=r"\[0, 4\)"):
            basis_state([4], 2)
