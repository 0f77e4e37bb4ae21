"""The cluster-Ising datasets by name: generated once, cached, split fixed, not images.

Oracles: ``numpy.linalg.eigh`` of the dense Hamiltonian (each state is its ground state),
the string order parameter recomputed from the states (the labels), and counting (split).
"""

from __future__ import annotations

import numpy as np
import pytest

from qimage.data import cluster_ising, load_dataset
from qimage.data.quantum import cluster_ising_hamiltonian, generate_cluster_ising, string_order
from qimage.errors import DatasetError
from qimage.preprocess import make_pipeline
from qimage.preprocess.base import PreprocessError

SMALL = (np.array([0.1, 0.6, 1.2, 1.6]), np.array([-1.0, 0.0, 1.0]))


@pytest.fixture
def small_grid(monkeypatch, tmp_path_factory):
    """A 4 x 3 grid (12 states) instead of 16 x 16, so a test generates in a fraction of a
    second; no file of the user's cache or $QIMAGE_DATA is seen."""
    monkeypatch.setattr(cluster_ising, "GRID", SMALL)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("QIMAGE_DATA", raising=False)


def _all_states(ds) -> np.ndarray:
    return np.concatenate([ds.X_train, ds.X_test])


def test_generated_states_are_ground_states_and_labels_their_phase(small_grid, tmp_path):
    ds = load_dataset("cluster-ising-8", data_dir=tmp_path)
    states = _all_states(ds)
    assert states.shape == (12, 256) and states.dtype == np.float64
    # <psi|H|psi> equal to H's lowest eigenvalue: psi is a ground state of that (h1, h2),
    # and every grid point has exactly one
    hamiltonians = [
        cluster_ising_hamiltonian(8, h1, h2).toarray() for h2 in SMALL[1] for h1 in SMALL[0]
    ]
    lowest = np.array([np.linalg.eigvalsh(H)[0] for H in hamiltonians])
    energy = np.einsum("md,kde,me->mk", states, np.stack(hamiltonians), states)
    gap = np.abs(energy - lowest)
    assert gap.min(axis=1).max() < 1e-9
    assert sorted(gap.argmin(axis=1).tolist()) == list(range(12))
    labels = np.concatenate([ds.y_train, ds.y_test])
    np.testing.assert_array_equal(labels, (string_order(states) > 0.5).astype(int))
    assert ds.class_names == ("non-SPT", "SPT") and set(labels) == {0, 1}


def test_not_images(small_grid, tmp_path):
    """No image shape, so nothing image-only can take the states for pictures."""
    ds = load_dataset("cluster-ising", data_dir=tmp_path)
    assert ds.image_shape is None and ds.sample_shape == (256,)
    assert "states of 256 amplitudes" in ds.summary()
    with pytest.raises(PreprocessError, match="downsample needs images"):
        make_pipeline(ds.sample_shape, downsample=4)


def test_cached_file_is_read_not_regenerated(small_grid, tmp_path, monkeypatch):
    first = load_dataset("cluster-ising-8", data_dir=tmp_path)
    assert (tmp_path / "cluster-ising-8.npz").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["cluster-ising-8.npz"]  # no partial file

    def refuse(*args, **kwargs):
        raise AssertionError("generated again")

    monkeypatch.setattr(cluster_ising, "generate_cluster_ising", refuse)
    again = load_dataset("cluster-ising-8", data_dir=tmp_path)
    np.testing.assert_array_equal(again.X_test, first.X_test)
    np.testing.assert_array_equal(again.y_train, first.y_train)


def test_split_is_fixed_stratified_and_disjoint(small_grid, tmp_path):
    ds = load_dataset("cluster-ising-8", data_dir=tmp_path)
    for label in (0, 1):  # 50/50 within each class
        n_train, n_test = (np.count_nonzero(y == label) for y in (ds.y_train, ds.y_test))
        assert abs(n_train - n_test) <= 1
    train = {row.tobytes() for row in ds.X_train}
    assert not train & {row.tobytes() for row in ds.X_test}
    (tmp_path / "other").mkdir()
    again = load_dataset("cluster-ising-8", data_dir=tmp_path / "other")  # generated again
    np.testing.assert_array_equal(again.X_train, ds.X_train)


def test_a_file_of_other_spins_is_refused(small_grid, tmp_path):
    generate_cluster_ising(8, [0.5], [0.0]).save(tmp_path / "cluster-ising-10.npz")
    with pytest.raises(DatasetError, match="holds 8 spins, not 10"):
        load_dataset("cluster-ising-10", data_dir=tmp_path)
