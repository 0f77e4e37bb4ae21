"""Exceptions shared by every layer of qimage.

Every error a user can cause derives from :class:`QimageError`, so the command line can
turn it into one line on stderr and exit code 2 instead of a traceback. Each also derives
from the matching built-in (``ValueError``, ``OSError``, ...) so ordinary ``except``
clauses keep working.
"""

from __future__ import annotations

__all__ = [
    "CircuitError",
    "DatasetError",
    "MemoryLimitError",
    "ModelFileError",
    "QimageDeprecationWarning",
    "QimageError",
    "TrainingError",
]


class QimageError(Exception):
    """Base class of every error caused by a user's input or environment."""


class CircuitError(QimageError, ValueError):
    """An invalid circuit, gate, wire, parameter shape or simulator argument."""


class MemoryLimitError(QimageError, MemoryError):
    """A simulation would need more memory than the configured limit allows."""


class DatasetError(QimageError, OSError):
    """A dataset that cannot be found, downloaded, verified or parsed."""


class TrainingError(QimageError, RuntimeError):
    """Training that cannot go on: a NaN loss, a checkpoint that does not fit, and so on."""


class ModelFileError(QimageError, ValueError):
    """A model or checkpoint file with the wrong format, version or shapes."""


class QimageDeprecationWarning(DeprecationWarning):
    """Raised for qimage's own deprecations (turned into errors in the test suite)."""
