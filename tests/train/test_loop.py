"""The training loop: learning, exact resume, interruption, NaN stop, early stopping."""

from __future__ import annotations

import pytest
import torch

from qimage.errors import TrainingError
from qimage.models import ModelConfig, build_model
from qimage.sim import Execution
from qimage.train import (
    DataSpec,
    TrainConfig,
    TrainingInterrupted,
    evaluate,
    fit,
    load_checkpoint,
    prepare_data,
)


@pytest.fixture(scope="module")
def digits():
    """A small real subset: 3 digit classes, amplitude-encoded in 6 qubits."""
    return prepare_data(DataSpec("digits", classes=[0, 1, 2], n_train=90, scale="amplitude"))


def _model(data, seed=0, n_layers=2):
    cfg = ModelConfig(
        n_features=data.n_features,
        n_classes=data.n_classes,
        n_qubits=6,
        n_layers=n_layers,
        readout="probs",
    )
    return build_model(cfg, torch.Generator().manual_seed(seed))


class TestLearning:
    def test_loss_decreases_and_beats_chance(self, digits):
        """A QNN on real digits lowers its loss and beats chance on the test split."""
        model = _model(digits, n_layers=4)
        history = fit(
            model,
            digits.X_train,
            digits.y_train,
            TrainConfig(epochs=8, lr=0.1, val_fraction=0.2),
            progress=False,
        )
        losses = [r["train_loss"] for r in history.rows]
        assert losses[-1] < 0.7 * losses[0]
        acc = evaluate(model, digits.X_test, digits.y_test, 3)["accuracy"]
        assert acc > 0.8  # chance is 1/3

    def test_same_seed_same_weights(self, digits):
        """Two runs with the same seed end with identical weights."""
        cfg = TrainConfig(epochs=2, batch_size=16)
        a, b = _model(digits), _model(digits)
        fit(a, digits.X_train, digits.y_train, cfg, progress=False)
        fit(b, digits.X_train, digits.y_train, cfg, progress=False)
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(pa, pb)


class TestResume:
    @pytest.mark.parametrize("stop_at", [(0, 3), (1, 5), (2, 1)])
    def test_resume_equals_uninterrupted(self, digits, tmp_path, stop_at):
        """Interrupt at (epoch, batch), resume from the checkpoint: final weights are identical."""
        cfg = TrainConfig(epochs=3, batch_size=16, lr=0.05, seed=4)
        full = _model(digits, seed=4)
        fit(full, digits.X_train, digits.y_train, cfg, progress=False)
        ckpt = tmp_path / "ckpt.pt"
        first = _model(digits, seed=4)
        with pytest.raises(TrainingInterrupted, match="checkpoint saved"):
            fit(
                first,
                digits.X_train,
                digits.y_train,
                cfg,
                checkpoint=ckpt,
                progress=False,
                on_batch=lambda e, b: (e, b) == stop_at,
            )
        resumed = _model(digits, seed=99)  # different init: everything must come from the file
        fit(
            resumed,
            digits.X_train,
            digits.y_train,
            cfg,
            checkpoint=ckpt,
            resume=True,
            progress=False,
        )
        for a, b in zip(full.state_dict().values(), resumed.state_dict().values(), strict=True):
            assert torch.equal(a, b)

    def test_resume_under_seeded_shots(self, digits, tmp_path):
        """Under shots drawn from the execution's seeded generator, resume is still exact:
        the checkpoint holds that generator's state (each resumed run makes a fresh one)."""
        cfg = TrainConfig(epochs=2, batch_size=16, lr=0.05, seed=4)
        digits = prepare_data(
            DataSpec("digits", classes=[0, 1, 2], n_train=60, pca=3, scale="angle")
        )

        def _model(data, seed):
            config = ModelConfig(n_features=3, n_classes=3, encoder="angle", n_layers=1)
            return build_model(config.resolved(), torch.Generator().manual_seed(seed))

        def shots():  # a fresh value each time, as a new process would make
            return Execution(shots=200, seed=11)

        full = _model(digits, seed=4)
        fit(full, digits.X_train, digits.y_train, cfg, progress=False, execution=shots())
        ckpt, first = tmp_path / "ckpt.pt", _model(digits, seed=4)
        with pytest.raises(TrainingInterrupted):
            fit(
                first,
                digits.X_train,
                digits.y_train,
                cfg,
                checkpoint=ckpt,
                progress=False,
                execution=shots(),
                on_batch=lambda e, b: (e, b) == (0, 2),
            )
        resumed = _model(digits, seed=99)
        fit(
            resumed,
            digits.X_train,
            digits.y_train,
            cfg,
            checkpoint=ckpt,
            resume=True,
            progress=False,
            execution=shots(),
        )
        assert "shots_rng" in load_checkpoint(ckpt)
        for a, b in zip(full.state_dict().values(), resumed.state_dict().values(), strict=True):
            assert torch.equal(a, b)

    def test_checkpoint_written_every_epoch(self, digits, tmp_path):
        """After training the checkpoint records the last epoch and the history."""
        ckpt = tmp_path / "c.pt"
        fit(
            _model(digits),
            digits.X_train,
            digits.y_train,
            TrainConfig(epochs=2),
            checkpoint=ckpt,
            progress=False,
        )
        state = load_checkpoint(ckpt)
        assert state["epoch"] == 2 and len(state["history"]) == 2
        assert not list(tmp_path.glob("*.tmp"))

    def test_resume_refuses_other_config(self, digits, tmp_path):
        """A checkpoint cannot continue a run with a different learning rate."""
        ckpt = tmp_path / "c.pt"
        fit(
            _model(digits),
            digits.X_train,
            digits.y_train,
            TrainConfig(epochs=1),
            checkpoint=ckpt,
            progress=False,
        )
        with pytest.raises(TrainingError, match="different training config"):
            fit(
                _model(digits),
                digits.X_train,
                digits.y_train,
                TrainConfig(epochs=2, lr=1.0),
                checkpoint=ckpt,
                resume=True,
                progress=False,
            )

    def test_resume_refuses_other_model(self, digits, tmp_path):
        """A checkpoint of one model does not load into a differently shaped one."""
        ckpt = tmp_path / "c.pt"
        fit(
            _model(digits),
            digits.X_train,
            digits.y_train,
            TrainConfig(epochs=1),
            checkpoint=ckpt,
            progress=False,
        )
        other = build_model(ModelConfig(n_features=64, n_classes=3, n_qubits=6, n_layers=3))
        with pytest.raises(TrainingError, match="does not fit this model"):
            fit(
                other,
                digits.X_train,
                digits.y_train,
                TrainConfig(epochs=2),
                checkpoint=ckpt,
                resume=True,
                progress=False,
            )

    def test_corrupt_checkpoint(self, digits, tmp_path):
        """A garbage checkpoint file is refused in one clear line."""
        bad = tmp_path / "bad.pt"
        bad.write_bytes(b"not a checkpoint")
        with pytest.raises(TrainingError, match="not a readable qimage checkpoint"):
            fit(
                _model(digits),
                digits.X_train,
                digits.y_train,
                TrainConfig(epochs=1),
                checkpoint=bad,
                resume=True,
                progress=False,
            )


