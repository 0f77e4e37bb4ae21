"""Fuzz the command line with malformed inputs, in-process.

Every case builds one bad input (a run folder, a model file, an image file or an argument
value) from a seeded generator and runs ``qimage.cli.main`` on it. The contract: exit code 2
(0 where the input is valid), exactly one line on stderr, no traceback, and no file of a
previous run changed. The kinds of cases are an open list, :data:`KINDS`: a new bug found by
hand becomes a new generator (or a new entry of one).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from qimage.cli import main

SEED = 20


@dataclass(frozen=True)
class Case:
    """``build(ws)`` writes the bad input under ``ws.tmp`` and returns the argv to run."""

    id: str
    build: Callable[[Workspace], list[str]]
    code: int = 2
    xfail: str | None = None  # a known bug, marked strict until fixed


@dataclass
class Workspace:
    run: Path  # a finished run, shared by all cases: it must never change
    tmp: Path

    def copy_run(self) -> Path:
        folder = self.tmp / "run"
        folder.mkdir()
        for file in self.run.iterdir():
            (folder / file.name).write_bytes(file.read_bytes())
        return folder

    def image(self) -> Path:
        return self.run / "confusion.png"

    def model_with(self, meta: dict | None = None, tensors=None) -> Path:
        """A copy of the run's model file with metadata entries (and tensors) changed."""
        from safetensors import safe_open
        from safetensors.torch import load_file, save_file

        source = str(self.run / "model.safetensors")
        with safe_open(source, framework="pt") as handle:
            metadata = {**handle.metadata(), **(meta or {})}
        weights = load_file(source)
        if tensors is not None:
            tensors(weights)
        path = self.tmp / "model.safetensors"
        save_file(weights, str(path), metadata={k: v for k, v in metadata.items() if v})
        return path


# --------------------------------------------------------------------------- run folders


def _template() -> dict:
    """The run.json of the quick-start run, for the key paths every run.json has."""
    from qimage.train import preset_run_config

    return preset_run_config("digits", "qnn").to_dict()


def _paths(data: dict, path: tuple = ()) -> Iterator[tuple]:
    """Every key path of ``data``, sections and their fields."""
    for key, value in data.items():
        yield (*path, key)
        if isinstance(value, dict) and value:
            yield from _paths(value, (*path, key))


def _parent(data: dict, path: tuple) -> dict:
    for key in path[:-1]:
        data = data[key]
    return data


def _wrong_type(value):
    """A value of another JSON type that no field can take in place of ``value``."""
    if isinstance(value, bool) or value is None:
        return [["not", value]]
    if isinstance(value, (int, float)):
        return "not a number"
    if isinstance(value, str):
        return {"not": value}
    return 3.5 if isinstance(value, list) else "not an object"


def _without(path: tuple) -> Callable[[dict, random.Random], str]:
    def text(config: dict, rng: random.Random) -> str:
        del _parent(config, path)[path[-1]]
        return json.dumps(config)

    return text


def _wrong_typed(path: tuple) -> Callable[[dict, random.Random], str]:
    def text(config: dict, rng: random.Random) -> str:
        parent = _parent(config, path)
        parent[path[-1]] = _wrong_type(parent[path[-1]])
        return json.dumps(config)

    return text


def _resume_with(text: Callable[[dict, random.Random], str], rng: random.Random):
    seed = rng.randrange(2**32)

    def build(ws: Workspace) -> list[str]:
        run = ws.copy_run()
        config = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(text(config, random.Random(seed)))
        return ["train", "--resume", str(run), "--quiet"]

    return build


def run_json_cases(rng: random.Random) -> Iterator[Case]:
    """``train --resume`` of a run folder whose run.json was edited or cut short: every key
    removed, every field of the wrong type, and seeded cuts and garbage."""
    fixed = {
        "empty": lambda c, r: "",
        "list": lambda c, r: "[]",
        "null": lambda c, r: "null",
        "number": lambda c, r: "42",
        "binary": lambda c, r: bytes(r.randrange(256) for _ in range(64)).decode("latin-1"),
        "version-99": lambda c, r: json.dumps({**c, "version": 99}),
        "version-string": lambda c, r: json.dumps({**c, "version": "2"}),
    }
    edits = list(fixed.items())
    edits += [(f"truncated-{i}", _truncated) for i in range(8)]
    for path in _paths(_template()):
        edits.append((f"missing-{'.'.join(path)}", _without(path)))
        edits.append((f"wrong-type-{'.'.join(path)}", _wrong_typed(path)))
    for edit, text in edits:
        yield Case(f"run.json-{edit}", _resume_with(text, rng))


