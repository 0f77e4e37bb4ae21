"""Checkpoints: everything needed to continue training exactly, written atomically.

A checkpoint holds the model, optimiser and scheduler states, the position in training
(epoch, next batch, the epoch's batch order), the history so far, the best weights seen, the
configs and every random generator's state. It is written to a temporary file and renamed,
so an interruption never leaves a half-written checkpoint, and read back with
``torch.load(weights_only=True)``, which never runs pickled code.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import torch

from qimage.errors import TrainingError

__all__ = ["FORMAT_VERSION", "load_checkpoint", "save_checkpoint"]

FORMAT_VERSION = 1


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the file over ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        if err.errno != errno.ENOSPC:
            raise
        free = shutil.disk_usage(path.parent).free
        raise TrainingError(
            f"no space left to write {path} ({free:,} bytes free); the previous file is intact"
        ) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_checkpoint(path: Path, state: dict) -> None:
    """Write ``state`` (tensors, numbers, strings, lists and dicts only) atomically."""
    atomic_write(path, lambda tmp: torch.save({"version": FORMAT_VERSION, **state}, tmp))


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`, refusing other versions."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # a corrupt or foreign file: say so in one line
        raise TrainingError(f"{path} is not a readable qimage checkpoint ({err})") from None
    if not isinstance(state, dict) or state.get("version") != FORMAT_VERSION:
        found = state.get("version") if isinstance(state, dict) else type(state).__name__
        raise TrainingError(
            f"{path} has checkpoint version {found}, this qimage reads version {FORMAT_VERSION}"
        )
    return state