class TestStops:
    def test_nan_loss_stops_with_a_message(self, digits):
        """A NaN loss stops training with a message that suggests a lower learning rate."""
        model = _model(digits)
        with torch.no_grad():
            model.readout.scale.fill_(float("nan"))
        with pytest.raises(TrainingError, match=r"loss became nan at epoch 1, batch 1.*--lr"):
            fit(model, digits.X_train, digits.y_train, TrainConfig(epochs=1), progress=False)

    def test_early_stopping_restores_best(self, digits):
        """With patience 1 and a huge lr, training stops early and keeps the best epoch."""
        model = _model(digits)
        history = fit(
            model,
            digits.X_train,
            digits.y_train,
            TrainConfig(epochs=30, lr=3.0, patience=1, schedule="none"),
            progress=False,
        )
        assert history.stopped_early and len(history.rows) < 30
        best = max(r["val_acc"] for r in history.rows)
        assert history.rows[history.best_epoch - 1]["val_acc"] == best

    @pytest.mark.parametrize(
        ("cfg", "message"),
        [
            (TrainConfig(epochs=0), "epochs"),
            (TrainConfig(lr=-1), "lr"),
            (TrainConfig(optimizer="lbfgs"), "optimizer"),
            (TrainConfig(val_fraction=1.5), "val_fraction"),
        ],
    )
    def test_bad_config(self, digits, cfg, message):
        """Impossible settings are refused before training."""
        with pytest.raises(TrainingError, match=message):
            fit(_model(digits), digits.X_train, digits.y_train, cfg, progress=False)

    def test_nan_features(self, digits):
        """NaN in the features is refused up front."""
        X = digits.X_train.clone()
        X[0, 0] = float("nan")
        with pytest.raises(TrainingError, match="NaN"):
            fit(_model(digits), X, digits.y_train, TrainConfig(epochs=1), progress=False)

    def test_sgd_and_step_schedule(self, digits):
        """SGD with a step schedule runs and lowers the learning rate."""
        history = fit(
            _model(digits),
            digits.X_train,
            digits.y_train,
            TrainConfig(epochs=3, optimizer="sgd", schedule="step"),
            progress=False,
        )
        assert history.rows[-1]["lr"] < history.rows[0]["lr"]
