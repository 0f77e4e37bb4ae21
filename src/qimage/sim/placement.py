"""Constant tensors placed on a device once: plan indices, recipe gathers, gate constants.

Compiled plans, build recipes and gate builders keep their constant tensors (gather indices,
angle scales, fixed gate matrices) on the CPU, where they were computed. The engine asks for
them on the state's device with :func:`placed`, which copies each constant to a device (and
dtype) once and keeps the copy in a dict owned by the constant's owner: no step copies a
constant host-to-device again, and the copies live exactly as long as the plan or gate.

Example:
    >>> import torch
    >>> copies = {}
    >>> index = torch.arange(4, device="cpu")
    >>> placed(copies, index, torch.device("cpu")) is index
    True
"""

from __future__ import annotations

import torch

__all__ = ["HOST", "placed"]

HOST = torch.device("cpu")
"""Where constants are computed, whatever PyTorch's default device."""


def placed(copies: dict, tensor: torch.Tensor, device, dtype=None) -> torch.Tensor:
    """``tensor`` on ``device`` (and in ``dtype``), copied once and kept in ``copies``.

    ``copies`` belongs to the owner of ``tensor``; each entry keeps ``tensor`` itself too, so
    that its ``id`` (the key) cannot pass to another tensor. The copy is made outside
    inference mode: a constant cached during evaluation must still serve training steps.
    """
    key = (id(tensor), device, dtype)
    entry = copies.get(key)
    if entry is None:
        with torch.inference_mode(False):
            entry = copies[key] = (tensor, tensor.to(device=device, dtype=dtype))
    return entry[1]
