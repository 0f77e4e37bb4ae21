"""``qimage info MODEL``: the circuit diagram, the parameter count and the configs."""

from __future__ import annotations

import json
from pathlib import Path

from qimage.circuits import draw
from qimage.cli.evaluate import model_path
from qimage.models import count_parameters
from qimage.train import load_model


def add_parser(sub) -> None:
    p = sub.add_parser(
        "info",
        help="show a model's circuit, parameter count and configuration",
        description="Print the circuit diagram of a trained model as text, its number of "
        "trainable parameters, and the configuration it was trained with.",
    )
    p.add_argument("model", type=Path, help="model file (model.safetensors) or run folder")
    p.add_argument("--width", type=int, default=160, help="cut diagram lines at this width")
    p.add_argument("--png", type=Path, help="also draw the (first) circuit into this PNG file")
    p.set_defaults(run=run_info)


def quantum_layers(model):
    """The model's :class:`qimage.models.QuantumLayer` s, in order."""
    from qimage.models import QuantumLayer

    return [m for m in model.modules() if isinstance(m, QuantumLayer)]


def run_info(args) -> int:
    loaded = load_model(model_path(args.model))
    model = loaded.model
    print(f"model: {loaded.config.describe()}, {count_parameters(model)} trainable parameters")
    for layer in quantum_layers(model):
        qc = layer.qc
        print(f"\ncircuit: {layer.extra_repr()}")
        print(f"measured: {layer.measurement}")
        print(draw(qc.circuit, max_width=args.width))
    if args.png is not None and quantum_layers(model):
        from qimage.circuits.draw import plot_circuit

        layer = quantum_layers(model)[0]
        start = "amplitude-encoded input, then " if layer.qc.encoder.name == "amplitude" else ""
        title = f"{start}{layer.qc.ansatz.name} x{layer.qc.n_layers} on {layer.qc.n_qubits} qubits"
        plot_circuit(layer.qc.circuit, args.png, title=title, max_columns=14)
        print(f"\nwrote {args.png}")
    print("\nmodel config:\n" + json.dumps(loaded.config.to_dict(), indent=2))
    print("\ntraining:\n" + json.dumps(loaded.info, indent=2))
    return 0
