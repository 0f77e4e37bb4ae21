"""Data-parallel training: 2 gloo ranks on 127.0.0.1 step as one process with twice the batch,
stay bit-identical, stop together, and resume exactly after a rank is killed.

Ranks are spawned processes (``torch.multiprocessing``) joined through the environment
variables ``torchrun`` sets; every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from qimage.cli import main
from qimage.models import ModelConfig, build_model
from qimage.sim import Execution
from qimage.train import TrainConfig, TrainingInterrupted, fit, load_model
from qimage.train.distributed import Ranks, free_port, join, leave

B = 8  # per rank
N = 45  # the last global batch (13 samples) splits 7 / 6: the loss weights must even it out
CFG = TrainConfig(epochs=3, batch_size=B, lr=0.05, val_fraction=0.0, seed=0)
TIMEOUT = 120  # seconds for any group of ranks


def _model() -> torch.nn.Module:
    config = ModelConfig(
        "qnn", n_features=16, n_classes=2, encoder="amplitude", n_qubits=4, n_layers=2
    )
    return build_model(config.resolved(), torch.Generator().manual_seed(0)).double()


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    X = torch.rand(N, 16, generator=g, dtype=torch.float64)
    return X, torch.randint(0, 2, (N,), generator=g)


def _rank(rank: int, world: int, port: int, out: str, kill_at, stop_at, resume: bool) -> None:
    """One rank: join, train (maybe dying or stopping at ``(epoch, batch)``), save its weights."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    ranks = join(Execution(), timeout=timedelta(seconds=60))

    def on_batch(epoch: int, batch: int) -> bool:
        if rank == 1 and (epoch, batch) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return rank == 1 and (epoch, batch) == stop_at

    model, (X, y) = _model(), _data()
    checkpoint = Path(out) / "checkpoint.pt"
    try:
        fit(model, X, y, CFG, ranks=ranks, checkpoint=checkpoint, resume=resume, on_batch=on_batch)
    except TrainingInterrupted:
        (Path(out) / f"stopped{rank}").touch()
    else:
        torch.save(model.state_dict(), Path(out) / f"rank{rank}.pt")
    leave()


def _spawn(out: Path, *, kill_at=None, stop_at=None, resume=False) -> None:
    """Run 2 ranks; raises what the first failing rank raised (or its death)."""
    args = (2, free_port(), str(out), kill_at, stop_at, resume)
    context = mp.start_processes(_rank, args=args, nprocs=2, join=False, start_method="spawn")
    deadline = time.monotonic() + TIMEOUT
    try:
        while not context.join(timeout=1):
            assert time.monotonic() < deadline, "the ranks did not finish in time"
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()


def _weights(out: Path, rank: int) -> dict:
    return torch.load(out / f"rank{rank}.pt", weights_only=True)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> Path:
    """An uninterrupted 2-rank run."""
    out = tmp_path_factory.mktemp("ddp")
    _spawn(out)
    return out


def test_two_ranks_step_as_one_process_with_twice_the_batch(two_ranks):
    """Batch 8 on each of 2 ranks = batch 16 in one process (float64, 9 steps, last one short);
    the ranks' weights are bit-identical and every parameter (the circuit's angles too) moved."""
    model, (X, y) = _model(), _data()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, X, y, TrainConfig(**{**CFG.to_dict(), "batch_size": 2 * B}), progress=False)
    rank0, rank1 = _weights(two_ranks, 0), _weights(two_ranks, 1)
    for name, value in model.state_dict().items():
        assert torch.equal(rank0[name], rank1[name]), name
        torch.testing.assert_close(rank0[name], value, rtol=0, atol=1e-6)
        if value.is_floating_point():
            assert not torch.allclose(start[name], value), f"{name} did not train"


def test_one_process_with_batch_b_differs(two_ranks):
    """The parity above can fail: the same run at batch 8 in one process ends elsewhere."""
    model, (X, y) = _model(), _data()
    fit(model, X, y, CFG, progress=False)
    rank0 = _weights(two_ranks, 0)
    assert any(not torch.allclose(rank0[k], v, atol=1e-3) for k, v in model.state_dict().items())


def test_stop_kill_and_resume_end_with_the_uninterrupted_weights(two_ranks, tmp_path):
    """Ctrl-C seen by rank 1 alone (epoch 1, batch 2): both ranks stop after that batch and
    rank 0 saves the point. Resumed, rank 1 is SIGKILLed mid-epoch 2: the run fails. Resumed
    again from rank 0's last checkpoint: the weights of the uninterrupted run, on both ranks."""
    _spawn(tmp_path, stop_at=(0, 2))
    assert (tmp_path / "stopped0").exists() and (tmp_path / "stopped1").exists()
    with pytest.raises(Exception):  # noqa: B017  rank 1's death or rank 0's broken collective
        _spawn(tmp_path, kill_at=(1, 2), resume=True)
    assert not (tmp_path / "rank0.pt").exists()
    _spawn(tmp_path, resume=True)
    reference = _weights(two_ranks, 0)
    for rank in (0, 1):
        resumed = _weights(tmp_path, rank)
        assert all(torch.equal(resumed[k], v) for k, v in reference.items())


class TestShard:
    def test_round_robin_with_weights_summing_to_world(self):
        idx = torch.arange(13)
        shares = [Ranks(r, 2).shard(idx) for r in (0, 1)]
        assert shares[0][0].tolist() == list(range(0, 13, 2))
        assert shares[1][0].tolist() == list(range(1, 13, 2))
        assert shares[0][1] + shares[1][1] == pytest.approx(2.0)

    def test_empty_share_steps_with_weight_zero(self):
        sample, weight = Ranks(2, 3).shard(torch.arange(2))
        assert len(sample) == 1 and weight == 0.0


def test_no_world_size_means_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert join(Execution()) is None


def test_cli_nproc_matches_one_process_with_twice_the_batch(tmp_path):
    """``qimage train --nproc 2 --batch-size 8`` (the CLI's own launcher, 127.0.0.1) writes
    the model of ``--batch-size 16`` in one process; rank 0 alone writes files and talks."""
    flags = ["--n-train", "90", "--epochs", "2", "--layers", "1", "--precision", "complex128"]
    flags += ["--quiet", "--seed", "3"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    command = [sys.executable, "-m", "qimage", "train", *flags, "--nproc", "2", "--batch-size"]
    done = subprocess.run(
        [*command, "8", "--out", str(tmp_path / "two")],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy") == 1
    assert main(["train", *flags, "--batch-size", "16", "--out", str(tmp_path / "one")]) == 0
    two, one = (load_model(tmp_path / name).model.state_dict() for name in ("two", "one"))
    for name, value in one.items():
        torch.testing.assert_close(two[name], value, rtol=0, atol=1e-6)
