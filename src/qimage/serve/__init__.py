"""``qimage serve``: a page to draw a digit on and watch the quantum circuit decide.

:class:`Explainer` (no web dependencies) computes what the page shows; :func:`create_app`
in :mod:`qimage.serve.app` wraps it in a FastAPI app (the ``serve`` extra). ``PRETRAINED``
is the small digits QNN shipped in the package, served when no model is given; it is made
by ``benchmarks/train_pretrained.py``.
"""

from __future__ import annotations

from pathlib import Path

from qimage.serve.explain import REPEATS, Explainer

__all__ = ["PRETRAINED", "REPEATS", "STATIC", "Explainer"]

PRETRAINED = Path(__file__).parent / "pretrained" / "digits-qnn.safetensors"
STATIC = Path(__file__).parent / "static"
