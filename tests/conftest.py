"""Shared fixtures: seeded generators and state dtypes (tolerances: reference.TOLERANCE)."""

from __future__ import annotations

import numpy as np
import pytest
import torch


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
