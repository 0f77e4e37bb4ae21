"""Pipelines: fit on train only, save as JSON config plus arrays, rebuild exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors
from sklearn.exceptions import NotFittedError

from qimage.data import load_dataset
from qimage.preprocess import (
    PCA,
    AngleScaler,
    ClassSubset,
    Flatten,
    Pipeline,
    PreprocessError,
    Standardize,
    make_pipeline,
)

CONFIGS = [
    {},
    {"downsample": 4, "scale": "angle", "n_qubits": 16},
    {"standardize": True, "pca": 6, "scale": "angle"},
    {"downsample": 3, "standardize": True, "pca": 4, "scale": "amplitude"},
    {"downsample": 5, "scale": "amplitude", "n_qubits": 6},
]


@pytest.fixture(scope="module")
def three_vs_five():
    """Digits 3 and 5 from the bundled 8x8 digits, train and test."""
    ds = load_dataset("digits")
    subset = ClassSubset([3, 5])
    return subset.apply(ds.X_train, ds.y_train) + subset.apply(ds.X_test, ds.y_test)


class TestRoundTrip:
    """to_config + state_dict -> from_config gives identical output."""

    @pytest.mark.parametrize("params", CONFIGS)
    def test_json_round_trip(self, three_vs_five, params):
        """The config survives json.dumps and the rebuilt pipeline matches bit for bit."""
        X_train, _, X_test, _ = three_vs_five
        pipe = make_pipeline((8, 8), **params).fit(X_train)
        config = json.loads(json.dumps(pipe.to_config()))
        state = pipe.state_dict()
        assert all(isinstance(v, np.ndarray) for v in state.values())
        rebuilt = Pipeline.from_config(config, state)
        np.testing.assert_array_equal(rebuilt.transform(X_test), pipe.transform(X_test))

    def test_through_safetensors(self, three_vs_five):
        """The state stores in safetensors (no pickle) and still reproduces the output."""
        X_train, _, X_test, _ = three_vs_five
        pipe = make_pipeline((8, 8), downsample=4, standardize=True, pca=3, scale="angle")
        pipe.fit(X_train)
        state = load_safetensors(save_safetensors(pipe.state_dict()))
        rebuilt = Pipeline.from_config(json.loads(json.dumps(pipe.to_config())), state)
        np.testing.assert_array_equal(rebuilt.transform(X_test), pipe.transform(X_test))

    def test_config_content(self):
        """The config lists step names, types and parameters in order."""
        config = make_pipeline((8, 8), downsample=4, pca=2, scale="angle").to_config()
        assert config["format"] == "qimage.preprocess.Pipeline/1"
        assert [(s["name"], s["type"]) for s in config["steps"]] == [
            ("downsample", "Downsample"),
            ("flatten", "Flatten"),
            ("pca", "PCA"),
            ("angle", "AngleScaler"),
        ]
        assert config["steps"][2]["params"] == {"n_components": 2}
        assert config["steps"][3]["params"] == {"low": 0.0, "high": math.pi}

    def test_state_keys(self, three_vs_five):
        """State keys are '<step>.<attribute>' with the fitted arrays' shapes."""
        pipe = Pipeline([("flatten", Flatten()), ("pca", PCA(3))]).fit(three_vs_five[0])
        state = pipe.state_dict()
        assert state["pca.components_"].shape == (3, 64)
        assert state["pca.mean_"].shape == (64,)
        assert state["flatten.input_shape_"].tolist() == [8, 8]

    def test_config_without_state_is_unfitted(self):
        """from_config without state builds the steps but is not fitted."""
        config = make_pipeline((8, 8), pca=2).to_config()
        with pytest.raises(NotFittedError):
            Pipeline.from_config(config).transform(np.zeros((1, 8, 8)))


