"""``qimage info MODEL``: the circuit diagram, the parameter count and the configs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qimage.cli import bounded, output_file
from qimage.cli.options import model_path
from qimage.errors import CircuitError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "info",
        help="show a model's circuit, parameter count and configuration",
        description="Print the circuit diagram of a trained model as text, its number of "
        "trainable parameters, and the configuration it was trained with.",
    )
    p.add_argument("model", type=Path, help="model file (model.safetensors) or run folder")
    p.add_argument(
        "--width", type=bounded(100_000), default=160, help="cut diagram lines at this width"
    )
    p.add_argument("--png", type=Path, help="also draw the (first) circuit into this PNG file")
    p.add_argument("--json", action="store_true", help="print the description as one JSON object")
    p.set_defaults(run=run_info)


def quantum_layers(model):
    """The model's quantum layers (qimage.models.QuantumLayer), in order."""
    from qimage.models import QuantumLayer

    return [m for m in model.modules() if isinstance(m, QuantumLayer)]


def describe(loaded) -> dict:
    """What ``info --json`` prints: the model, its circuits, config and training record."""
    from qimage.models import count_parameters

    circuits = [
        {
            "circuit": layer.extra_repr(),
            "n_qubits": layer.qc.n_qubits,
            "measured": str(layer.measurement),
        }
        for layer in quantum_layers(loaded.model)
    ]
    return {
        "model": loaded.config.describe(),
        "n_parameters": count_parameters(loaded.model),
        "circuits": circuits,
        "config": loaded.config.to_dict(),
        "training": loaded.info,
    }


def run_info(args) -> int:
    from qimage.train import load_model

    if args.width < 10:
        raise CircuitError(f"--width must be >= 10, got {args.width}")
    png = None if args.png is None else output_file(args.png, "--png")
    loaded = load_model(model_path(args.model))
    layers = quantum_layers(loaded.model)
    if png is not None and not layers:
        raise CircuitError(f"--png: {args.model} is a classical model, with no circuit to draw")
    if args.json:
        print(json.dumps(describe(loaded), indent=2))
    else:
        _print_text(loaded, layers, args.width)
    if png is not None:
        _plot(layers[0], png)
    return 0


def _print_text(loaded, layers, width: int) -> None:
    from qimage.circuits import draw
    from qimage.models import count_parameters

    n_parameters = count_parameters(loaded.model)
    print(f"model: {loaded.config.describe()}, {n_parameters} trainable parameters")
    for layer in layers:
        print(f"\ncircuit: {layer.extra_repr()}")
        print(f"measured: {layer.measurement}")
        print(draw(layer.qc.circuit, max_width=width))
    print("\nmodel config:\n" + json.dumps(loaded.config.to_dict(), indent=2))
    print("\ntraining:\n" + json.dumps(loaded.info, indent=2))


def _plot(layer, png: Path) -> None:
    from qimage.circuits.draw import plot_circuit

    qc = layer.qc
    start = f"{qc.encoder.name}-encoded input, then " if qc.encoder.prepares_state else ""
    title = f"{start}{qc.ansatz.name} x{qc.n_layers} on {qc.n_qubits} qubits"
    plot_circuit(qc.circuit, png, title=title, max_columns=14)
    print(f"\nwrote {png}", file=sys.stderr)
