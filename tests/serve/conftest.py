"""Shared fixtures of the serve tests: the bundled model, a drawn digit, an API client."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def loaded():
    from qimage.serve import PRETRAINED
    from qimage.train import load_model

    return load_model(PRETRAINED)


@pytest.fixture(scope="session")
def drawing() -> np.ndarray:
    """A scikit-learn test digit (a 0) drawn large, dark on white, off-centre: 150x160."""
    from qimage.data import load_dataset

    ds = load_dataset("digits")
    digit = ds.X_test[np.flatnonzero(ds.y_test == 0)[0]].astype(float)
    page = np.full((150, 160), 255.0)
    page[30:126, 50:146] -= np.kron(digit, np.ones((12, 12)))
    return page.round()


@pytest.fixture(scope="session")
def client(loaded):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette: httpx -> httpx2
        from fastapi.testclient import TestClient

    from qimage.serve.app import create_app

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as qimage serve runs: small circuits, one thread is fastest
    yield TestClient(create_app(loaded))
    torch.set_num_threads(threads)
