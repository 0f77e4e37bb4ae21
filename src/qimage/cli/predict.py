"""``qimage predict MODEL IMAGE...``: classify image files and print class probabilities.

Images may be any size or format Pillow reads (PNG, JPEG, BMP, ...): each is prepared as
the dataset's digits were made (see :mod:`qimage.preprocess.drawing`): transparency
composited on the background, a light background inverted, cropped to the ink, scaled to
fit the dataset's box and centred by mass. Raw IDX files (``.idx``, ``*-idx3-ubyte``,
optionally ``.gz``) are read as whole stacks of images, unchanged. A file that cannot be
read gets its own one-line error; the others are still classified (exit code 2). With
``--json``, each image is one JSON object on its own line of stdout (JSON Lines): the file,
the index in it, the class, its probability and every class's probability.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

from qimage.cli import SEED
from qimage.cli.options import (
    add_backend_option,
    add_execution_options,
    execution_from,
    model_path,
    on_device,
)
from qimage.data import read_idx
from qimage.errors import DatasetError, QimageError


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="classify image files", description=__doc__.split("\n\n")[1])
    p.add_argument("model", type=Path, help="model file (model.safetensors) or run folder")
    p.add_argument("images", type=Path, nargs="+", help="image files (PNG, JPEG, ..., or IDX)")
    add_execution_options(p)
    p.add_argument("--seed", type=SEED, default=0, help="seed of the shots and noise samples")
    add_backend_option(p)
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per image and line: file, index, class, p, probabilities",
    )
    p.set_defaults(run=run_predict)


def _is_idx(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith((".idx", "-ubyte", ".ubyte")) or ".idx" in name


def load_images(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """``(N, H, W)`` uint8 images from an image file (N = 1) or an IDX stack."""
    return load_prepared(path, shape)[0]


def load_prepared(path: Path, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[str, ...]]:
    """:func:`load_images` and the notes on how a picture was prepared."""
    if not path.is_file():
        raise DatasetError(f"no such image file: {path}")
    if _is_idx(path):
        stack = read_idx(path)
        if stack.ndim != 3 or stack.shape[1:] != shape:
            raise DatasetError(f"{path}: IDX images of shape {stack.shape[1:]}, need {shape}")
        return stack.astype(np.uint8), ()
    from qimage.preprocess.drawing import prepare_drawing

    prepared = prepare_drawing(_read_picture(path), shape)
    return prepared.pixels[None], prepared.notes


def _read_picture(path: Path) -> np.ndarray:
    """The picture's pixels, ``(H, W)`` grey or ``(H, W, 4)`` RGBA, uint8."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # a picture past Pillow's pixel limit is refused, not just warned about
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                has_alpha = "A" in image.getbands() or "transparency" in image.info
                pixels = image.convert("RGBA" if has_alpha else "L")
                return np.asarray(pixels, dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise DatasetError(f"refused as too large to decode ({err})") from None
    except (UnidentifiedImageError, OSError) as err:
        raise DatasetError(f"not an image Pillow can read ({err})") from None


def predictions(path: Path, probs: np.ndarray, names: list[str]) -> list[dict]:
    """What ``predict --json`` prints for the ``(N, C)`` probabilities of one file's images."""
    rows = []
    for i, row in enumerate(probs.tolist()):
        best = max(range(len(row)), key=row.__getitem__)
        rows.append(
            {
                "file": str(path),
                "index": i,
                "class": names[best],
                "p": row[best],
                "probabilities": dict(zip(names, row, strict=True)),
            }
        )
    return rows


def _print_rows(path: Path, probs: np.ndarray, names: list[str], notes, as_json: bool) -> None:
    """One line per image on stdout; how a picture was prepared goes to stderr, so that
    stdout stays one parseable line per image."""
    for note in notes:
        print(f"qimage: note: {path}: {note}", file=sys.stderr)
    for row in predictions(path, probs, names):
        if as_json:
            print(json.dumps(row))
            continue
        label = f"{path}[{row['index']}]" if len(probs) > 1 else str(path)
        spread = "  ".join(f"{n}:{p:.3f}" for n, p in row["probabilities"].items())
        print(f"{label}: class {row['class']} (p={row['p']:.3f})  {spread}")


def run_predict(args) -> int:
    from qimage.train import load_model

    loaded = load_model(model_path(args.model))
    names = loaded.info.get("class_names") or [str(i) for i in range(loaded.config.n_classes)]
    shape = loaded.image_shape
    execution = execution_from(args, seed=args.seed)
    loaded.model, execution = on_device(loaded.model, args.backend, execution, args.seed)
    failed = 0
    for path in args.images:
        try:
            images, notes = load_prepared(path, shape)
        except QimageError as err:
            message = str(err) if str(path) in str(err) else f"{path}: {err}"
            print(f"qimage: error: {message}", file=sys.stderr)
            failed += 1
            continue
        _print_rows(path, loaded.predict_proba(images, execution), names, notes, args.json)
    return 2 if failed else 0
