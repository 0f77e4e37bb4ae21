"""The Born machine as an estimator (fit / sample / score) and ``qimage sample`` end to end."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from qimage.cli import main
from qimage.data.bars import bars_and_stripes, is_bars_and_stripes
from qimage.errors import CircuitError, TrainingError
from qimage.estimators import BornMachine
from qimage.preprocess import PreprocessError

BAS = bars_and_stripes(2, 2).reshape(-1, 4)


@pytest.fixture(scope="module")
def fitted() -> BornMachine:
    return BornMachine(
        n_layers=3, epochs=100, batch_size=6, lr=0.2, loss="kl", rows=2, random_state=0
    ).fit(BAS)


class TestEstimator:
    def test_fit_raises_the_likelihood_of_the_data(self, fitted):
        """Mean log-likelihood of the training set: near the best possible, ``-log 6``, far
        above the uniform model's ``-4 log 2``."""
        assert fitted.score(BAS) > -np.log(6) - 0.1
        assert fitted.distribution().sum() == pytest.approx(1.0)
        assert np.allclose(
            fitted.score_samples(BAS), np.log(fitted.distribution()[[0, 3, 5, 10, 12, 15]])
        )

    def test_samples_are_mostly_valid_and_repeat_with_the_seed(self, fitted):
        a, b = fitted.sample(500, random_state=1), fitted.sample(500, random_state=1)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (500, 4) and a.dtype == np.uint8
        assert is_bars_and_stripes(a.reshape(-1, 2, 2)).mean() > 0.9

    def test_conditional_model_draws_the_requested_class(self):
        X = np.array([[0, 0, 1, 1]] * 6 + [[1, 1, 0, 0]] * 6)
        y = np.array([7] * 6 + [9] * 6)
        born = BornMachine(
            n_layers=2,
            conditional=True,
            loss="kl",
            epochs=60,
            batch_size=12,
            lr=0.2,
            random_state=0,
        ).fit(X, y)
        assert (born.sample(50, label=9, random_state=0) == [1, 1, 0, 0]).all(1).mean() > 0.9
        assert born.score(X, y) > -0.5
        with pytest.raises(ValueError, match="among the fitted classes"):
            born.sample(5, label=3)

    def test_fits_from_shots_with_parameter_shift(self):
        """The hardware estimator: a few steps on shot frequencies change the model."""
        kwargs = {"n_layers": 1, "epochs": 3, "batch_size": 6, "lr": 0.3, "random_state": 0}
        exact = BornMachine(**kwargs).fit(BAS)
        shots = BornMachine(**kwargs, shots=200).fit(BAS)
        start = BornMachine(**{**kwargs, "epochs": 1, "lr": 1e-9}).fit(BAS)
        moved = np.abs(shots.distribution() - start.distribution()).max()
        assert moved > 0.01
        assert np.abs(shots.distribution() - exact.distribution()).max() < moved

    def test_bad_input_is_one_clear_error(self, fitted):
        with pytest.raises(PreprocessError, match="pixels must be 0 or 1"):
            BornMachine(epochs=1).fit(np.full((4, 4), 0.5))
        with pytest.raises(ValueError, match="not conditioned"):
            fitted.sample(3, label=1)
        with pytest.raises(TrainingError, match=r"KL.* loss needs exact probabilities"):
            BornMachine(epochs=1, loss="kl", shots=100).fit(BAS)
        with pytest.raises(CircuitError, match="loss is 'mmd' or 'kl', got 'l2'"):
            BornMachine(epochs=1, loss="l2").fit(BAS)


class TestSampleCommand:
    def test_writes_a_png_grid_and_the_bit_strings(self, fitted, tmp_path, capsys):
        run = tmp_path / "run"
        fitted.save(run)
        assert main(["sample", str(run), "--n", "10", "--seed", "2"]) == 0
        lines = (run / "samples" / "samples.txt").read_text().split()
        assert len(lines) == 10 and all(len(s) == 4 and set(s) <= {"0", "1"} for s in lines)
        bits = np.array([[int(c) for c in s] for s in lines])
        assert is_bars_and_stripes(bits.reshape(-1, 2, 2)).mean() >= 0.8
        with Image.open(run / "samples" / "samples.png") as image:
            assert image.size == (12 * (8 * 3 + 1), 12 * (2 * 3 + 1))  # 8 x 2 cells of 2x2 + gaps
        assert main(["sample", str(run), "--n", "6", "--shots", "--out", str(tmp_path / "s")]) == 0
        assert len((tmp_path / "s" / "samples.txt").read_text().split()) == 6

    def test_a_label_for_an_unconditioned_model_is_refused(self, fitted, tmp_path, capsys):
        fitted.save(tmp_path / "run")
        assert main(["sample", str(tmp_path / "run"), "--label", "3"]) == 2
        assert "not conditioned" in capsys.readouterr().err
