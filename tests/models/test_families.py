"""Model families describe themselves, and an Execution is a value passed to each run.

Each test here failed on the code before families and executions: a model's preprocessing,
qubit count and objective lived in the trainer, the benchmark and the command line; noise
was silently dropped for quanvolution; ``.double()`` left the simulation in complex64.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from qimage.errors import CircuitError
from qimage.models import FAMILIES, Family, ModelConfig, Objective, build_model, get_family
from qimage.models.layer import QuantumLayer
from qimage.sim import Execution

SRC = Path(__file__).resolve().parents[2] / "src" / "qimage"
QUANTUM = [name for name, family in FAMILIES.items() if family.quantum]
_NOISE = "depolarizing=0.3"


def _model(name: str, n_features: int = 9, n_classes: int = 3, seed: int = 0):
    cfg = ModelConfig(name, n_features=n_features, n_classes=n_classes).resolved()
    return build_model(cfg, torch.Generator().manual_seed(seed))


class TestNoNameBranches:
    @pytest.mark.parametrize("part", ["train", "estimators", "bench", "report", "cli", "export"])
    def test_no_layer_above_models_compares_a_family_name(self, part):
        """No ``name == "qnn"`` / ``name in ("quanv", ...)`` above the models layer."""
        for path in (SRC / part).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Compare):
                    names = {
                        c.value
                        for c in ast.walk(node)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    }
                    assert not names & set(FAMILIES), f"{path.name}:{node.lineno} {names}"


class TestOptions:
    def test_an_option_a_family_lacks_is_refused(self):
        """``--encoding`` of an MLP was silently ignored; now it is one clear error."""
        with pytest.raises(CircuitError, match="model 'mlp' has no option encoder"):
            ModelConfig("mlp", encoder="angle")

    def test_dressed_honours_its_encoder(self):
        """The dressed QNN hard-coded RY; its encoder option now chooses the circuit."""
        angle = _model_with("dressed", encoder="angle")
        iqp = _model_with("dressed", encoder="iqp")
        gates = {op.gate for op in iqp.quantum.qc.circuit.ops}
        assert "RY" in {op.gate for op in angle.quantum.qc.circuit.ops}
        assert gates - {op.gate for op in angle.quantum.qc.circuit.ops}

    def test_registers_widen_the_hybrid_and_its_ablation_alike(self):
        """registers x qubits is the width of both the dressed QNN and its classical part."""
        hybrid = _model_with("dressed", registers=4, hidden=5)
        classical = _model_with("dressed_classical", registers=4, hidden=5)
        assert hybrid.post.in_features == classical.post.in_features == 12
        assert "4 registers of 3 qubits" in get_family("dressed").describe(
            get_family("dressed").options(n_qubits=3, registers=4)
        )
        with pytest.raises(CircuitError, match="model 'qnn' has no option registers"):
            ModelConfig("qnn", registers=2)

    @pytest.mark.parametrize("name", list(FAMILIES))
    def test_family_qubits_match_the_built_model(self, name):
        """The one qubit-count rule of each family is the register its model simulates."""
        family, cfg = get_family(name), ModelConfig(name, n_features=16, n_classes=3)
        model = build_model(cfg.resolved())
        registers = {m.qc.n_qubits for m in model.modules() if isinstance(m, QuantumLayer)}
        expected = family.n_qubits(cfg.options, 16, 3)
        assert registers == (set() if expected is None else {expected})

    def test_describe_says_only_what_the_family_has(self):
        """``qimage info`` of an MLP listed an encoder and qubits."""
        text = get_family("mlp").describe(get_family("mlp").options())
        assert "encod" not in text and "qubit" not in text


def _model_with(name: str, **options):
    cfg = ModelConfig(name, n_features=6, n_classes=2, n_qubits=3, **options)
    return build_model(cfg, torch.Generator().manual_seed(0))


class TestExecution:
    @pytest.mark.parametrize("name", QUANTUM)
    def test_noise_reaches_every_quantum_family(self, name):
        """Outputs under depolarizing noise differ from ideal ones (quanvolution dropped it)."""
        model, x = _model(name, n_features=4).double(), torch.rand(4, 4, dtype=torch.float64)
        with torch.no_grad():
            ideal = model(x)
            noisy = model(x, execution=Execution(noise=_NOISE))
        assert (ideal - noisy).abs().max() > 1e-3

    @pytest.mark.parametrize("name", QUANTUM)
    def test_shots_reach_every_quantum_family(self, name):
        """Outputs under 50 shots differ from exact ones and repeat with the same seed."""
        model, x = _model(name, n_features=4).double(), torch.rand(4, 4, dtype=torch.float64)
        with torch.no_grad():
            exact = model(x)
            a, b = (model(x, execution=Execution(shots=50, seed=3)) for _ in "ab")
        assert (exact - a).abs().max() > 1e-3
        torch.testing.assert_close(a, b)

    @pytest.mark.parametrize("name", QUANTUM)
    def test_modules_hold_no_run_options(self, name):
        """Nothing about how a model runs is stored on it, so nothing can be patched."""
        for module in _model(name).modules():
            for attr in ("shots", "noise", "diff_method", "shot_generator"):
                assert attr not in vars(module), f"{type(module).__name__}.{attr}"

    def test_two_callers_run_one_model_differently_at_once(self):
        """Exact and noisy runs of one model in two threads give their sequential results."""
        model, x = _model("qnn").double(), torch.rand(8, 9, dtype=torch.float64)
        noisy = Execution(noise=_NOISE)
        with torch.no_grad():
            expected = {"exact": model(x), "noisy": model(x, execution=noisy)}
        got = {}

        def call(key, execution):
            with torch.no_grad():
                for _ in range(5):
                    got[key] = model(x, execution=execution)

        threads = [
            threading.Thread(target=call, args=("exact", None)),
            threading.Thread(target=call, args=("noisy", noisy)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for key in expected:
            torch.testing.assert_close(got[key], expected[key])

    @pytest.mark.parametrize("name", QUANTUM)
    def test_double_simulates_in_complex128(self, name):
        """After ``.double()`` the simulation is complex128: gradcheck passes."""
        model = _model(name, n_classes=2).double()
        x = torch.rand(2, 9, dtype=torch.float64)

        def f(*params):
            out = torch.func.functional_call(model, dict(zip(names, params, strict=True)), (x,))
            return out.sum()

        names = [n for n, p in model.named_parameters() if p.requires_grad]
        params = tuple(
            p.detach().clone().requires_grad_()
            for n, p in model.named_parameters()
            if p.requires_grad
        )
        assert torch.autograd.gradcheck(f, params, eps=1e-6, atol=1e-6)

    def test_execution_is_immutable_and_validated(self):
        with pytest.raises(AttributeError):
            Execution().shots = 10  # type: ignore[misc]
        with pytest.raises(CircuitError, match="shots must be >= 1"):
            Execution(shots=0)
        with pytest.raises(CircuitError, match="unknown diff_method"):
            Execution(diff_method="magic")
        assert Execution.from_dict(Execution(noise=_NOISE, seed=2).to_dict()) == Execution(
            noise=_NOISE, seed=2
        )


@dataclass(frozen=True)
class _CentroidConfig:
    scale: float = 1.0


class _SquaredError(Objective):
    """A second objective: outputs regress one-hot targets; "neg_mse" picks the best epoch."""

    name, metrics, score = "one-hot regression", ("neg_mse",), "neg_mse"

    def loss(self, outputs, targets):
        hot = nn.functional.one_hot(targets, outputs.shape[1]).to(outputs.dtype)
        return ((outputs - hot) ** 2).mean()

    def batch_sums(self, outputs, targets):
        return {"neg_mse": -self.loss(outputs, targets).item() * len(targets)}

    def proba(self, outputs):
        return outputs.clamp_min(0) / outputs.clamp_min(0).sum(1, keepdim=True).clamp_min(1e-9)

    def report(self, outputs, targets, n_classes):
        return {"accuracy": (outputs.argmax(1) == targets).double().mean().item()}


class _Centroids(nn.Module):
    def __init__(self, n_features, n_classes, scale):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)
        self.scale = scale

    def forward(self, x, execution=None):
        return self.scale * self.linear(x)


class _CentroidFamily(Family):
    name = "toy_centroids"
    summary = "a toy family registered by the tests"
    Config = _CentroidConfig
    objective = _SquaredError()

    def build(self, options, n_features, n_classes, generator):
        return _Centroids(n_features, n_classes, options.scale)


@pytest.fixture
def toy_family():
    from qimage.models.registry import register

    register(_CentroidFamily())
    yield FAMILIES["toy_centroids"]
    del FAMILIES["toy_centroids"]


class TestANewFamily:
    def test_trains_saves_and_predicts_with_its_own_objective(self, toy_family, tmp_path):
        """A family defined outside qimage, with a non-classification objective, goes through
        run_experiment, the model file and prediction with no other code touched."""
        from qimage.train import default_run_config, load_model, run_experiment

        cfg = default_run_config("digits", ModelConfig("toy_centroids", scale=2.0), n_train=200)
        cfg.train.epochs, cfg.train.lr = 5, 0.05
        result = run_experiment(cfg, tmp_path, progress=False)
        assert set(result.history.rows[0]) >= {"train_neg_mse", "val_neg_mse"}
        assert result.metrics["test"]["accuracy"] > 0.5
        loaded = load_model(tmp_path)
        assert loaded.model.scale == 2.0
        proba = loaded.predict_proba(torch.rand(3, 8, 8).numpy() * 16)
        assert proba.shape == (3, 10) and (proba >= 0).all()
