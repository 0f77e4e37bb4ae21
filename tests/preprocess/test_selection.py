"""Sample selection on (X, y): class subsets and stratified subsamples."""

from __future__ import annotations

import numpy as np
import pytest

from qimage.preprocess import (
    ClassSubset,
    PreprocessError,
    StratifiedSubsample,
    stratified_subsample,
)


@pytest.fixture
def data():
    """60 samples of 3 classes (20 each) whose rows encode their own index."""
    y = np.tile([0, 1, 2], 20)
    X = np.arange(60 * 2).reshape(60, 2)
    return X, y


class TestClassSubset:
    """Keep some classes and relabel them 0..k-1."""

    def test_keeps_and_relabels_in_given_order(self):
        """Classes (5, 3) become (0, 1); other samples go; order is kept."""
        y = np.array([3, 5, 1, 5, 3, 9])
        X = np.arange(6) * 10
        X_sub, y_sub = ClassSubset([5, 3]).apply(X, y)
        np.testing.assert_array_equal(X_sub, [0, 10, 30, 40])
        np.testing.assert_array_equal(y_sub, [1, 0, 0, 1])
        assert y_sub.dtype == np.int64

    def test_images_keep_shape(self):
        """Image stacks (n, H, W) are filtered along the first axis only."""
        X = np.zeros((4, 8, 8))
        X_sub, _ = ClassSubset([1]).apply(X, np.array([1, 0, 1, 0]))
        assert X_sub.shape == (2, 8, 8)

    def test_missing_class(self):
        """A class absent from the labels is an error listing those present."""
        with pytest.raises(PreprocessError, match=r"class 11 does not occur.*present: 0, 1"):
            ClassSubset([1, 11]).apply(np.zeros(3), np.array([0, 1, 1]))

    @pytest.mark.parametrize("classes", [[], [3, 3]])
    def test_bad_class_list(self, classes):
        """An empty or repeated class list is refused."""
        with pytest.raises(PreprocessError, match="distinct"):
            ClassSubset(classes)

    def test_names_and_inverse(self):
        """Names follow the new labels; original_labels undoes the relabelling."""
        subset = ClassSubset([5, 3])
        assert subset.select_names(list("0123456789")) == ("5", "3")
        np.testing.assert_array_equal(subset.original_labels([0, 1, 1]), [5, 3, 3])

    def test_length_mismatch(self):
        """X and y of different lengths are refused."""
        with pytest.raises(PreprocessError, match="do not match"):
            ClassSubset([0]).apply(np.zeros(3), np.array([0, 1]))


class TestStratifiedSubsample:
    """n per class, seeded, without replacement."""

    def test_counts_and_alignment(self, data):
        """Each class gets exactly n samples, rows still matching their labels."""
        X, y = data
        X_sub, y_sub = stratified_subsample(X, y, 5, seed=3)
        assert np.bincount(y_sub).tolist() == [5, 5, 5]
        index = X_sub[:, 0] // 2
        np.testing.assert_array_equal(y[index], y_sub)
        assert len(set(index.tolist())) == 15
        assert (np.diff(index) > 0).all()

    def test_seeded(self, data):
        """The same seed gives the same sample; another seed gives another."""
        X, y = data
        a = stratified_subsample(X, y, 5, seed=7)[0]
        b = stratified_subsample(X, y, 5, seed=7)[0]
        c = stratified_subsample(X, y, 5, seed=8)[0]
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)

    def test_ignores_global_rng(self, data):
        """Reseeding NumPy's global RNG changes nothing."""
        X, y = data
        np.random.seed(0)
        a = stratified_subsample(X, y, 4, seed=1)[0]
        np.random.seed(99)
        b = stratified_subsample(X, y, 4, seed=1)[0]
        np.testing.assert_array_equal(a, b)

    def test_generator_argument_advances(self, data):
        """A Generator is used as given, so two draws from it differ."""
        X, y = data
        gen = np.random.default_rng(5)
        subsample = StratifiedSubsample(4, seed=gen)
        assert not np.array_equal(subsample.apply(X, y)[0], subsample.apply(X, y)[0])

    def test_all_samples(self, data):
        """n equal to the class size returns everything."""
        X, y = data
        np.testing.assert_array_equal(stratified_subsample(X, y, 20)[0], X)

    def test_class_too_small(self, data):
        """Asking for more than a class has names the class and its size."""
        X, y = data
        with pytest.raises(PreprocessError, match="class 0 has 20 samples"):
            stratified_subsample(X, y, 21)

    @pytest.mark.parametrize("n", [0, -1, 2.5])
    def test_bad_n(self, data, n):
        """n must be a positive integer."""
        with pytest.raises(PreprocessError, match="n_per_class"):
            stratified_subsample(*data, n)