def _truncated(config: dict, rng: random.Random) -> str:
    text = json.dumps(config, indent=2)
    return text[: rng.randrange(1, len(text) - 1)]


# --------------------------------------------------------------------------- model files


def _nan(weights) -> None:
    name = sorted(k for k in weights if k.startswith("model."))[0]
    weights[name].view(-1)[0] = float("nan")


def _inf(weights) -> None:
    name = sorted(k for k in weights if k.startswith("model."))[-1]
    weights[name].view(-1)[-1] = float("-inf")


def _info_with(**changes) -> Callable[[Workspace], dict]:
    def meta(ws: Workspace) -> dict:
        from safetensors import safe_open

        with safe_open(str(ws.run / "model.safetensors"), framework="pt") as handle:
            info = json.loads(handle.metadata()["info"])
        return {"info": json.dumps({**info, **changes})}

    return meta


MODEL_EDITS = {
    "config-list": ({"model_config": "[]"}, None),
    "config-not-json": ({"model_config": "{qnn"}, None),
    "config-empty-object": ({"model_config": "{}"}, None),
    "info-not-json": ({"info": "not json"}, None),
    "info-list": ({"info": "[1, 2]"}, None),
    "preprocess-not-json": ({"preprocess_config": "{["}, None),
    "preprocess-list": ({"preprocess_config": "[3]"}, None),
    "version-99": ({"version": "99"}, None),
    "format-other": ({"format": "gguf"}, None),
    "nan-weights": ({}, _nan),
    "inf-weights": ({}, _inf),
    "class-names-short": (_info_with(class_names=["0", "1"]), None),
    "class-names-object": (_info_with(class_names={"a": 1}), None),
    "image-shape-zero": (_info_with(image_shape=[0, 0]), None),
    "image-shape-negative": (_info_with(image_shape=[-8, 8]), None),
    "image-shape-text": (_info_with(image_shape="8x8"), None),
    "image-shape-one-axis": (_info_with(image_shape=[64]), None),
}


def _model_commands(ws: Workspace, model: Path) -> dict[str, list[str]]:
    image = str(ws.image())
    return {
        "info": ["info", str(model)],
        "predict": ["predict", str(model), image],
        "evaluate": ["evaluate", str(model), "--limit", "5"],
        "export": ["export", str(model), "--input", image],
    }


def _edited_model(edit: str, command: str):
    meta, tensors = MODEL_EDITS[edit]

    def build(ws: Workspace) -> list[str]:
        changes = meta(ws) if callable(meta) else meta
        return _model_commands(ws, ws.model_with(changes, tensors))[command]

    return build


def _cut_model(fraction: float, command: str):
    def build(ws: Workspace) -> list[str]:
        data = (ws.run / "model.safetensors").read_bytes()
        path = ws.tmp / "model.safetensors"
        path.write_bytes(data[: int(len(data) * fraction)])
        return _model_commands(ws, path)[command]

    return build


def model_file_cases(rng: random.Random) -> Iterator[Case]:
    """Every command that reads a model file, on edited metadata, weights or bytes."""
    commands = ("info", "predict", "evaluate", "export")
    for edit in MODEL_EDITS:
        for command in commands:
            yield Case(f"model-{edit}-{command}", _edited_model(edit, command))
    for i in range(6):
        fraction = rng.choice([0.0, rng.random(), rng.uniform(0.95, 0.999)])
        command = commands[i % len(commands)]
        yield Case(f"model-cut-{fraction:.3f}-{command}", _cut_model(fraction, command))


# --------------------------------------------------------------------------- image files


