"""``Execution``: how to run a circuit, as one immutable value passed to each run.

A built model holds its weights and nothing about how it is run. Gradient method, shots,
noise, random seed, state precision and device travel in an :class:`Execution` handed to
every forward call (``model(x, execution=...)``), so two callers can run one model
differently at the same time: exactly and under 1,000 shots, ideal and noisy.

``None`` in ``dtype`` or ``device`` means "follow the module": the state precision is the
complex counterpart of the weights' dtype (``model.double()`` simulates in complex128) and
the state lives where the weights are (``model.to("cuda")``).

Example:
    >>> noisy = Execution(shots=1000, noise="depolarizing=0.01", seed=0)
    >>> noisy.gradient_method
    'parameter-shift'
    >>> Execution().replace(diff_method="backprop").diff_method
    'backprop'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from qimage.errors import CircuitError
from qimage.sim.noise import NoiseModel
from qimage.sim.validate import AUTO, GRADIENT_METHODS

__all__ = ["DTYPES", "Execution"]

DTYPES = {"complex64": torch.complex64, "complex128": torch.complex128}
"""State precisions by name (as saved in run files)."""


def _noise_model(noise) -> NoiseModel | None:
    if noise is None or isinstance(noise, NoiseModel):
        return noise
    if isinstance(noise, str):
        return NoiseModel.parse(noise) if noise.strip() else None
    if isinstance(noise, dict):
        return NoiseModel(**{**noise, "readout": tuple(noise.get("readout", (0.0, 0.0)))})
    raise CircuitError(f"noise must be a NoiseModel, its text form or None, got {noise!r}")


def _noise_dict(noise: NoiseModel) -> dict:
    return {f.name: getattr(noise, f.name) for f in dataclasses.fields(noise) if f.init}


def _dtype(value) -> torch.dtype | None:
    if value is None or value in DTYPES.values():
        return value
    if value in DTYPES:
        return DTYPES[value]
    raise CircuitError(f"dtype must be one of {', '.join(DTYPES)}, got {value!r}")


@dataclass(frozen=True)
class Execution:
    """How a circuit is run: one immutable value, handed to each call.

    Attributes:
        diff_method: ``"backprop"``, ``"adjoint"``, ``"parameter-shift"``, ``"spsa"`` or
            ``None`` (the default): for exact ideal runs ``"auto"``, backprop where its
            stored states fit the memory budget and adjoint otherwise (decided per call by
            :func:`qimage.sim.execute.gradient_method`); parameter shift with shots;
            backprop under noise (see :attr:`gradient_method`).
        shots: ``None`` for exact outputs, else samples per estimate.
        noise: a :class:`qimage.sim.NoiseModel`, its text form (``"depolarizing=0.01"``)
            or ``None`` for an ideal device.
        seed: seeds the shots and noise draws (one generator per device, made on first use);
            ``None`` draws from the device's global generator.
        generator: an explicit ``torch.Generator`` instead of ``seed`` (on the state's device).
        dtype: ``torch.complex64``/``complex128`` (or their names); ``None`` follows the
            weights' dtype.
        device: where the state lives; ``None`` follows the weights.
    """

    diff_method: str | None = None
    shots: int | None = None
    noise: NoiseModel | str | None = None
    seed: int | None = None
    generator: torch.Generator | None = field(default=None, compare=False, repr=False)
    dtype: torch.dtype | str | None = None
    device: torch.device | str | None = None
    _rngs: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "noise", _noise_model(self.noise))
        object.__setattr__(self, "dtype", _dtype(self.dtype))
        if self.device is not None:
            object.__setattr__(self, "device", torch.device(self.device))
        if self.diff_method is not None and self.diff_method not in GRADIENT_METHODS:
            raise CircuitError(
                f"unknown diff_method {self.diff_method!r}; choose one of {GRADIENT_METHODS}"
            )
        if self.shots is not None and (isinstance(self.shots, bool) or self.shots < 1):
            raise CircuitError(f"shots must be >= 1, got {self.shots}")

    def replace(self, **changes) -> Execution:
        """A copy with ``changes`` (generators made from the seed are not shared)."""
        return dataclasses.replace(self, **changes)

    @property
    def is_noisy(self) -> bool:
        return self.noise is not None and not self.noise.is_ideal

    @property
    def gradient_method(self) -> str:
        """The diff method this run uses: the given one, or the default for its settings
        (``"auto"``: backprop or adjoint by memory, resolved per call by the engine)."""
        if self.diff_method is not None:
            return self.diff_method
        if self.shots is not None:
            return "parameter-shift"
        return "backprop" if self.is_noisy else AUTO

    def state_dtype(self, real: torch.dtype) -> torch.dtype:
        """The complex state dtype for weights of real dtype ``real``."""
        return self.dtype or (torch.complex128 if real == torch.float64 else torch.complex64)

    def rng(self, device: torch.device | str) -> torch.Generator | None:
        """The generator for shots and noise on ``device``: the explicit one, else one per
        device seeded with :attr:`seed` (kept, so successive calls draw fresh samples)."""
        if self.generator is not None or self.seed is None:
            return self.generator
        device = torch.device(device)
        if device not in self._rngs:
            self._rngs[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._rngs[device]

    def run_options(self, real: torch.dtype, device: torch.device | str) -> dict:
        """Keyword arguments of :func:`qimage.sim.run` for weights of dtype ``real`` on
        ``device``."""
        return {
            "diff_method": self.gradient_method,
            "shots": self.shots,
            "generator": self.rng(device),
            "dtype": self.state_dtype(real),
            "noise": self.noise if self.is_noisy else None,
        }

    def to_dict(self) -> dict:
        """A JSON-able form (the generator is not saved; the seed is)."""
        noise = self.noise
        return {
            "diff_method": self.diff_method,
            "shots": self.shots,
            "noise": None if noise is None else _noise_dict(noise),
            "seed": self.seed,
            "dtype": None if self.dtype is None else str(self.dtype).removeprefix("torch."),
            "device": None if self.device is None else str(self.device),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Execution:
        known = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "generator"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CircuitError(f"unknown execution keys: {', '.join(unknown)}")
        return cls(**data)
