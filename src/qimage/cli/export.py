"""``qimage export MODEL``: the trained model's circuit for one input, ready for hardware.

Formats: ``qasm3`` and ``qasm2`` (OpenQASM text; amplitude encoding becomes RY/CNOT
state-preparation gates), ``qiskit`` (a QPY file for ``qiskit.qpy.load``), ``cirq`` (Cirq
JSON for ``cirq.read_json``) and ``pennylane`` (a Python script defining ``circuit(x,
weights)`` with the model's measurement and ``logits(x)`` with its readout). The input is
an image file (``--input``) or a test image of the model's dataset (``--index``, default 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

from qimage.cli import output_file
from qimage.cli.options import label_code, model_path
from qimage.cli.predict import load_images
from qimage.errors import CircuitError, DatasetError

FORMATS = ("qasm3", "qasm2", "qiskit", "cirq", "pennylane")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a model's circuit (OpenQASM, Qiskit, Cirq, PennyLane)",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("model", type=Path, help="model file (model.safetensors) or run folder")
    p.add_argument("--format", choices=FORMATS, default="qasm3", help="output format")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", type=Path, help="image file to encode")
    source.add_argument("--index", type=int, default=0, help="test image of the dataset")
    p.add_argument("--data-dir", help="folder holding the dataset's IDX files")
    p.add_argument("--row", type=int, default=0, help="which patch (quanvolution models)")
    p.add_argument(
        "--label",
        help="class to draw (class-conditioned Born machines; default: the test image's)",
    )
    p.add_argument("--out", type=Path, help="output file (default: stdout for text formats)")
    p.set_defaults(run=run_export)


def _image(args, loaded):
    """One raw image ``(1, H, W)``, its class code (0 for an image file) and a description."""
    from qimage.train import DataSpec, test_split

    if args.input is not None:
        return load_images(args.input, loaded.image_shape)[:1], 0, str(args.input)
    spec = DataSpec(**loaded.info["data"])
    spec.data_dir = args.data_dir
    images, labels, _ = test_split(spec)
    if not 0 <= args.index < len(images):
        raise DatasetError(f"--index must be in 0..{len(images) - 1}")
    label = int(labels[args.index])
    return images[args.index : args.index + 1], label, f"test image {args.index} (label {label})"


def _model_input(args, loaded) -> tuple:
    """``(x, source)``: what the model reads for the exported sample, as its family prepares
    it (for a Born machine: the condition row of ``--label``, else of the test image's class)."""
    import torch

    image, label, source = _image(args, loaded)
    features = torch.as_tensor(loaded.pipeline.transform(image), dtype=torch.float32)
    if args.label is not None:
        names = loaded.info.get("class_names") or [str(c) for c in range(loaded.config.n_classes)]
        label, source = label_code(args.label, names), f"class {args.label}"
    family, options = loaded.config.family, loaded.config.options
    x, _ = family.prepare(options, features, torch.tensor([label]), loaded.config.n_classes)
    return x, source


def run_export(args) -> int:
    from qimage.export import capture_circuits, pennylane_script, to_cirq, to_qasm, to_qiskit
    from qimage.train import load_model

    if args.out is not None:
        output_file(args.out, "--out")
    loaded = load_model(model_path(args.model))
    if loaded.pipeline is None:
        raise CircuitError(f"{args.model} has no saved preprocessing")
    features, source = _model_input(args, loaded)
    if args.format == "pennylane":
        return _emit(args, pennylane_script(loaded.model, features, source, args.row))
    circuits = capture_circuits(loaded.model, features, row=args.row)
    if args.format in ("qasm3", "qasm2"):
        text = "\n".join(
            f"// input: {source}\n" + to_qasm(c, int(args.format[-1])) for c in circuits
        )
        return _emit(args, text)
    if args.format == "cirq":
        try:
            import cirq
        except ImportError:
            raise CircuitError("--format cirq needs Cirq: pip install cirq-core") from None
        return _emit(args, cirq.to_json([to_cirq(c, measure=True) for c in circuits]) + "\n")
    if args.out is None:
        raise CircuitError("--format qiskit writes a QPY file: give --out FILE.qpy")
    from qiskit import qpy

    with open(args.out, "wb") as handle:
        qpy.dump([to_qiskit(c, measure=True) for c in circuits], handle)
    print(f"wrote {len(circuits)} circuit(s) to {args.out}", file=sys.stderr)
    return 0


def _emit(args, text: str) -> int:
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