def _png(width: int, height: int, mode: str = "L", rng: random.Random | None = None) -> bytes:
    """A PNG of random strokes (all black when ``rng`` is None)."""
    from PIL import Image

    image = Image.new("L", (width, height), color=0)
    if rng is not None:
        image.putdata([rng.choice((0, 0, 255)) for _ in range(width * height)])
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width x height`` pixels (a decompression bomb)."""
    data = bytearray(_png(1, 1))
    header = struct.pack(">II", width, height)
    data[16:24] = header
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _predict_on(content: Callable[[random.Random], bytes], rng: random.Random, suffix=".png"):
    seed = rng.randrange(2**32)

    def build(ws: Workspace) -> list[str]:
        path = ws.tmp / f"image{suffix}"
        path.write_bytes(content(random.Random(seed)))
        return ["predict", str(ws.run), str(path)]

    return build


def _truncated_png(rng: random.Random) -> bytes:
    data = _png(rng.randrange(20, 200), rng.randrange(20, 200), "RGB")
    return data[: rng.randrange(8, len(data) - 12)]


def image_cases(rng: random.Random) -> Iterator[Case]:
    """``predict`` on image files that are cut, empty, enormous or unusual."""
    for i in range(6):
        yield Case(f"image-truncated-{i}", _predict_on(_truncated_png, rng))
    yield Case("image-bomb", _predict_on(lambda r: _png_claiming(15000, 15000), rng))
    yield Case("image-zero-bytes", _predict_on(lambda r: b"", rng))
    yield Case("image-random-bytes", _predict_on(lambda r: r.randbytes(300), rng))
    yield Case("image-idx-cut", _predict_on(lambda r: b"\x00\x00\x08\x03\x00", rng, ".idx"))
    yield Case("image-idx-wrong-shape", _predict_on(_idx_5x5, rng, "-idx3-ubyte"))
    for mode in ("RGBA", "RGB", "1", "I;16", "P"):
        size = (rng.randrange(1, 64), rng.randrange(1, 64))
        valid = _predict_on(lambda r, m=mode, s=size: _png(*s, m, r), rng)
        yield Case(f"image-valid-{mode}", valid, code=0)
    yield Case("image-all-black", _predict_on(lambda r: _png(28, 28), rng))
    yield Case("image-missing", lambda ws: ["predict", str(ws.run), str(ws.tmp / "no.png")])


def _idx_5x5(rng: random.Random) -> bytes:
    return b"\x00\x00\x08\x03" + struct.pack(">III", 2, 5, 5) + rng.randbytes(50)


# --------------------------------------------------------------------------- argument values


def _huge_int(rng: random.Random) -> str:
    return str(rng.choice([2**31, 2**63, 10**30, rng.randrange(10**9, 10**12)]))


def _bad_ints(rng: random.Random) -> list[str]:
    """Values no count takes. Huge values are cases of their own, for the options that bound
    them (:data:`HUGE_REFUSED`): --limit or --shots 10**9 is refused later or not at all."""
    return ["0", "-1", str(-rng.randrange(2, 2**31)), "1.5", "seven", ""]


def _bad_floats(rng: random.Random) -> list[str]:
    return ["nan", "inf", "-inf", str(-rng.random()), "1e400", "x"]


TRAIN = ["train", "--quiet", "--epochs", "1", "--n-train", "30", "--layers", "1"]


def _argv(template: list[str]) -> Callable[[Workspace], list[str]]:
    """``RUN``, ``IMAGE`` and ``TMP/...`` in the template become the case's paths."""

    def build(ws: Workspace) -> list[str]:
        subs = {"RUN": str(ws.run), "IMAGE": str(ws.image())}
        out = [subs.get(a, a) for a in template]
        return [a.replace("TMP/", f"{ws.tmp}/") for a in out]

    return build


