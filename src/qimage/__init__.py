"""qimage: hybrid quantum-classical image classification on a fast batched simulator.

``import qimage`` is light: it loads PyTorch and NumPy but none of PennyLane, Qiskit or
matplotlib, which are imported only by the functions that need them.
"""

from __future__ import annotations

from qimage.errors import CircuitError, DatasetError, MemoryLimitError, QimageError

__version__ = "0.1.0"

__all__ = [
    "CircuitError",
    "DatasetError",
    "MemoryLimitError",
    "QimageError",
    "__version__",
]
