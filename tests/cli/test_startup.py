"""The command line as a native tool: lazy start-up, plain help, options anywhere, completion,
JSON output and logs that never wrap. Timing lives in benchmarks/startup.py, not here."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from qimage.cli import COMMANDS, build_parser, main, parse_args
from qimage.train import load_model

SPHINX = re.compile(r":[a-z]+:`|``|`[^`\s]+`_")


def _help(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
def test_help_is_plain_text(command, capsys):
    """No Sphinx roles or double backquotes in any --help screen."""
    text = _help(capsys, command)
    assert "usage: qimage" in text
    assert not SPHINX.search(text), SPHINX.search(text).group(0)


def test_table_matches_the_modules():
    """The static table's help line is the one each module registers (the two stay in sync)."""
    parser = build_parser(COMMANDS)
    sub = next(a for a in parser._actions if a.dest == "command")
    registered = {a.dest: a.help for a in sub._choices_actions}
    assert registered == {name: summary for name, (_, summary) in COMMANDS.items()}


def _imported_after(argv: list[str]) -> list[str]:
    code = (
        "import sys\nfrom qimage.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'sklearn', 'numpy', 'matplotlib', 'qimage.train')"
        " if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1].replace("'", '"'))


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["report", "--help"]])
def test_no_heavy_imports(argv):
    """--version, --help and a light command's help import neither PyTorch nor sklearn."""
    assert _imported_after(argv) == []


@pytest.mark.parametrize("command", ["info", "evaluate", "export", "predict"])
def test_help_of_a_model_command_loads_no_torch(command):
    """The help of the commands that read model files builds its parser from light option
    helpers: PyTorch, scikit-learn and the training package load only when the command runs."""
    assert set(_imported_after([command, "--help"])) <= {"numpy"}


def test_only_the_chosen_command_is_imported():
    """`qimage info --help` loads info's module, not bench's or export's."""
    code = (
        "import sys\nfrom qimage.cli import main\ntry:\n    main(['info', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('qimage.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "'qimage.cli.info'" in loaded
    assert all(f"'qimage.cli.{name}'" not in loaded for name in ("bench", "export", "report"))


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["--threads", "2", "info", "m"], "threads", 2),
        (["info", "m", "--threads", "2"], "threads", 2),
        (["--device", "cpu", "evaluate", "m"], "device", "cpu"),
        (["evaluate", "m", "--device", "cpu"], "device", "cpu"),
        (["--device", "cpu", "predict", "m", "x.png"], "device", "cpu"),
        (["--device", "cpu", "evaluate", "m", "--device", "cuda"], "device", "cuda"),
        (["--quiet", "train"], "quiet", True),
        (["train", "--quiet"], "quiet", True),
        (["--quiet", "--device", "cpu", "train"], "device", "cpu"),
        (["--quiet", "bench"], "quiet", True),
        (["train"], "quiet", False),
    ],
)
def test_global_options_before_or_after(argv, field, value):
    """--threads, --device and --quiet mean the same before and after the command; the one
    after the command wins when both are given."""
    assert getattr(parse_args(argv), field) == value


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        (["--device", "cpu", "info", "m"], "qimage info"),
        (["--quiet", "evaluate", "m"], "qimage evaluate"),
        (["info", "m", "-x"], "qimage"),
        (["train", "--model", "nope"], "qimage train"),
    ],
)
def test_a_wrong_option_is_one_line(argv, prog, capsys):
    """An option the command lacks, or a bad choice, is one line naming the command."""
    with pytest.raises(SystemExit) as stop:
        parse_args(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"{prog}: error: ") and err.endswith(f"(see {prog} --help)\n")


def test_bash_completion_completes(tmp_path, capsys):
    """The bash script, sourced in bash, completes commands and option choices."""
    pytest.importorskip("shtab")
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "qimage.bash"
    script.write_text(capsys.readouterr().out)
    probe = (
        f"source {script}\n"
        "COMP_WORDS=(qimage ev); COMP_CWORD=1; _shtab_qimage; echo ${COMPREPLY[*]}\n"
        "COMP_WORDS=(qimage export m --format q); COMP_CWORD=4; _shtab_qimage; "
        "echo ${COMPREPLY[*]}\n"
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["evaluate", "qasm3 qasm2 qiskit"]


def test_zsh_completion_names_every_command(capsys):
    pytest.importorskip("shtab")
    assert main(["completion", "zsh"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#compdef qimage")
    assert all(f"\n    {name}:'" in script for name in COMMANDS)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("startup") / "run"
    argv = ["train", "--n-train", "40", "--layers", "1", "--epochs", "1", "--quiet", "--out"]
    assert main([*argv, str(out)]) == 0
    return out


def test_piped_log_lines_never_wrap(tmp_path, capsys, monkeypatch):
    """A piped `qimage train` log, even 30 columns wide, keeps each epoch on one line."""
    monkeypatch.setenv("COLUMNS", "30")
    argv = ["train", "--n-train", "40", "--layers", "1", "--epochs", "2"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    lines = capsys.readouterr().err.splitlines()
    speed = [line for line in lines if "samples/s" in line]
    assert len(speed) == 2 and all(re.match(r"epoch +\d .* [\d,]+ samples/s$", s) for s in speed)


def test_info_json(tiny_run, capsys):
    assert main(["info", str(tiny_run), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["config"]["name"] == "qnn" and described["circuits"][0]["n_qubits"] == 6
    model = load_model(tiny_run).model
    assert described["n_parameters"] == sum(p.numel() for p in model.parameters())


def test_evaluate_json_after_global_threads(tiny_run, capsys):
    assert main(["--threads", "1", "evaluate", str(tiny_run), "--json", "--limit", "20"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["n_samples"] == 20 and 0 <= metrics["accuracy"] <= 1


def test_train_json(tmp_path, capsys):
    """train --json prints the run folder and the metrics that its metrics.json holds."""
    out = tmp_path / "run"
    argv = ["train", "--n-train", "40", "--layers", "1", "--epochs", "1", "--quiet", "--json"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed.pop("run") == str(out)
    assert printed == json.loads((out / "metrics.json").read_text())


def test_predict_json(tiny_run, capsys):
    """predict --json: one JSON line per image whose probabilities are the model's own."""
    from qimage.cli.predict import load_images

    image = tiny_run / "confusion.png"
    assert main(["predict", str(tiny_run), str(image), str(image), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    loaded = load_model(tiny_run)
    expected = loaded.predict_proba(load_images(image, tuple(loaded.info["image_shape"])))[0]
    assert [row["file"] for row in lines] == [str(image)] * 2
    for row in lines:
        assert list(row["probabilities"]) == loaded.info["class_names"]
        assert list(row["probabilities"].values()) == pytest.approx(expected.tolist())
        assert row["class"] == loaded.info["class_names"][int(expected.argmax())]
        assert row["p"] == pytest.approx(float(expected.max()))
