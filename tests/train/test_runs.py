"""Run folders are never overwritten and never keep orphan temporary files."""

from __future__ import annotations

import json

import pytest

from qimage.cli import main
from qimage.errors import TrainingError
from qimage.train.runs import claim_run_folder, remove_orphans


def _finished(folder):
    folder.mkdir()
    (folder / "run.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights of a 30-epoch run")
    return folder


def test_a_finished_run_is_refused(tmp_path):
    run = _finished(tmp_path / "run")
    with pytest.raises(TrainingError, match=r"--resume .* or pass --force"):
        claim_run_folder(run, resume=False, force=False)
    assert (run / "model.safetensors").read_bytes() == b"weights of a 30-epoch run"


def test_force_moves_the_old_run_aside(tmp_path):
    run = _finished(tmp_path / "run")
    assert claim_run_folder(run, resume=False, force=True) is False
    (aside,) = tmp_path.glob("run.replaced-*")
    assert (aside / "model.safetensors").read_bytes() == b"weights of a 30-epoch run"
    assert not run.exists()


def test_a_folder_without_progress_is_reused_or_resumed_from_scratch(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("{}")
    assert claim_run_folder(run, resume=False, force=False) is False
    assert claim_run_folder(run, resume=True, force=False) is False  # nothing to continue
    (run / "checkpoint.pt").write_bytes(b"")
    assert claim_run_folder(run, resume=True, force=False) is True


def test_orphan_temporary_files_are_removed(tmp_path):
    orphan = tmp_path / ".checkpoint.pt.abc123.tmp"
    orphan.write_bytes(b"half a checkpoint")
    keep = tmp_path / "history.csv"
    keep.write_text("epoch\n")
    assert remove_orphans(tmp_path) == [orphan]
    assert not orphan.exists() and keep.exists()


def test_the_command_line_refuses_in_one_line(tmp_path, capsys):
    run = _finished(tmp_path / "run")
    assert main(["train", "--out", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--force" in err
    assert (run / "model.safetensors").read_bytes() == b"weights of a 30-epoch run"


def test_a_full_disk_is_one_line_and_keeps_the_old_file(tmp_path):
    """ENOSPC while writing names the file and leaves the previous version valid."""
    import errno

    from qimage.train.checkpoint import atomic_write

    target = tmp_path / "checkpoint.pt"
    target.write_bytes(b"epoch 3")

    def full(tmp):
        with open(tmp, "wb") as handle:
            handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(TrainingError, match=r"no space left to write .*checkpoint\.pt"):
        atomic_write(target, full)
    assert target.read_bytes() == b"epoch 3"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--classes", "3"], "at least 2 classes"), (["--n-train", "0"], "n_train must be >= 2")],
)
def test_selections_that_leave_nothing_to_learn(flags, message, tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--quiet", *flags]) == 2
    assert message in capsys.readouterr().err


def test_a_refused_resume_leaves_run_json_as_it_was(tmp_path):
    """The checkpoint refuses an edited learning rate before run.json is rewritten."""
    from qimage.train import load_run_config, preset_run_config, run_experiment

    cfg = preset_run_config("digits", "qnn")
    cfg.data.n_train, cfg.train.epochs = 40, 1
    cfg.model = cfg.model.replace(n_layers=1)
    run_experiment(cfg, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    edited = json.dumps({**saved, "train": {**saved["train"], "lr": saved["train"]["lr"] * 2}})
    (tmp_path / "run" / "run.json").write_text(edited)
    with pytest.raises(TrainingError, match="different training config"):
        run_experiment(load_run_config(tmp_path / "run"), tmp_path / "run", resume=True)
    assert (tmp_path / "run" / "run.json").read_text() == edited
