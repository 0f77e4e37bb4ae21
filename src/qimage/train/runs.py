"""Run folders: never overwritten, never left with orphan temporary files.

A run folder holds a run once it has a checkpoint or a model file. Training into such a
folder is refused unless the user asks to continue it (``--resume``) or to move it aside
(``--force``, which renames it, never deletes it). A folder with only ``run.json`` (killed
in its first epoch, refused for memory, a NaN loss) holds no progress: it can be re-used or
"resumed" from scratch. Temporary files of writes that were killed mid-way are removed.

Example:
    >>> claim_run_folder(Path("runs/new"), resume=False, force=False)  # doctest: +SKIP
    False
"""

from __future__ import annotations

import time
from pathlib import Path

from qimage.errors import TrainingError

__all__ = ["PROGRESS_FILES", "claim_run_folder", "holds_progress", "remove_orphans"]

PROGRESS_FILES = ("checkpoint.pt", "model.safetensors")
"""Files whose presence means a folder holds a run's progress."""


def holds_progress(folder: Path) -> bool:
    return any((folder / name).is_file() for name in PROGRESS_FILES)


def remove_orphans(folder: Path) -> list[Path]:
    """Delete the ``.NAME.*.tmp`` files that interrupted atomic writes left behind."""
    orphans = sorted(folder.glob(".*.tmp")) if folder.is_dir() else []
    for path in orphans:
        path.unlink(missing_ok=True)
    return orphans


def claim_run_folder(folder: Path, *, resume: bool, force: bool) -> bool:
    """Make ``folder`` ready for a run; return whether training continues a checkpoint.

    Raises :class:`TrainingError` when a new run would overwrite one that made progress.
    """
    folder = Path(folder)
    remove_orphans(folder)
    if resume:
        return (folder / "checkpoint.pt").is_file()
    if holds_progress(folder):
        if not force:
            raise TrainingError(
                f"{folder} holds a run already; continue it with --resume {folder}, or pass "
                "--force to move it aside"
            )
        folder.rename(_aside(folder))
    return False


def _aside(folder: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder.with_name(f"{folder.name}.replaced-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.replaced-{stamp}-{n}")
    return target
