"""Shared fixtures: seeded generators and tolerances per dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch

# Agreement required with the oracles (PennyLane and the dense reference), per state dtype.
TOLERANCE = {torch.complex64: 1e-5, torch.complex128: 1e-10}


@pytest.fixture
def rng() -> np.random.Generator:
    """A NumPy generator with a fixed seed, fresh for each test."""
    return np.random.default_rng(1234)


@pytest.fixture(params=[torch.complex64, torch.complex128], ids=["c64", "c128"])
def dtype(request) -> torch.dtype:
    """Both supported state dtypes."""
    return request.param


def real_of(dtype: torch.dtype) -> torch.dtype:
    return dtype.to_real()
