"""Classical twins: heads, parameter counts, match_params against brute force, the registry
entries, and every new model end to end through its digits preset."""

from __future__ import annotations

import pytest
import torch

from qimage.circuits import AmplitudeEncoder, AngleEncoder, StronglyEntangling
from qimage.errors import CircuitError
from qimage.models import (
    MLP,
    QNN,
    LogisticRegression,
    ModelConfig,
    ProjectedLogisticRegression,
    QuanvNet,
    SmallCNN,
    build_model,
    count_parameters,
    get_family,
    make_head,
    match_params,
)
from qimage.train import preset_run_config, run_experiment


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Run this module on one thread (tiny tensors: thread hand-offs cost more than they save)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _mlp_count(f: int, c: int, h: int) -> int:
    return h * f + h + c * h + c


def _cnn_count(side: int, c: int, channels: int, patch: int, stride: int) -> int:
    out = (side - patch) // stride + 1
    return channels * (patch * patch + 1) + channels * out * out * c + c


class TestModels:
    def test_parameter_counts_follow_the_formulas(self):
        """logreg, MLP and CNN have the textbook numbers of weights and biases."""
        assert count_parameters(LogisticRegression(64, 10)) == 64 * 10 + 10
        assert count_parameters(MLP(64, 10, 32)) == _mlp_count(64, 10, 32)
        cnn = SmallCNN(784, 10, channels=4, patch=2, stride=2)
        assert count_parameters(cnn) == _cnn_count(28, 10, 4, 2, 2)

    def test_shapes(self):
        """Every family maps (B, F) features to (B, C) logits."""
        x = torch.rand(3, 64)
        for model in (LogisticRegression(64, 5), MLP(64, 5, (8, 4)), SmallCNN(64, 5, stride=1)):
            assert model(x).shape == (3, 5)

    def test_head_kinds(self):
        """hidden=0 is a linear head, hidden>0 an MLP of that width; negative is refused."""
        assert isinstance(make_head(10, 2), LogisticRegression)
        assert make_head(10, 2, 7).hidden == (7,)
        with pytest.raises(CircuitError, match="hidden"):
            make_head(10, 2, -1)

    def test_seeded_initialisation(self):
        """The same generator seed gives the same weights, another seed others."""
        a, b, c = (SmallCNN(16, 2, generator=_gen(s)) for s in (1, 1, 2))
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
        assert not torch.equal(a.conv.weight, c.conv.weight)

    def test_cnn_needs_square_images(self):
        """A CNN on features that are not a square image is a clear error."""
        with pytest.raises(CircuitError, match="not S x S"):
            SmallCNN(50, 2)


def _brute_force(count, target: int, sizes=range(1, 400)) -> int:
    return min(sizes, key=lambda s: (abs(count(s) - target), s))


class TestMatchParams:
    @pytest.mark.parametrize("n_layers", [1, 3, 8])
    def test_mlp_width_is_the_closest(self, n_layers):
        """The MLP twin's width minimises the parameter-count gap (checked by brute force)."""
        qnn = QNN(AmplitudeEncoder(), StronglyEntangling(), 6, n_layers, 64, 10, readout="probs")
        target = count_parameters(qnn)
        twin = match_params(qnn, 64, 10, "mlp")
        assert twin.hidden[0] == _brute_force(lambda h: _mlp_count(64, 10, h), target)

    def test_cnn_channels_are_the_closest(self):
        """The CNN twin's channel count minimises the gap for a trainable quanvolution."""
        quanv = QuanvNet(784, 10, n_layers=3, trainable=True, hidden=8)
        target = count_parameters(quanv)
        twin = match_params(quanv, 784, 10, "cnn", patch=2, stride=2)
        expected = _brute_force(lambda c: _cnn_count(28, 10, c, 2, 2), target)
        assert twin.channels == expected
        assert count_parameters(twin) == _cnn_count(28, 10, expected, 2, 2)

    def test_frozen_weights_do_not_count(self):
        """A frozen quanvolution is matched on its head alone: its twin is the same size."""
        quanv = QuanvNet(784, 10)
        twin = match_params(quanv, 784, 10, "logreg")
        assert count_parameters(twin) == count_parameters(quanv) == 7850

    def test_small_target_gives_smallest_model(self):
        """A target below the smallest MLP gives width 1."""
        qnn = QNN(AngleEncoder(), StronglyEntangling(), 2, 1, 2, 2)
        assert match_params(qnn, 100, 2, "mlp").hidden == (1,)

    def test_unknown_family(self):
        """An unknown family lists the known ones."""
        with pytest.raises(CircuitError, match="logreg, mlp, cnn"):
            match_params(torch.nn.Linear(2, 2), 2, 2, "svm")