class TestNoLeakage:
    """Fitting sees the training split only; test data changes nothing learnt."""

    def test_equals_manual_composition(self, three_vs_five):
        """The pipeline equals the steps fitted by hand on train, applied to test."""
        X_train, _, X_test, _ = three_vs_five
        pipe = make_pipeline((8, 8), standardize=True, pca=4, scale="angle").fit(X_train)
        flat_train, flat_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
        mean, std = flat_train.mean(axis=0), flat_train.std(axis=0)
        std[std == 0] = 1
        z_train, z_test = (flat_train - mean) / std, (flat_test - mean) / std
        pca = PCA(4).fit(z_train)
        p_train, p_test = pca.transform(z_train), pca.transform(z_test)
        lo, hi = p_train.min(axis=0), p_train.max(axis=0)
        expected = np.clip((p_test - lo) / (hi - lo), 0, 1) * math.pi
        np.testing.assert_allclose(pipe.transform(X_test), expected, atol=1e-12)

    def test_test_data_does_not_change_state(self, three_vs_five):
        """Transforming test data (even odd data) leaves the fitted state untouched."""
        X_train, _, X_test, _ = three_vs_five
        pipe = make_pipeline((8, 8), standardize=True, pca=4, scale="angle").fit(X_train)
        before = pipe.state_dict()
        pipe.transform(X_test * 3 + 7)
        after = pipe.state_dict()
        for key, value in before.items():
            np.testing.assert_array_equal(after[key], value)

    def test_given_steps_stay_unfitted(self, three_vs_five):
        """fit works on copies (steps_); the steps passed in are not mutated."""
        pca = PCA(2)
        pipe = Pipeline([("flatten", Flatten()), ("pca", pca)]).fit(three_vs_five[0])
        assert not hasattr(pca, "components_")
        assert pipe.steps_[1][1].components_.shape == (2, 64)


class TestMakePipeline:
    """The standard chains, with shape checks before any data is seen."""

    @pytest.mark.parametrize(
        ("params", "width"),
        [
            ({}, 64),
            ({"downsample": 4}, 16),
            ({"pca": 5}, 5),
            ({"downsample": 3, "scale": "amplitude"}, 16),
            ({"pca": 3, "scale": "amplitude", "n_qubits": 3}, 8),
            ({"pca": 3, "scale": "angle", "n_qubits": 3}, 3),
        ],
    )
    def test_output_width(self, three_vs_five, params, width):
        """Each chain produces the documented number of features."""
        X_train, _, X_test, _ = three_vs_five
        out = make_pipeline((8, 8), **params).fit(X_train).transform(X_test)
        assert out.shape == (len(X_test), width)

    def test_angle_range(self, three_vs_five):
        """Angle scaling yields values in [0, pi] on train and test."""
        X_train, _, X_test, _ = three_vs_five
        pipe = make_pipeline((8, 8), pca=4, scale="angle").fit(X_train)
        for X in (X_train, X_test):
            out = pipe.transform(X)
            assert out.min() >= 0 and out.max() <= math.pi

    def test_amplitude_unit_norm(self, three_vs_five):
        """Amplitude scaling yields unit-norm rows."""
        X_train, _, X_test, _ = three_vs_five
        out = make_pipeline((8, 8), scale="amplitude").fit(X_train).transform(X_test)
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0)

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"pca": 65}, r"pca=65 must be from 1 to 64"),
            ({"downsample": 4, "pca": 17}, r"pca=17 must be from 1 to 16"),
            ({"pca": 4, "scale": "angle", "n_qubits": 5}, r"needs 4 qubits"),
            ({"scale": "amplitude", "n_qubits": 5}, r"64 features do not fit in 2\*\*5"),
            ({"scale": "basis"}, r"unknown scale 'basis'"),
        ],
    )
    def test_mistakes(self, params, message):
        """Impossible combinations fail when the pipeline is built."""
        with pytest.raises(PreprocessError, match=message):
            make_pipeline((8, 8), **params)


class TestPipelineErrors:
    """Bad steps, configs and states are clear PreprocessErrors."""

    def test_duplicate_names(self):
        """Step names must be distinct."""
        with pytest.raises(PreprocessError, match="distinct"):
            Pipeline([("a", Flatten()), ("a", Standardize())]).fit(np.ones((2, 2)))

    def test_unknown_step_object(self):
        """Only qimage's transformers can be saved by name."""
        from sklearn.preprocessing import MinMaxScaler

        with pytest.raises(PreprocessError, match="MinMaxScaler"):
            Pipeline([("s", MinMaxScaler())]).to_config()

    def test_wrong_format(self):
        """A config of another format is refused."""
        with pytest.raises(PreprocessError, match="format"):
            Pipeline.from_config({"format": "other", "steps": []})

    def test_unknown_type_in_config(self):
        """An unknown step type lists the known ones."""
        config = {"format": "qimage.preprocess.Pipeline/1", "steps": [{"name": "x", "type": "Y"}]}
        with pytest.raises(PreprocessError, match=r"unknown step type 'Y'.*Standardize"):
            Pipeline.from_config(config)

    def test_missing_state(self, three_vs_five):
        """A state lacking an array names what is missing."""
        pipe = Pipeline([("s", Standardize()), ("a", AngleScaler())])
        pipe.fit(three_vs_five[0].reshape(-1, 64))
        state = pipe.state_dict()
        del state["a.data_max_"]
        with pytest.raises(PreprocessError, match="AngleScaler: saved state lacks data_max_"):
            Pipeline.from_config(pipe.to_config(), state)
