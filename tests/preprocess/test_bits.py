"""Bars and stripes, and images as bit strings with a threshold fitted on training data."""

from __future__ import annotations

import numpy as np
import pytest

from qimage.data.bars import bars_and_stripes, is_bars_and_stripes
from qimage.preprocess import PreprocessError
from qimage.preprocess.bits import Binarize, bits_to_index, check_bits, index_to_bits, load_bits


@pytest.mark.parametrize(("rows", "cols"), [(2, 2), (3, 3), (2, 4)])
def test_bars_and_stripes_are_all_valid_patterns(rows, cols):
    images = bars_and_stripes(rows, cols)
    every = index_to_bits(np.arange(2 ** (rows * cols)), rows * cols).reshape(-1, rows, cols)
    assert len(images) == 2**rows + 2**cols - 2
    assert len(images) == is_bars_and_stripes(every).sum()  # brute force over all images
    assert is_bars_and_stripes(images).all()


def test_threshold_is_fitted_on_training_images_only():
    train = np.zeros((4, 8, 8))
    train[:, :4] = 100.0  # mean pooled pixel 50
    binarize = Binarize(size=4).fit(train)
    assert float(binarize.threshold_) == pytest.approx(50.0)
    test = np.full((2, 8, 8), 60.0)
    assert binarize.transform(test).tolist() == [[1] * 16] * 2  # not refitted to the test mean
    restored = Binarize(size=4).load_state(binarize.state_dict())
    np.testing.assert_array_equal(restored.transform(train), binarize.transform(train))


def test_digits_pooled_to_16_bits_per_class():
    data = load_bits("digits", size=4, classes=[3])
    assert data.train.shape[1] == 16 and set(np.unique(data.train)) <= {0, 1}
    assert data.class_names == ("3",) and (data.y_train == 0).all()


def test_indices_round_trip_and_bad_pixels_are_refused():
    bits = np.array([[1, 0, 1], [0, 1, 1]])
    assert bits_to_index(bits).tolist() == [5, 3]
    np.testing.assert_array_equal(index_to_bits(bits_to_index(bits), 3), bits)
    with pytest.raises(PreprocessError, match=r"pixels must be 0 or 1 .* got 0.5 at sample 1"):
        check_bits(np.array([[0, 1], [0.5, 1]]))