def argument_cases(rng: random.Random) -> Iterator[Case]:
    """Out-of-range, malformed and unknown option values for every command."""
    int_flags = {
        "train": ["--epochs", "--batch-size", "--qubits", "--n-train", "--patience", "--pca"],
        "info": ["--width"],
        "export": ["--index", "--row"],
        "evaluate": ["--limit"],
    }
    before = {"train": TRAIN, "info": ["info", "RUN"], "export": ["export", "RUN"]}
    before["evaluate"] = ["evaluate", "RUN"]
    for command, flags in int_flags.items():
        for flag in flags:
            for value in _bad_ints(rng):
                if (command, flag, value) in VALID:
                    continue
                argv = (
                    [*before[command], flag, value, "--out", "TMP/new"]
                    if command == "train"
                    else [*before[command], flag, value]
                )
                yield Case(f"{command}{flag}={value}", _argv(argv))
    for command, flag in HUGE_REFUSED:
        value = _huge_int(rng)
        out = ["--out", "TMP/new"] if command == "train" else []
        yield Case(f"{command}{flag}={value}", _argv([*before[command], flag, value, *out]))
    yield from _huge_cases()
    for flag in ("--lr", "--val-fraction"):
        for value in _bad_floats(rng):
            argv = [*TRAIN, flag, value, "--out", "TMP/new"]
            yield Case(f"train{flag}={value}", _argv(argv))
    yield from _shots_cases(rng)
    yield from _choice_cases()
    yield from _path_cases()
    yield from _global_cases(rng)


# Options whose huge values are refused (elsewhere huge is valid: --epochs, --limit, ...).
HUGE_REFUSED = [
    *(("train", flag) for flag in ("--epochs", "--batch-size", "--layers", "--patience")),
    *(("train", flag) for flag in ("--hidden", "--stride", "--downsample", "--nproc")),
    ("info", "--width"),
    ("train", "--qubits"),
    ("train", "--n-train"),
    ("train", "--pca"),
    ("export", "--index"),
    ("export", "--row"),
]
# Values among the generated ones that a command accepts (the test would train on them).
VALID = {("train", "--patience", "0"), ("export", "--index", "0"), ("export", "--row", "0")}


def _huge_cases() -> Iterator[Case]:
    """Sizes that once hung a command (--layers 10**9 built for ever, --epochs 2**63 trained
    for ever, a seed past 2**63 overflowed), refused while parsing."""
    for name, value in {"10**9": 10**9, "2**63": 2**63, "2**64": 2**64}.items():
        seed = ["--seed"] if value >= 2**63 else []  # 10**9 is a valid seed
        for flag in ("--layers", "--epochs", "--batch-size", *seed):
            argv = [*TRAIN, flag, str(value), "--out", "TMP/new"]
            yield Case(f"train{flag}={name}", _argv(argv))
    for command in (["evaluate", "RUN"], ["predict", "RUN", "IMAGE"]):
        yield Case(f"{command[0]}--seed=10**30", _argv([*command, "--seed", str(10**30)]))


def _shots_cases(rng: random.Random) -> Iterator[Case]:
    for value in ("0", "-1", str(-rng.randrange(2, 10**6)), "nan", _huge_int(rng)):
        for command in (["evaluate", "RUN", "--limit", "3"], ["predict", "RUN", "IMAGE"]):
            yield Case(f"{command[0]}--shots={value}", _argv([*command, "--shots", value]))
    for noise in (
        "depolarizing=nan",
        "depolarizing=-0.1",
        "readout",
        "=0.1",
        "depolarizing=1e400",
    ):
        yield Case(f"noise-{noise}", _argv(["predict", "RUN", "IMAGE", "--noise", noise]))


