"""The transformers: shapes, values against independent computations, and no leakage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from qimage.preprocess import (
    PCA,
    AmplitudeEncoder,
    AngleScaler,
    Downsample,
    Flatten,
    PreprocessError,
    Standardize,
    area_weights,
)


@pytest.fixture
def rng():
    """A fixed generator for test data."""
    return np.random.default_rng(1234)


def shifted_split(rng, n_features=5):
    """Train around 0 and test around 10, so leaked test statistics would show."""
    train = rng.normal(0.0, 1.0, size=(200, n_features))
    test = rng.normal(10.0, 3.0, size=(50, n_features))
    return train, test


class TestSklearnContract:
    """scikit-learn's own estimator checks on the 2-D transformers.

    Downsample is left out: it needs image-shaped input (a square number of features,
    or an image_shape), which the generic checks' random 2-D data does not have. It is
    tested directly below.
    """

    @parametrize_with_checks(
        [Standardize(), PCA(1), AngleScaler(), AmplitudeEncoder(), Flatten()],
        expected_failed_checks=lambda est: (
            # Random integer data contains an all-zero row, which amplitude encoding
            # rejects by design (it has no direction to normalise).
            {"check_estimators_dtypes": "all-zero rows are an error by design"}
            if isinstance(est, AmplitudeEncoder)
            else {}
        ),
    )
    def test_sklearn_compatible(self, estimator, check):
        """Each scikit-learn estimator check passes."""
        check(estimator)

    @pytest.mark.parametrize("cls", [Standardize, PCA, AngleScaler, AmplitudeEncoder, Flatten])
    def test_not_fitted(self, cls):
        """transform before fit raises scikit-learn's NotFittedError."""
        with pytest.raises(NotFittedError):
            cls().transform(np.ones((3, 4)))

    @pytest.mark.parametrize(
        "est", [Standardize(), PCA(1), AngleScaler(), AmplitudeEncoder(), Flatten(), Downsample(1)]
    )
    def test_nan_is_a_clear_error(self, est):
        """NaN in fit or transform input is a PreprocessError naming the row."""
        X = np.ones((4, 4))
        X[2, 1] = np.nan
        with pytest.raises(PreprocessError, match=r"NaN or infinity \(rows 2\)"):
            est.fit(X)
        est.fit(np.arange(16.0).reshape(4, 4))
        with pytest.raises(PreprocessError, match="NaN"):
            est.transform(X)

    @pytest.mark.parametrize("est", [Standardize(), PCA(2), AngleScaler(), AmplitudeEncoder()])
    def test_no_batch_statistics_at_transform(self, est, rng):
        """A test row transforms the same alone as in a batch: nothing is learnt from test."""
        train, test = shifted_split(rng)
        est.fit(train)
        batch = est.transform(test)
        single = np.concatenate([est.transform(test[i : i + 1]) for i in range(len(test))])
        np.testing.assert_allclose(single, batch, rtol=1e-12, atol=1e-12)


class TestStandardize:
    """Standardize uses training statistics only."""

    def test_uses_train_statistics(self, rng):
        """Test data is shifted by the train mean and std, not its own."""
        train, test = shifted_split(rng)
        out = Standardize().fit(train).transform(test)
        expected = (test - train.mean(axis=0)) / train.std(axis=0)
        np.testing.assert_allclose(out, expected)
        assert out.mean() > 5  # would be ~0 if test statistics leaked in

    def test_train_is_standard(self, rng):
        """On the training split the result has zero mean and unit variance."""
        train, _ = shifted_split(rng)
        out = Standardize().fit_transform(train)
        np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(out.std(axis=0), 1)

    def test_constant_feature(self):
        """A constant feature is centred, not divided by zero."""
        X = np.array([[1.0, 5.0], [3.0, 5.0]])
        out = Standardize().fit(X).transform([[2.0, 7.0]])
        np.testing.assert_array_equal(out, [[0.0, 2.0]])

    def test_float32_kept_uint8_promoted(self):
        """float32 input stays float32; uint8 images become float64."""
        X = np.arange(12).reshape(4, 3)
        assert Standardize().fit_transform(X.astype(np.float32)).dtype == np.float32
        assert Standardize().fit_transform(X.astype(np.uint8)).dtype == np.float64

    def test_wrong_width(self, rng):
        """Transforming data with another feature count is a PreprocessError."""
        est = Standardize().fit(np.ones((3, 4)))
        with pytest.raises(PreprocessError, match=r"X has 5 features.*expecting 4"):
            est.transform(np.ones((3, 5)))


