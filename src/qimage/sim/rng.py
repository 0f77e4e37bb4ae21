"""Random generators follow the state: one rule for shots, noise trajectories and SPSA.

A ``torch.Generator`` given to :func:`qimage.sim.run` draws every random number of the run
(shot samples, trajectory errors, SPSA perturbations) on the state's device, so it must live
on that device; without one, each draw uses PyTorch's default generator of that device.
:func:`device_generator` makes a seeded generator for a device, for the layers above.

Example:
    >>> import torch
    >>> gen = device_generator(7, "cpu")
    >>> check_generator(gen, torch.device("cpu")) is gen
    True
"""

from __future__ import annotations

import torch

from qimage.errors import CircuitError

__all__ = ["check_generator", "device_generator"]


def device_generator(seed: int, device=None) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` (CPU by default) seeded with ``seed``."""
    device = torch.device("cpu" if device is None else device)
    return torch.Generator(device=device).manual_seed(int(seed))


def _same_device(a: torch.device, b: torch.device) -> bool:
    """Equal devices; an unindexed accelerator means the current one, so it matches any
    index of the same type."""
    return a.type == b.type and (a.index is None or b.index is None or a.index == b.index)


def check_generator(generator: torch.Generator | None, device) -> torch.Generator | None:
    """``generator`` itself when it is ``None`` or on ``device``; else a one-line error."""
    device = torch.device(device)
    if generator is not None and not _same_device(generator.device, device):
        raise CircuitError(
            f"the random generator is on {generator.device} but the state is on {device}: "
            f"make it with qimage.sim.rng.device_generator(seed, {str(device)!r})"
        )
    return generator
