"""``qimage sample RUN --n 64 [--label 3] [--shots]``: draw images from a Born machine.

Writes ``samples.png`` (a grid of the images, white = 1) and ``samples.txt`` (one bit string a
line, pixels row-major) to ``--out`` (default: ``RUN/samples``). Without ``--shots`` the images
are drawn from the circuit's exact distribution; with it, they are ``n`` measurements of the
simulated circuit, as hardware would give them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from qimage.cli import SEED, bounded
from qimage.cli.options import label_code, model_path
from qimage.errors import CircuitError
from qimage.models.born import BornMachine, born_sample
from qimage.models.families.born import image_shape
from qimage.sim import Execution
from qimage.train import load_model

_SCALE = 12  # screen pixels per image pixel
_COLUMNS = 8


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sample", help="draw images from a Born machine", description=__doc__.split("\n\n")[1]
    )
    p.add_argument("model", type=Path, help="model file (model.safetensors) or run folder")
    p.add_argument("--n", type=bounded(1_000_000), default=64, help="number of images (default 64)")
    p.add_argument("--label", help="class to draw (class-conditioned models only)")
    p.add_argument("--shots", action="store_true", help="measure the circuit, as hardware would")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the draws (default 0)")
    p.add_argument("--out", type=Path, help="output folder (default: RUN/samples)")
    p.set_defaults(run=run_sample)


def grid_png(images: np.ndarray, path: Path) -> None:
    """Save 0/1 images ``(N, H, W)`` as one PNG grid, ``_COLUMNS`` a row, 1-pixel gaps grey."""
    from PIL import Image

    n, h, w = images.shape
    rows, cols = -(-n // _COLUMNS), min(n, _COLUMNS)
    canvas = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1), 96, dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, _COLUMNS)
        canvas[1 + r * (h + 1) : (r + 1) * (h + 1), 1 + c * (w + 1) : (c + 1) * (w + 1)] = (
            255 * image
        )
    big = np.kron(canvas, np.ones((_SCALE, _SCALE), dtype=np.uint8))
    Image.fromarray(big).save(path)


def run_sample(args) -> int:
    loaded = load_model(model_path(args.model))
    if not isinstance(loaded.model, BornMachine):
        raise CircuitError(f"{args.model} is a {loaded.config.name} model, not a Born machine")
    names = loaded.info.get("class_names") or [str(i) for i in range(loaded.config.n_classes)]
    code = label_code(args.label, names) if loaded.model.n_conditions > 1 else args.label
    execution = Execution(shots=args.n, seed=args.seed) if args.shots else None
    generator = torch.Generator().manual_seed(args.seed)
    bits = born_sample(loaded.model, args.n, code, execution=execution, generator=generator)
    bits = bits.numpy()
    out = args.out or Path(args.model) / "samples"
    out.mkdir(parents=True, exist_ok=True)
    shape = image_shape(loaded.config.options, loaded.config.n_features)
    grid_png(bits.reshape(-1, *shape), out / "samples.png")
    (out / "samples.txt").write_text("".join("".join(map(str, row)) + "\n" for row in bits))
    print(f"wrote {args.n} samples to {out / 'samples.png'} and {out / 'samples.txt'}")
    return 0
