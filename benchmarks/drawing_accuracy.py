"""How a model fares on digits drawn as a user draws them: large, off-centre, dark on white.

Each MNIST (or digits) test image is scaled x4..x8 (bilinear), put at a random place on a
white page (dark ink) and classified twice: after the old preparation (invert a light
image, area-resize the whole page) and after :func:`qimage.preprocess.prepare_drawing`.

Usage: python benchmarks/drawing_accuracy.py RUN_OR_MODEL [--data-dir DIR] [--n 2000]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from qimage.data import load_dataset
from qimage.preprocess.drawing import prepare_drawing
from qimage.train import load_model


def render(image: np.ndarray, rng: np.random.Generator, page: int) -> np.ndarray:
    """``image`` (light ink on dark, uint8) as dark ink on a white ``page`` x ``page`` sheet."""
    scale = rng.uniform(4, 8)
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    big = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
    top, left = (rng.integers(0, page - s + 1) for s in big.shape)
    sheet = np.zeros((page, page), np.uint8)
    sheet[top : top + big.shape[0], left : left + big.shape[1]] = big
    return 255 - sheet


def resized_only(sheet: np.ndarray, shape) -> np.ndarray:
    """The old preparation: invert a light sheet, area-resize it whole."""
    grey = 255 - sheet if sheet.mean() > 127 else sheet
    small = Image.fromarray(grey).resize((shape[1], shape[0]), Image.Resampling.BOX)
    return np.asarray(small)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    loaded = load_model(args.model)
    shape = tuple(loaded.info["image_shape"])
    ds = load_dataset(loaded.info["dataset"], data_dir=args.data_dir)
    X, y = ds.X_test[: args.n], ds.y_test[: args.n]
    rng = np.random.default_rng(args.seed)
    page = 8 * max(shape) + 40
    sheets = [render(x, rng, page) for x in X]
    ways = {
        "test images as they are": X,
        "drawings, resized only (before)": np.stack([resized_only(s, shape) for s in sheets]),
        "drawings, prepared (after)": np.stack([prepare_drawing(s, shape).pixels for s in sheets]),
    }
    print(f"{args.model}: {len(X)} {loaded.info['dataset']} test digits")
    for name, images in ways.items():
        accuracy = (loaded.predict_proba(images).argmax(1) == y).mean()
        print(f"  {name:34s} accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
