"""Training progress on stderr: a live rich bar, one summary line per epoch, or nothing."""

from __future__ import annotations

import math
import sys

__all__ = ["ProgressBar"]


def _mode(enabled: bool | str | None) -> str:
    if enabled is None:
        return "bar" if sys.stderr.isatty() else "off"
    if isinstance(enabled, str):
        return enabled
    return "bar" if enabled else "off"


def _fmt(value: float, pattern: str) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else pattern % value
    )


class ProgressBar:
    """Context manager; ``enabled`` is True/False/None (auto) or "bar", "epochs", "off"."""

    def __init__(self, enabled: bool | str | None = None):
        self.mode = _mode(enabled)
        self._progress = None
        self._task = None
        self._console = None

    def __enter__(self) -> ProgressBar:
        if self.mode in ("bar", "epochs"):
            from rich.console import Console

            # soft_wrap: a log line is never cut at the console width (piped output has
            # rich's 80-column default, which split "2,037 samples/s" across lines)
            self._console = Console(stderr=True, soft_wrap=True)
        if self.mode == "bar":
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.fields[metrics]}"),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def start_epoch(self, epoch: int, epochs: int, n_batches: int, done: int = 0) -> None:
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(
            f"epoch {epoch}/{epochs}", total=n_batches, completed=done, metrics=""
        )

    def update(self, sums: dict) -> None:
        """Running totals: ``loss``, the objective's metrics, ``count`` and ``seconds``."""
        count = sums.get("count", 0)
        if self._progress is None or not count:
            return
        shown = [f"{k} {v / count:.4f}" for k, v in sums.items() if k not in ("count", "seconds")]
        speed = f"{count / max(sums.get('seconds', 0.0), 1e-9):,.0f} samples/s"
        self._progress.update(self._task, advance=1, metrics="  ".join([*shown, speed]))

    def end_epoch(self, row: dict) -> None:
        if self._console is None:
            return
        metrics = [
            f"{k.removeprefix('train_')} {_fmt(v, '%.4f')}"
            for k, v in row.items()
            if k.startswith(("train_", "val_"))
        ]
        self._console.print(
            f"epoch {row['epoch']:>3}  {'  '.join(metrics)}  {row['samples_per_s']:,.0f} samples/s",
            highlight=False,
        )
