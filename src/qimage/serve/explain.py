"""What the page shows for one drawing: every step from pixels to class probabilities.

:class:`Explainer` holds a loaded model and never changes it. For a drawing it gives the
prepared image, the features the circuit encodes, the circuit's gate values, the measured
readout (one full-register measurement per run, from which the per-wire ``<Z_i>`` and the
readout's own outcomes both follow), how the readout becomes class scores, the class
probabilities (mean and spread over repeated runs when shots are asked for) and the
gradient of the loss for a label by parameter shift and by autograd.

Shots and noise go through :class:`qimage.sim.Execution`; the gradient runs on a float64
copy of the model made once, so the served model is never mutated.

Example:
    >>> from qimage.serve import PRETRAINED
    >>> from qimage.train import load_model
    >>> explainer = Explainer(load_model(PRETRAINED))  # doctest: +SKIP
    >>> explainer.explain(canvas, shots=100, label=7)["classes"]["top"]  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import torch
from torch.nn import functional as F

from qimage.circuits.draw import columns, labels
from qimage.models.qnn import QNN
from qimage.preprocess.drawing import prepare_drawing
from qimage.sim import Execution, Param, Probs
from qimage.train import ModelFile

__all__ = ["REPEATS", "Explainer"]

REPEATS = 16  # runs under shots whose spread gives the error bars


def _z_from_probs(p: torch.Tensor, n: int) -> torch.Tensor:
    """``<Z_i>`` of every wire from full-register probabilities ``(B, 2^n)`` (wire 0 is the
    most significant bit): ``(B, n)``."""
    index = torch.arange(2**n, device=p.device)
    bits = (index[None, :] >> torch.arange(n - 1, -1, -1, device=p.device)[:, None]) & 1
    return p @ (1 - 2 * bits).T.to(p.dtype)


def _marginal(p: torch.Tensor, n: int, wires: tuple[int, ...]) -> torch.Tensor:
    """Probabilities of the basis states of ``wires`` from full-register ``p``: ``(B, 2^k)``."""
    index = torch.arange(2**n, device=p.device)
    local = torch.zeros_like(index)
    for k, wire in enumerate(wires):
        local |= ((index >> (n - 1 - wire)) & 1) << (len(wires) - 1 - k)
    out = torch.zeros(p.shape[0], 2 ** len(wires), dtype=p.dtype, device=p.device)
    return out.index_add_(1, local, p)


def _value(param: Param, x: torch.Tensor, w: torch.Tensor) -> float:
    value = param.scale
    value *= float(x[param.x]) if param.x is not None else 1.0
    return value * (float(w[param.w]) if param.w is not None else 1.0)


def _stats(rows: torch.Tensor) -> dict:
    return {
        "mean": rows.mean(0).tolist(),
        "std": (rows.std(0, unbiased=False) if len(rows) > 1 else 0 * rows[0]).tolist(),
    }


class Explainer:
    """Explains one served model's decisions (see the module docstring)."""

    def __init__(self, loaded: ModelFile):
        self.loaded = loaded
        self.shape = loaded.image_shape
        n = loaded.config.n_classes
        self.names = [str(c) for c in loaded.info.get("class_names") or range(n)]
        self.is_qnn = isinstance(loaded.model, QNN)
        self._twin = copy.deepcopy(loaded.model).double().eval() if self.is_qnn else None

    def describe(self) -> dict:
        """What does not change between requests: the model, its image size, its circuit."""
        out = {
            "model": self.loaded.config.describe(),
            "image_shape": list(self.shape),
            "class_names": self.names,
            "qnn": self.is_qnn,
            "test_accuracy": self.loaded.info.get("test_accuracy"),
        }
        if self.is_qnn:
            qc = self.loaded.model.quantum.qc
            out["n_qubits"] = qc.n_qubits
            out["encoder"] = qc.encoder.name
            out["readout"] = "probs" if isinstance(self._readout_measurement, Probs) else "expval"
        return out

    @property
    def _readout_measurement(self):
        return self.loaded.model.readout.measurement

    def features(self, image: np.ndarray) -> tuple[np.ndarray, torch.Tensor, tuple[str, ...]]:
        """The prepared image ``(H, W)`` uint8, its features ``(1, F)`` and the notes."""
        prepared = prepare_drawing(image, self.shape)
        pipeline = self.loaded.pipeline
        raw = prepared.pixels[None]
        feats = pipeline.transform(raw) if pipeline is not None else raw
        return (
            prepared.pixels,
            torch.as_tensor(np.asarray(feats), dtype=torch.float64),
            prepared.notes,
        )

    def explain(
        self,
        image: np.ndarray,
        *,
        shots: int | None = None,
        noise: float = 0.0,
        label: int | None = None,
        seed: int = 0,
    ) -> dict:
        """Everything the page shows for ``image`` (0..255, grey, RGB or RGBA)."""
        pixels, x, notes = self.features(image)
        execution = Execution(
            shots=shots, noise=f"depolarizing={noise}" if noise > 0 else None, seed=seed
        )
        out = {"prepared": (pixels / 255.0).round(4).tolist(), "notes": list(notes)}
        if not self.is_qnn:
            probs = torch.as_tensor(self.loaded.predict_proba(pixels[None], execution))
            out["classes"] = self._classes(probs)
            return out
        repeats = REPEATS if shots is not None else 1  # noise alone is exact: one run
        out.update(self._quantum(x, execution, repeats))
        top = out["classes"]["top"]
        out["gradient"] = self._gradient(x, top if label is None else label)
        return out

    def _classes(self, probs: torch.Tensor) -> dict:
        stats = _stats(probs.double())
        return {"names": self.names, **stats, "top": int(np.argmax(stats["mean"]))}

    @torch.no_grad()
    def _quantum(self, x: torch.Tensor, execution: Execution, repeats: int) -> dict:
        model = self.loaded.model
        layer, qc = model.quantum, model.quantum.qc
        flat = x.to(layer.weights.dtype).repeat(repeats, 1)
        inputs = qc.prepare(flat) if qc.circuit.n_inputs else None
        state = qc.initial_state(flat, execution.state_dtype(layer.weights.dtype))
        probe = copy.copy(layer)  # the same weights, measuring every wire
        probe.measurement = Probs()
        full = probe.simulate(qc.circuit, inputs, state, execution).double()
        n, measured = qc.n_qubits, self._readout_measurement
        if isinstance(measured, Probs):
            readout = _marginal(full, n, measured.wires)
        else:
            readout = _z_from_probs(full, n)[:, list(measured.wires)]
        logits = model.readout(readout.to(layer.weights.dtype)).double()
        probs = self.loaded.config.objective.proba(logits)
        return {
            "encoding": self._encoding(x[0], inputs, state),
            "circuit": self._circuit(inputs[0] if inputs is not None else None),
            "readout": {
                "kind": "probs" if isinstance(measured, Probs) else "expval",
                "wires": list(measured.wires),
                "z": _stats(_z_from_probs(full, n)),
                "measured": _stats(readout),
                "scale": model.readout.scale.double().tolist(),
                "bias": model.readout.bias.double().tolist(),
                "logits": _stats(logits),
            },
            "classes": self._classes(probs),
            "execution": {
                "shots": execution.shots,
                "noise": str(execution.noise or "none"),
                "repeats": repeats,
            },
        }

    def _encoding(self, features: torch.Tensor, inputs, state) -> dict:
        if state is not None:
            return {"kind": "amplitude", "values": state[0].reshape(-1).real.double().tolist()}
        return {"kind": "angles", "values": features.tolist()}

    def _circuit(self, inputs: torch.Tensor | None) -> dict:
        """The circuit's columns, each op with its wires and its label at its actual values."""
        layer = self.loaded.model.quantum
        circuit, w = layer.qc.circuit, layer.weights.detach().double()
        x = inputs.double() if inputs is not None else None
        cols = []
        for column in columns(circuit):
            ops = []
            for op in column:
                bound = tuple(Param.const(_value(p, x, w)) for p in op.params)
                marks = labels(dataclasses.replace(op, params=bound))
                encodes = any(p.x is not None for p in op.params)
                ops.append({"wires": list(op.wires), "marks": marks, "input": encodes})
            cols.append(ops)
        prep = "amplitude" if layer.qc.initial_state is not None and x is None else None
        return {"n_qubits": circuit.n_qubits, "columns": cols, "state_prep": prep}

    def _gradient(self, x: torch.Tensor, label: int) -> dict:
        """d loss / d weights per layer, by parameter shift and by autograd, exact, float64."""
        target = torch.tensor([label])
        grads = {}
        for method in ("parameter-shift", "backprop"):
            twin = self._twin
            logits = twin(x, execution=Execution(diff_method=method))
            loss = F.cross_entropy(logits, target)
            grads[method] = torch.autograd.grad(loss, twin.quantum.weights)[0]
        shift, auto = grads["parameter-shift"], grads["backprop"]
        rows = []
        for owner, offset, shape in self._twin.quantum.qc.blocks:
            count = int(np.prod(shape))
            per = count // shape[0] if owner == "ansatz" and len(shape) > 1 else count
            for start in range(offset, offset + count, per):
                name = f"layer {(start - offset) // per + 1}" if per < count else owner
                rows.append(
                    {
                        "name": name,
                        "shift": shift[start : start + per].tolist(),
                        "autograd": auto[start : start + per].tolist(),
                    }
                )
        return {
            "label": int(label),
            "loss": float(loss.detach()),
            "layers": rows,
            "max_diff": float((shift - auto).abs().max()),
        }