class TestProjectedLogReg:
    def test_logits_are_logreg_on_the_projected_features(self):
        """Logits are W (P^T x) + b with P the fixed buffer; only W and b are trainable."""
        model = ProjectedLogisticRegression(784, 10, k=25, projection_seed=3)
        x = torch.rand(4, 784)
        expected = (x @ model.projection) @ model.linear.weight.T + model.linear.bias
        torch.testing.assert_close(model(x), expected)
        assert count_parameters(model) == 25 * 10 + 10
        assert model.projection.shape == (784, 25) and not model.projection.requires_grad

    def test_projection_is_fixed_by_its_seed_not_the_weights(self):
        """The training generator changes the weights only; projection_seed the projection."""
        a = ProjectedLogisticRegression(20, 3, 4, 0, _gen(1))
        b = ProjectedLogisticRegression(20, 3, 4, 0, _gen(2))
        c = ProjectedLogisticRegression(20, 3, 4, 1, _gen(1))
        assert torch.equal(a.projection, b.projection)
        assert not torch.equal(a.linear.weight, b.linear.weight)
        assert not torch.equal(a.projection, c.projection)

    def test_matched_to_a_qnn_on_pixels(self):
        """On 784 pixels it matches a 260-parameter QNN exactly, where the MLP cannot."""
        options = get_family("projected_logreg").options()
        k = get_family("projected_logreg").matched(options, 784, 10, 260).k
        assert k == _brute_force(lambda k: 10 * k + 10, 260) == 25
        assert _mlp_count(784, 10, 1) > 3 * 260

    def test_describe_states_the_parameter_count(self):
        """describe() names the projection size and the trainable-parameter formula."""
        config = ModelConfig("projected_logreg", n_features=784, n_classes=10, k=25)
        assert "25 features" in config.describe() and "25 x classes + classes" in config.describe()
        with pytest.raises(CircuitError, match="k >= 1"):
            ModelConfig("projected_logreg", k=0)


class TestRegistry:
    def test_config_fields_reach_the_models(self):
        """hidden, channels, patch and stride in a ModelConfig shape the built model."""
        mlp = build_model(ModelConfig(name="mlp", n_features=16, n_classes=3, hidden=5))
        assert mlp.hidden == (5,)
        cnn = build_model(ModelConfig(name="cnn", n_features=64, n_classes=3, channels=6))
        assert cnn.conv.out_channels == 6 and cnn.conv.stride == (2, 2)
        default = build_model(ModelConfig(name="cnn", n_features=64, n_classes=3, patch=3))
        assert default.conv.out_channels == 9  # as many maps as a 3x3 quanvolution's qubits

    def test_mlp_default_width(self):
        """An mlp config without a width gets the documented default."""
        assert build_model(ModelConfig(name="mlp", n_features=4, n_classes=2)).hidden == (32,)

    def test_new_fields_round_trip_and_validate(self):
        """The new config fields survive to_dict/from_dict and bad values are refused early."""
        cfg = ModelConfig(name="quanv", patch=3, stride=1, trainable=True, image_size=8)
        assert ModelConfig.from_dict(cfg.to_dict()) == cfg
        with pytest.raises(CircuitError, match="patch and stride"):
            ModelConfig(name="cnn", stride=0).validate()


NEW_MODELS = ["quanv", "quanv_twin", "logreg", "mlp", "cnn"]


class TestPresets:
    @pytest.mark.parametrize("name", NEW_MODELS)
    def test_digits_preset_end_to_end(self, name):
        """Each new model trains from its digits preset (two epochs) and beats chance (25%)."""
        cfg = preset_run_config("digits", name, classes=[0, 1, 2, 3], n_train=200)
        cfg.train.epochs = 2
        result = run_experiment(cfg, progress=False)
        assert result.metrics["test"]["accuracy"] > 0.5
        assert type(result.model) is type(build_model(cfg.model))