def _choice_cases() -> Iterator[Case]:
    choices = {
        "train": ["--model", "--encoding", "--ansatz", "--readout", "--optimizer", "--dataset"],
        "export": ["--format"],
        "evaluate": ["--dataset"],
        "bench": ["--suite"],
    }
    heads = {"train": TRAIN, "export": ["export", "RUN"], "evaluate": ["evaluate", "RUN"]}
    heads["bench"] = ["bench", "--out", "TMP/bench"]
    for command, flags in choices.items():
        for flag in flags:
            for value in ("nope", "", "QNN"):
                yield Case(
                    f"{command}{flag}={value or 'empty'}", _argv([*heads[command], flag, value])
                )
    yield Case("completion-fish", _argv(["completion", "fish"]))
    yield Case("no-command", _argv([]))
    yield Case("unknown-command", _argv(["trian"]))
    for device in ("gpu", "cuda:x", "tpu:0", ""):
        yield Case(f"evaluate--device={device}", _argv(["evaluate", "RUN", "--device", device]))
        yield Case(
            f"predict--device={device}", _argv(["predict", "RUN", "IMAGE", "--device", device])
        )
    for backend in ("nope", "pennylane:", "pennylane:no.such.device", ":"):
        yield Case(
            f"predict--backend={backend}", _argv(["predict", "RUN", "IMAGE", "--backend", backend])
        )
    for classes in ("3", "a,b", ",", "3,3", "-1,2"):
        yield Case(
            f"train--classes={classes}", _argv([*TRAIN, "--classes", classes, "--out", "TMP/new"])
        )


def _path_cases() -> Iterator[Case]:
    yield Case("info--png-missing-folder", _argv(["info", "RUN", "--png", "TMP/no/such/c.png"]))
    yield Case("info--png-folder", _argv(["info", "RUN", "--png", "TMP/"]))
    for fmt in ("qasm3", "qasm2", "pennylane", "qiskit"):
        yield Case(
            f"export-{fmt}--out-missing-folder",
            _argv(["export", "RUN", "--format", fmt, "--out", "TMP/no/x"]),
        )
    yield Case("export--input-missing", _argv(["export", "RUN", "--input", "TMP/none.png"]))
    yield Case("info-missing-model", _argv(["info", "TMP/nothing"]))
    yield Case("info-empty-folder", _argv(["info", "TMP/"]))
    yield Case("evaluate-missing-model", _argv(["evaluate", "TMP/nothing.safetensors"]))
    yield Case("report-missing-results", _argv(["report", "TMP/no-results"]))
    yield Case("report-empty-results", _argv(["report", "TMP/"]))
    yield Case("train--resume-missing", _argv(["train", "--resume", "TMP/none", "--quiet"]))
    yield Case("train--resume-empty-file", _argv(["train", "--resume", "IMAGE", "--quiet"]))
    yield Case("train--out-existing-run", _argv([*TRAIN, "--out", "RUN"]))
    yield Case("export-valid", _argv(["export", "RUN", "--out", "TMP/c.qasm"]), code=0)
    yield Case("info-json-valid", _argv(["info", "RUN", "--json"]), code=0)


def _global_cases(rng: random.Random) -> Iterator[Case]:
    for value in _bad_ints(rng):
        yield Case(f"--threads={value}-before", _argv(["--threads", value, "info", "RUN"]))
        yield Case(f"--threads={value}-after", _argv(["info", "RUN", "--threads", value]))
    yield Case("--device-before-info", _argv(["--device", "cpu", "info", "RUN"]))
    yield Case("--quiet-before-evaluate", _argv(["--quiet", "evaluate", "RUN"]))
    yield Case(
        "--device-bogus-before-predict", _argv(["--device", "gpu", "predict", "RUN", "IMAGE"])
    )
    value = _huge_int(rng)
    yield Case(f"--threads={value}", _argv(["--threads", value, "info", "RUN"]))
    yield Case("--threads-1-valid", _argv(["--threads", "1", "info", "RUN"]), code=0)


KINDS = [run_json_cases, model_file_cases, image_cases, argument_cases]
CASES = [case for kind in KINDS for case in kind(random.Random(SEED))]


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "run"
    assert (
        main(
            [
                "train",
                "--n-train",
                "40",
                "--layers",
                "1",
                "--epochs",
                "1",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def _files(*folders: Path) -> dict[Path, str]:
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 200


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_one_line_no_traceback_no_lost_run(case, finished_run, tmp_path, capsys):
    argv = case.build(Workspace(finished_run, tmp_path))
    before = _files(finished_run, tmp_path)
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == case.code, err
    assert "Traceback" not in err
    if code:
        assert len(err.strip().splitlines()) == 1, err
    after = _files(finished_run, tmp_path)
    assert {p: after.get(p) for p in before} == before, "a file of a previous run changed"
    if code:
        assert set(after) == set(before), "a failed command left files behind"