class TestPCA:
    """PCA matches scikit-learn's and projects test data with train components."""

    def test_matches_sklearn(self, rng):
        """Components, variances and projections equal sklearn's PCA up to sign."""
        from sklearn.decomposition import PCA as SkPCA

        train = rng.normal(size=(120, 6)) @ rng.normal(size=(6, 6))
        test = rng.normal(size=(30, 6))
        ours, ref = PCA(3).fit(train), SkPCA(3, svd_solver="full").fit(train)
        signs = np.sign(np.sum(ours.components_ * ref.components_, axis=1))
        np.testing.assert_allclose(ours.components_, ref.components_ * signs[:, None], atol=1e-9)
        np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_)
        np.testing.assert_allclose(ours.transform(test), ref.transform(test) * signs, atol=1e-9)

    def test_uses_train_mean(self, rng):
        """Test data is centred with the train mean."""
        train, test = shifted_split(rng)
        est = PCA(2).fit(train)
        expected = (test - train.mean(axis=0)) @ est.components_.T
        np.testing.assert_allclose(est.transform(test), expected)

    def test_sign_convention(self, rng):
        """Each component's largest-magnitude entry is positive."""
        est = PCA(4).fit(rng.normal(size=(50, 8)))
        peaks = est.components_[np.arange(4), np.abs(est.components_).argmax(axis=1)]
        assert (peaks > 0).all()

    def test_shape(self, rng):
        """(n, f) -> (n, d)."""
        assert PCA(3).fit_transform(rng.normal(size=(20, 7))).shape == (20, 3)

    @pytest.mark.parametrize(("d", "shape"), [(8, (20, 7)), (6, (5, 7)), (0, (20, 7))])
    def test_too_many_components(self, d, shape):
        """d above the feature count or the sample count (or below 1) is refused."""
        with pytest.raises(PreprocessError, match=rf"n_components={d}.*min\(n_samples"):
            PCA(d).fit(np.ones(shape))


class TestAngleScaler:
    """AngleScaler maps train min/max to [low, high] and clips test values."""

    def test_train_range_maps_to_zero_pi(self, rng):
        """Train min -> 0, train max -> pi, per feature."""
        train, _ = shifted_split(rng)
        out = AngleScaler().fit_transform(train)
        np.testing.assert_allclose(out.min(axis=0), 0.0, atol=1e-15)
        np.testing.assert_allclose(out.max(axis=0), math.pi)

    def test_test_values_clipped_with_train_range(self):
        """Values beyond the train range clip; inside ones scale by the train range."""
        est = AngleScaler(-1.0, 1.0).fit([[0.0], [10.0]])
        out = est.transform([[-5.0], [2.5], [5.0], [30.0]])
        np.testing.assert_allclose(out[:, 0], [-1.0, -0.5, 0.0, 1.0])

    def test_constant_feature(self):
        """A feature constant on train maps to low, not NaN."""
        out = AngleScaler().fit([[2.0], [2.0]]).transform([[2.0], [2.5]])
        np.testing.assert_allclose(out[:, 0], [0.0, 0.5 * math.pi])

    def test_low_below_high(self):
        """An empty or inverted range is refused."""
        with pytest.raises(PreprocessError, match=r"low=3.*high=1"):
            AngleScaler(3.0, 1.0).fit(np.ones((2, 2)))


class TestAmplitudeEncoder:
    """Pad to 2**n, normalise, and refuse rows of zeros."""

    def test_pad_and_normalise(self):
        """5 features become 8 unit-norm amplitudes, zero-padded, proportional."""
        X = np.array([[1.0, 2.0, 0.0, 2.0, 4.0]])
        out = AmplitudeEncoder().fit_transform(X)
        np.testing.assert_allclose(out, [[0.2, 0.4, 0.0, 0.4, 0.8, 0.0, 0.0, 0.0]])

    def test_unit_norm_rows(self, rng):
        """Every output row has L2 norm 1."""
        out = AmplitudeEncoder(n_qubits=4).fit_transform(rng.normal(size=(10, 9)))
        assert out.shape == (10, 16)
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0)

    def test_power_of_two_not_padded(self):
        """Exactly 2**n features keep their width; n_qubits_ records n."""
        est = AmplitudeEncoder().fit(np.ones((2, 16)))
        assert est.n_qubits_ == 4
        assert est.transform(np.ones((1, 16))).shape == (1, 16)

    def test_zero_row_is_an_error(self):
        """An all-zero row is a PreprocessError naming it, not NaN."""
        est = AmplitudeEncoder().fit(np.ones((2, 3)))
        with pytest.raises(PreprocessError, match="rows 1 are all zero"):
            est.transform([[1.0, 0, 0], [0, 0, 0]])

    def test_too_few_qubits(self):
        """10 features do not fit in 3 qubits."""
        with pytest.raises(PreprocessError, match="10 features need at least 4 qubits"):
            AmplitudeEncoder(n_qubits=3).fit(np.ones((2, 10)))


