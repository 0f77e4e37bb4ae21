"""Preparing drawings as the datasets' digits were made (qimage.preprocess.drawing)."""

from __future__ import annotations

import numpy as np
import pytest

from qimage.preprocess import PreprocessError
from qimage.preprocess.drawing import layout_for, prepare_drawing


def _digit() -> np.ndarray:
    """A 7 in 8x8 (values 0..255): a top bar and a diagonal, thick enough to survive scaling."""
    d = np.zeros((8, 8))
    d[0, 1:7] = 255
    for r in range(1, 8):
        d[r, max(6 - r // 1, 1) : max(6 - r // 1, 1) + 2] = 255
    return d


def _render(digit: np.ndarray, scale: int, top: int, left: int, size=(220, 260)) -> np.ndarray:
    """Dark ink on white paper: ``digit`` upscaled ``scale`` times at (top, left)."""
    big = np.kron(digit, np.ones((scale, scale)))
    paper = np.full(size, 255.0)
    paper[top : top + big.shape[0], left : left + big.shape[1]] -= big
    return paper.astype(np.uint8)


def _centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(img.shape)
    m = img.sum()
    return (img * ys).sum() / m, (img * xs).sum() / m


def test_scale_and_position_do_not_matter():
    """The same digit drawn at x6 top-left and x20 bottom-right prepares to the same image."""
    a = prepare_drawing(_render(_digit(), 6, 3, 5), (28, 28)).pixels.astype(float)
    b = prepare_drawing(_render(_digit(), 20, 50, 90), (28, 28)).pixels.astype(float)
    assert np.abs(a - b).max() <= 64 and np.abs(a - b).mean() < 4


@pytest.mark.parametrize("shape", [(28, 28), (8, 8), (14, 14)])
def test_box_and_centre_of_mass_follow_the_layout(shape):
    """The ink's longer side is the layout's box; its centre of mass is the layout's centre."""
    layout = layout_for(shape)
    out = prepare_drawing(_render(_digit(), 9, 40, 100), shape).pixels.astype(float)
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == layout.box
    cy, cx = _centre_of_mass(out)
    assert abs(cy - layout.centre[0]) <= 0.5 + 1e-9 or rows[0] == 0 or rows[-1] == shape[0] - 1
    assert abs(cx - layout.centre[1]) <= 0.5 + 1e-9


def test_8x8_layout_reproduces_a_dataset_digit():
    """A scikit-learn digit drawn large and off-centre comes back close to itself."""
    from qimage.data import load_dataset

    original = load_dataset("digits").X_test[:20].astype(float)
    close = 0
    for digit in original:
        out = prepare_drawing(_render(digit, 12, 17, 61), (8, 8)).pixels.astype(float)
        close += np.abs(out - digit).mean() < 25
    assert close >= 16


def test_light_background_is_inverted_with_a_note():
    """Dark on white and light on black prepare alike; only the first is noted."""
    dark = _render(_digit(), 10, 20, 30)
    light = 255 - dark
    a, b = prepare_drawing(dark, (28, 28)), prepare_drawing(light, (28, 28))
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert any("inverted" in n for n in a.notes) and b.notes == ()


def test_transparent_canvas_is_composited():
    """Black strokes on a transparent canvas (what a browser exports) are not all black."""
    dark = _render(_digit(), 10, 20, 30)
    rgba = np.zeros((*dark.shape, 4), np.uint8)
    rgba[..., 3] = 255 - dark  # ink opaque, paper transparent; RGB stays black
    out = prepare_drawing(rgba, (28, 28))
    np.testing.assert_array_equal(out.pixels, prepare_drawing(dark, (28, 28)).pixels)
    assert any("transparent" in n for n in out.notes)


def test_rgb_equals_grey():
    dark = _render(_digit(), 10, 20, 30)
    rgb = np.repeat(dark[..., None], 3, axis=2)
    np.testing.assert_array_equal(
        prepare_drawing(rgb, (8, 8)).pixels, prepare_drawing(dark, (8, 8)).pixels
    )


@pytest.mark.parametrize(
    "image",
    [np.full((50, 50), 255), np.zeros((50, 50)), np.zeros((0, 0)), np.full((4, 4), np.nan)],
)
def test_blank_or_bad_images_are_refused(image):
    with pytest.raises(PreprocessError):
        prepare_drawing(image, (28, 28))


def test_bad_shape_is_refused():
    with pytest.raises(PreprocessError, match="H, W"):
        prepare_drawing(np.zeros((5, 5, 2)), (28, 28))
