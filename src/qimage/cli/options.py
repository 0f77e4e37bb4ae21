"""Options shared by several commands, light to import.

``qimage info --help`` (and evaluate's, export's, predict's) builds its parser from these
helpers, so this module imports neither PyTorch nor the packages that load it: they are
imported by the functions that run a command.
"""

from __future__ import annotations

from pathlib import Path

from qimage.errors import CircuitError, TrainingError

__all__ = [
    "EXECUTION_FLAGS",
    "add_backend_option",
    "add_execution_options",
    "check_device",
    "execution_from",
    "given",
    "label_code",
    "model_path",
    "on_device",
]

# Flags that set a field of a qimage.sim.Execution: flag destination -> field name.
EXECUTION_FLAGS = {
    "diff_method": "diff_method",
    "shots": "shots",
    "precision": "dtype",
    "noise": "noise",
    "device": "device",
}


def model_path(path: Path) -> Path:
    """Accept a run folder for its ``model.safetensors``."""
    return path / "model.safetensors" if path.is_dir() else path


def add_execution_options(group, training: bool = False) -> None:
    """``--shots``, ``--noise``, ``--device`` (and for training ``--diff-method``,
    ``--precision``, whose choices come from the simulator): the fields of an
    :class:`qimage.sim.Execution`."""
    if training:
        from qimage.sim import DTYPES, GRADIENT_METHODS

        group.add_argument(
            "--diff-method",
            choices=GRADIENT_METHODS,
            help="gradient method (default: backprop, or adjoint where backprop would not fit the "
            "memory budget; parameter-shift with --shots, "
            "backprop with --noise)",
        )
        group.add_argument("--precision", choices=list(DTYPES), help="state dtype")
    group.add_argument("--shots", type=int, help="estimate outputs from this many shots")
    group.add_argument(
        "--noise", metavar="SPEC", help="simulate noise, e.g. depolarizing=0.01,readout=0.02"
    )
    group.add_argument(
        "--device", metavar="DEVICE", help="where to run: cpu, cuda or cuda:N (default: cpu)"
    )


def add_backend_option(p) -> None:
    """``--backend SPEC``, shared by ``qimage evaluate`` and ``qimage predict``."""
    p.add_argument(
        "--backend",
        metavar="SPEC",
        help="run the circuits on pennylane:<device>, e.g. pennylane:default.qubit, "
        "pennylane:lightning.qubit or pennylane:qiskit.aer (with --shots: shots per circuit; "
        "default: qimage's own simulator)",
    )


def given(args, flags: dict) -> dict:
    """``{field: value}`` of the ``flags`` (destination -> field) given on the command line."""
    return {
        field: getattr(args, flag)
        for flag, field in flags.items()
        if getattr(args, flag) is not None
    }


def execution_from(args, **extra):
    """The :class:`qimage.sim.Execution` the command-line flags describe."""
    from qimage.sim import Execution

    fields = given(args, {k: v for k, v in EXECUTION_FLAGS.items() if hasattr(args, k)})
    if fields.get("device") is not None:
        check_device(fields["device"])
    return Execution(**fields, **extra)


def check_device(device: str) -> None:
    """Refuse a device PyTorch does not know or this machine does not have, in one line."""
    import torch

    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise TrainingError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(f"--device {device}: no CUDA device is available on this machine")
    if parsed.type not in ("cpu", "cuda"):
        raise TrainingError(f"unsupported device {device!r}; use cpu, cuda or cuda:N")


def on_device(model, backend, execution, seed: int):
    """The model and execution to run: on the ``--backend`` device (which draws its own
    shots and noise), else on qimage's simulator under ``execution``."""
    from qimage.export import PennyLaneModel, parse_backend

    device = parse_backend(backend)
    if device is None:
        return model.to(execution.device or "cpu"), execution
    if execution.noise is not None:
        raise CircuitError(
            "--noise simulates noise in qimage's simulator; with --backend the device's own "
            "noise applies (use a noisy device, or leave out --backend)"
        )
    return PennyLaneModel(model, device, shots=execution.shots, seed=seed), None


def label_code(label: str | None, names: list[str]) -> int | None:
    """The class index of ``label`` (a class name of the run), or one clear error."""
    if label is None:
        return None
    if label not in names:
        raise CircuitError(f"label {label!r} is not one the model was conditioned on: {names}")
    return names.index(label)