def block_mean_reference(images: np.ndarray, k: int) -> np.ndarray:
    """Exact area average computed another way: upsample to a common multiple, block-mean."""
    n, h, w = images.shape
    big_h, big_w = math.lcm(h, k), math.lcm(w, k)
    big = images.repeat(big_h // h, axis=1).repeat(big_w // w, axis=2)
    return big.reshape(n, k, big_h // k, k, big_w // k).mean(axis=(2, 4))


class TestDownsample:
    """Area-average downsampling, exact for sizes that do not divide."""

    @pytest.mark.parametrize(
        ("shape", "k"),
        [((28, 28), 8), ((28, 28), 7), ((8, 8), 4), ((6, 9), 4), ((28, 28), 28), ((5, 5), 1)],
    )
    def test_matches_block_mean(self, rng, shape, k):
        """Output equals the block mean of an upsampled copy (an independent method)."""
        images = rng.integers(0, 256, size=(3, *shape)).astype(np.uint8)
        out = Downsample(k).fit_transform(images)
        assert out.shape == (3, k, k)
        np.testing.assert_allclose(out, block_mean_reference(images.astype(float), k))

    def test_first_cell_of_28_to_8(self):
        """Cell 0 of 28 -> 8 weights pixels 0..2 fully and pixel 3 by half."""
        np.testing.assert_allclose(area_weights(28, 8)[0, :5], [2 / 7, 2 / 7, 2 / 7, 1 / 7, 0])

    def test_flat_rows(self, rng):
        """Rows (n, H*W) give rows (n, k*k), equal to the image path flattened."""
        images = rng.random((4, 28, 28))
        flat = Downsample(8).fit_transform(images.reshape(4, -1))
        np.testing.assert_allclose(flat, Downsample(8).fit_transform(images).reshape(4, 64))

    def test_non_square_rows_need_shape(self, rng):
        """Flat non-square rows need image_shape, and work with it."""
        rows = rng.random((2, 6 * 9))
        with pytest.raises(PreprocessError, match="not a square image"):
            Downsample(3).fit(rows)
        assert Downsample(3, image_shape=(6, 9)).fit_transform(rows).shape == (2, 9)

    def test_float32_kept(self):
        """float32 images stay float32."""
        out = Downsample(2).fit_transform(np.ones((1, 4, 4), dtype=np.float32))
        assert out.dtype == np.float32

    @pytest.mark.parametrize("k", [0, 9, 2.5])
    def test_bad_size(self, k):
        """Sizes outside 1..min(H, W), or not integers, are refused."""
        with pytest.raises(PreprocessError, match="size="):
            Downsample(k).fit(np.ones((2, 8, 8)))

    def test_other_image_size_at_transform(self):
        """Images of another size than in fit are refused."""
        est = Downsample(4).fit(np.ones((2, 8, 8)))
        with pytest.raises(PreprocessError, match="expecting 64 features"):
            est.transform(np.ones((2, 9, 9)))


class TestFlatten:
    """Flatten images, pass rows through."""

    def test_images_to_rows(self):
        """(n, H, W) -> (n, H*W) in C order."""
        images = np.arange(24).reshape(2, 3, 4)
        np.testing.assert_array_equal(Flatten().fit_transform(images), images.reshape(2, 12))

    def test_flat_rows_accepted_after_image_fit(self):
        """After fitting on images, rows of H*W features are accepted too."""
        est = Flatten().fit(np.zeros((1, 3, 4)))
        assert est.transform(np.zeros((5, 12))).shape == (5, 12)
        with pytest.raises(PreprocessError, match="expecting 12"):
            est.transform(np.zeros((5, 4, 4)))
