"""Preparing a free drawing or photo of a digit the way the datasets' images were made.

MNIST's digits were size-normalised to fit a 20x20 box keeping their aspect ratio, then
placed in a 28x28 frame so that their centre of mass sits at the frame's centre. A drawing
made on a 200x200 canvas (or a phone photo) is nothing like that until it is prepared the
same way; resizing alone leaves the digit off-centre and at the wrong scale:

1. transparent pixels are composited on the background (a colour opposite to the ink);
2. the background level is read from the border; a light background is inverted, with a
   note, so that ink is bright on dark as in the datasets;
3. the image is cropped to the ink's bounding box;
4. scaled by exact area averaging to fit the layout's box, keeping the aspect ratio;
5. placed in the frame with its centre of mass where the dataset's digits have theirs.

The layouts come from the data: MNIST's ink spans 20 rows in 90% of the test digits and
its centre of mass is at (14.0, 14.0); scikit-learn's 8x8 digits fill all 8 rows (the UCI
bitmaps were normalised to the full 32x32 frame before 4x4 averaging) with the centre of
mass at (3.5, 3.5). Frames of other sizes scale MNIST's layout.

Example:
    >>> import numpy as np
    >>> canvas = np.full((200, 200), 255, np.uint8)
    >>> canvas[20:120, 130:140] = 0            # a dark "1", off-centre on white paper
    >>> prepared = prepare_drawing(canvas, (28, 28))
    >>> prepared.pixels.shape, prepared.notes
    ((28, 28), ('light background: inverted to light ink on dark',))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qimage.preprocess.base import PreprocessError
from qimage.preprocess.images import area_weights

__all__ = ["Layout", "Prepared", "layout_for", "prepare_drawing"]

_INK = 0.2  # fraction of the ink's full range a pixel needs to count for the bounding box


@dataclass(frozen=True)
class Layout:
    """Where a prepared digit goes: a ``size`` frame, a ``box`` it fits in, its centre of
    mass at ``centre`` (row, column) in pixel-index coordinates."""

    size: tuple[int, int]
    box: int
    centre: tuple[float, float]


@dataclass(frozen=True)
class Prepared:
    """A prepared image: ``pixels`` ``(H, W)`` uint8, 0 background, 255 full ink, and the
    notes on what was done that a user may not expect."""

    pixels: np.ndarray
    notes: tuple[str, ...]


def layout_for(shape: tuple[int, int]) -> Layout:
    """The layout of a dataset's ``(H, W)`` frame: 8x8 digits, MNIST, or MNIST's scaled."""
    h, w = shape
    if (h, w) == (8, 8):
        return Layout((8, 8), 8, (3.5, 3.5))
    return Layout((h, w), max(1, round(min(h, w) * 20 / 28)), (h / 2, w / 2))


def _grey(image: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` 0..255 -> ``(H, W)`` float grey."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return image, []
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise PreprocessError(f"an image is (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    grey = image[..., :3] @ np.array([0.299, 0.587, 0.114]) if image.shape[2] > 1 else image[..., 0]
    if image.shape[2] != 4:
        return grey, []
    alpha = image[..., 3] / 255.0
    if alpha.min() >= 1.0:
        return grey, []
    ink = (grey * alpha).sum() / max(alpha.sum(), 1e-9)
    background = 255.0 if ink < 128 else 0.0  # opposite to the ink, so strokes stay visible
    note = f"transparent pixels composited on {'white' if background else 'black'}"
    return grey * alpha + background * (1 - alpha), [note]


def _ink(grey: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Ink level 0..1 (bright on dark) from grey, the border's median taken as background."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    notes = []
    if background > 127:
        grey = 255.0 - grey
        background = 255.0 - background
        notes.append("light background: inverted to light ink on dark")
    ink = np.clip(grey - background, 0, None)
    peak = ink.max()
    if peak < 8:  # under 8 grey levels of contrast: nothing drawn
        raise PreprocessError("the image holds no ink (it is blank or uniform)")
    return ink / peak, notes


def _crop(ink: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero((ink >= _INK).any(axis=1))
    cols = np.flatnonzero((ink >= _INK).any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit(ink: np.ndarray, box: int) -> np.ndarray:
    """Area-average ``ink`` so that its longer side is ``box`` pixels."""
    h, w = ink.shape
    scale = box / max(h, w)
    out_h, out_w = max(1, round(h * scale)), max(1, round(w * scale))
    return area_weights(h, out_h) @ ink @ area_weights(w, out_w).T


def _place(digit: np.ndarray, layout: Layout) -> np.ndarray:
    """Put ``digit`` in the frame, its centre of mass on the layout's, kept inside."""
    (H, W), (h, w) = layout.size, digit.shape
    ys, xs = np.indices(digit.shape)
    mass = digit.sum()
    com = ((digit * ys).sum() / mass, (digit * xs).sum() / mass)
    top = min(max(math.floor(layout.centre[0] - com[0] + 0.5), 0), H - h)
    left = min(max(math.floor(layout.centre[1] - com[1] + 0.5), 0), W - w)
    frame = np.zeros((H, W))
    frame[top : top + h, left : left + w] = digit
    return frame


def prepare_drawing(image: np.ndarray, shape: tuple[int, int]) -> Prepared:
    """Prepare one drawing or photo (values 0..255, grey, RGB or RGBA) for a model trained
    on ``shape`` images, as the dataset's images were made (see the module's docstring)."""
    grey, notes = _grey(image)
    if grey.size == 0 or not np.isfinite(grey).all():
        raise PreprocessError("the image is empty or holds non-finite values")
    ink, more = _ink(grey)
    layout = layout_for(tuple(shape))
    digit = _fit(_crop(ink), layout.box)
    frame = _place(digit, layout)
    pixels = np.clip(np.rint(frame * 255), 0, 255).astype(np.uint8)
    return Prepared(pixels, tuple(notes + more))
