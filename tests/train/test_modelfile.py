"""Model files: identical predictions after a round trip; wrong files refused clearly."""

from __future__ import annotations

import json

import pytest
import torch

from qimage.errors import ModelFileError
from qimage.models import ModelConfig, build_model
from qimage.train import DataSpec, load_model, prepare_data, save_model


@pytest.fixture(scope="module")
def data():
    """Digits 0-2, angle-encoded after PCA to 4 features."""
    return prepare_data(DataSpec("digits", classes=[0, 1, 2], n_train=60, pca=4, scale="angle"))


def _saved(tmp_path, data, name="qnn"):
    options = {"readout": "expval"} if name == "qnn" else {}
    cfg = ModelConfig(
        name=name, n_features=4, n_classes=3, n_qubits=4, n_layers=2, encoder="angle", **options
    )
    model = build_model(cfg, torch.Generator().manual_seed(0))
    path = save_model(tmp_path / "m.safetensors", model, cfg, data.pipeline, {"dataset": "digits"})
    return model, cfg, path


class TestRoundTrip:
    @pytest.mark.parametrize("name", ["qnn", "dressed"])
    def test_identical_predictions(self, tmp_path, data, name):
        """save -> load gives bit-identical logits and the same preprocessing."""
        model, _, path = _saved(tmp_path, data, name)
        loaded = load_model(path)
        with torch.no_grad():
            assert torch.equal(model(data.X_test), loaded.model(data.X_test))
        raw = data.pipeline.transform
        images = torch.rand(3, 8, 8).numpy() * 255
        assert (loaded.pipeline.transform(images) == raw(images)).all()
        assert loaded.info == {"dataset": "digits"}

    def test_file_holds_no_pickle(self, tmp_path, data):
        """The file is safetensors: a JSON header of tensors and string metadata."""
        _, _, path = _saved(tmp_path, data)
        raw = path.read_bytes()
        header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
        assert header["__metadata__"]["format"] == "qimage-model"
        assert all(k == "__metadata__" or "dtype" in v for k, v in header.items())


class TestRefusals:
    def test_not_a_model_file(self, tmp_path):
        """A random file is refused as not safetensors."""
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"hello")
        with pytest.raises(ModelFileError, match="not a safetensors model file"):
            load_model(bad)

    def test_missing_file(self, tmp_path):
        """A missing path says so."""
        with pytest.raises(ModelFileError, match="no model file"):
            load_model(tmp_path / "none.safetensors")

    def _rewrite(self, path, **metadata):
        from safetensors import safe_open
        from safetensors.torch import load_file, save_file

        with safe_open(str(path), framework="pt") as handle:
            meta = dict(handle.metadata())
        tensors = load_file(str(path))
        meta.update(metadata)
        save_file(tensors, str(path), metadata=meta)

    def test_wrong_version(self, tmp_path, data):
        """A file from another format version is refused, naming both versions."""
        _, _, path = _saved(tmp_path, data)
        self._rewrite(path, version="99")
        with pytest.raises(ModelFileError, match=r"version 99.*reads versions 1, 2"):
            load_model(path)

    def test_wrong_shapes(self, tmp_path, data):
        """Weights that do not fit the configured model are refused."""
        _, cfg, path = _saved(tmp_path, data)
        bigger = ModelConfig(**{**cfg.to_dict(), "n_layers": 3})
        self._rewrite(path, model_config=json.dumps(bigger.to_dict()))
        with pytest.raises(ModelFileError, match="does not describe a loadable model"):
            load_model(path)

    def test_nan_weights(self, tmp_path, data):
        """A file whose weights hold NaN is refused at load, not used to predict p=nan."""
        from safetensors import safe_open
        from safetensors.torch import load_file, save_file

        _, _, path = _saved(tmp_path, data)
        with safe_open(str(path), framework="pt") as handle:
            meta = dict(handle.metadata())
        tensors = load_file(str(path))
        tensors["model.quantum.weights"][0] = float("nan")
        save_file(tensors, str(path), metadata=meta)
        with pytest.raises(ModelFileError, match="NaN or infinite weights"):
            load_model(path)


# The flat config every version-1 file carried (all families' keys, run options inside).
_V1_CONFIG = {
    "name": "qnn",
    "n_features": 4,
    "n_classes": 3,
    "n_qubits": 4,
    "n_layers": 2,
    "encoder": "angle",
    "ansatz": "strongly_entangling",
    "readout": "expval",
    "readout_wires": None,
    "diff_method": "adjoint",
    "shots": None,
    "precision": "complex64",
    "encoder_options": {},
    "ansatz_options": {},
    "hidden": 0,
    "image_size": None,
    "patch": 2,
    "stride": 2,
    "trainable": False,
    "channels": 0,
    "noise": None,
}


class TestVersions:
    def test_version_1_files_still_load(self, tmp_path, data):
        """A version-1 file (flat config with run options) loads to the same predictions."""
        model, _, path = _saved(tmp_path, data)
        TestRefusals()._rewrite(path, version="1", model_config=json.dumps(_V1_CONFIG))
        loaded = load_model(path)
        assert loaded.config.n_layers == 2 and not hasattr(loaded.config.options, "shots")
        with torch.no_grad():
            assert torch.equal(model(data.X_test), loaded.model(data.X_test))

    def test_double_precision_round_trip(self, tmp_path, data):
        """A float64 model loads as float64 (and so simulates in complex128)."""
        model, cfg, _ = _saved(tmp_path, data)
        model = model.double()
        path = save_model(tmp_path / "d.safetensors", model, cfg, data.pipeline)
        loaded = load_model(path)
        assert loaded.model.quantum.weights.dtype == torch.float64
        x = data.X_test.double()
        with torch.no_grad():
            assert torch.equal(model(x), loaded.model(x))

    def test_run_folder_is_accepted(self, tmp_path, data):
        """load_model takes a run folder as the command line does."""
        _, _, path = _saved(tmp_path, data)
        path.rename(tmp_path / "model.safetensors")
        assert load_model(tmp_path).config.name == "qnn"


def test_predict_names_the_classes(tmp_path, data):
    """``ModelFile.predict`` gives class names, the argmax of ``predict_proba``."""
    model, cfg, _ = _saved(tmp_path, data)
    info = {"class_names": ["zero", "one", "two"]}
    path = save_model(tmp_path / "n.safetensors", model, cfg, data.pipeline, info)
    loaded = load_model(path)
    images = torch.rand(4, 8, 8).numpy() * 16
    expected = [info["class_names"][i] for i in loaded.predict_proba(images).argmax(1)]
    assert loaded.predict(images) == expected
