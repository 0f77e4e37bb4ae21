"""``qimage predict MODEL IMAGE...``: classify image files and print class probabilities.

Images may be any size or format Pillow reads (PNG, JPEG, BMP, ...): each is converted to
greyscale, inverted when its background is light (the datasets have light strokes on a dark
background), and area-resized to the model's input size. Raw IDX files (``.idx``,
``*-idx3-ubyte``, optionally ``.gz``) are read as whole stacks of images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qimage.cli.evaluate import add_backend_option, model_path, on_device
from qimage.cli.train import add_execution_options, execution_from
from qimage.data import read_idx
from qimage.errors import DatasetError
from qimage.train import load_model


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="classify image files", description=__doc__.split("\n\n")[1])
    p.add_argument("model", type=Path, help="model file (model.safetensors) or run folder")
    p.add_argument("images", type=Path, nargs="+", help="image files (PNG, JPEG, ..., or IDX)")
    add_execution_options(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the shots and noise samples")
    add_backend_option(p)
    p.set_defaults(run=run_predict)


def _is_idx(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith((".idx", "-ubyte", ".ubyte")) or ".idx" in name


def load_images(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """``(N, H, W)`` uint8 images from an image file (N = 1) or an IDX stack."""
    if not path.is_file():
        raise DatasetError(f"no such image file: {path}")
    if _is_idx(path):
        stack = read_idx(path)
        if stack.ndim != 3 or stack.shape[1:] != shape:
            raise DatasetError(f"{path}: IDX images of shape {stack.shape[1:]}, need {shape}")
        return stack.astype(np.uint8)
    return _read_picture(path, shape)[None]


def _read_picture(path: Path, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            grey = image.convert("L")
    except (UnidentifiedImageError, OSError) as err:
        raise DatasetError(f"{path}: not an image Pillow can read ({err})") from None
    pixels = np.asarray(grey, dtype=np.uint8)
    if pixels.mean() > 127:  # dark strokes on light paper: flip to the datasets' convention
        grey = Image.fromarray(255 - pixels)
    resized = grey.resize((shape[1], shape[0]), Image.Resampling.BOX)
    return np.asarray(resized, dtype=np.uint8)


def run_predict(args) -> int:
    loaded = load_model(model_path(args.model))
    names = loaded.info.get("class_names") or [str(i) for i in range(loaded.config.n_classes)]
    shape = tuple(loaded.info.get("image_shape", (8, 8)))
    execution = execution_from(args, seed=args.seed)
    loaded.model, execution = on_device(loaded.model, args.backend, execution, args.seed)
    for path in args.images:
        images = load_images(path, shape)
        probs = loaded.predict_proba(images, execution)
        for i, row in enumerate(probs):
            label = f"{path}[{i}]" if len(probs) > 1 else str(path)
            best = int(row.argmax())
            spread = "  ".join(f"{n}:{p:.3f}" for n, p in zip(names, row, strict=True))
            print(f"{label}: class {names[best]} (p={row[best]:.3f})  {spread}")
    return 0
