"""Data-parallel training with ``torch.distributed``: N ranks, one model copy each.

Every rank holds the whole training set and draws the same batch order (the run's seed). A
global batch of ``batch_size x world`` samples is dealt out round-robin (rank ``r`` takes
samples ``r, r + world, ...``, as torch's ``DistributedSampler`` does) and
``DistributedDataParallel`` averages the gradients of every trainable parameter, quantum
angles included. Each rank's loss is weighted by its share of the global batch, so N ranks
with batch ``b`` take the steps of one process with batch ``N * b`` (up to summation order),
short last batch included. Ranks agree on every stop (Ctrl-C, a NaN loss) at the same batch;
rank 0 alone shows progress, writes checkpoints and files, and on resume reads the checkpoint
and sends it to the others. Gloo on CPU, NCCL when the run's device is CUDA.

Two ways to start ranks, one entry point: ``qimage train --nproc N`` (N local ranks on
127.0.0.1, see :func:`launch`) or ``torchrun``, which sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; :func:`join` reads them.

Example (inside each rank):
    >>> ranks = join(Execution())  # doctest: +SKIP
    >>> fit(model, X, y, config, ranks=ranks)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from qimage.sim import Execution

__all__ = ["Ranks", "free_port", "join", "launch", "leave"]

TIMEOUT = timedelta(minutes=5)  # a rank that does not answer for this long ends the run


@dataclass(frozen=True)
class Ranks:
    """This process's place in an initialised process group: ``rank`` of ``world``, and the
    device (``"cpu"`` or ``"cuda:LOCAL_RANK"``) its collectives use."""

    rank: int
    world: int
    device: str = "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def shard(self, idx: torch.Tensor) -> tuple[torch.Tensor, float]:
        """This rank's samples of the global batch ``idx`` ``(B,)`` and its loss weight
        ``world * share / B``; an empty share still steps (DDP needs every rank) at weight 0."""
        mine = idx[self.rank :: self.world]
        if len(mine) == 0:
            return idx[:1], 0.0
        return mine, self.world * len(mine) / len(idx)

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in ``DistributedDataParallel`` (which broadcasts rank 0's weights)."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [torch.device(self.device)] if self.device.startswith("cuda") else None
        return DistributedDataParallel(model, device_ids=ids)

    def reduce(self, sums: dict) -> dict:
        """Every value of ``sums`` (numbers) summed over the ranks."""
        keys = sorted(sums)
        values = torch.tensor([float(sums[k]) for k in keys], dtype=torch.float64)
        values = values.to(self.device)
        dist.all_reduce(values)
        return dict(zip(keys, values.tolist(), strict=True))

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on one of them."""
        value = torch.tensor([float(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every rank."""
        box = [obj]
        dist.broadcast_object_list(box, src=0, device=torch.device(self.device))
        return box[0]


def join(execution: Execution, timeout: timedelta = TIMEOUT) -> Ranks | None:
    """Join the process group the environment describes (``torchrun``'s variables), or
    ``None`` when ``WORLD_SIZE`` is unset or 1: gloo on CPU, NCCL for a CUDA execution."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = execution.device is not None and torch.device(execution.device).type == "cuda"
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        backend = "nccl" if cuda else "gloo"
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=timeout)
    return Ranks(rank, world, f"cuda:{local}" if cuda else "cpu")


def leave() -> None:
    """Leave the process group (if this process joined one)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def launch(argv: list[str], nproc: int, *, grace: float = 30.0) -> int:
    """Run ``python -m qimage ARGV`` as ``nproc`` ranks on 127.0.0.1; returns their exit code.

    CPU threads are shared out between the ranks (unless ``OMP_NUM_THREADS`` is set). Ctrl-C
    or SIGTERM sends each rank one SIGINT, so they stop at the same batch and rank 0 saves
    the checkpoint; a second one kills them. When a rank fails, the others get ``grace``
    seconds to notice before they are killed.
    """
    env = {
        **os.environ,
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "WORLD_SIZE": str(nproc),
        "LOCAL_WORLD_SIZE": str(nproc),
        "OMP_NUM_THREADS": os.environ.get(
            "OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc))
        ),
    }
    # Own sessions: the terminal's Ctrl-C reaches the launcher only, which forwards it once.
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "qimage", *argv],
            env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)},
            start_new_session=True,
        )
        for rank in range(nproc)
    ]
    try:
        try:
            return _wait(procs, grace)
        except KeyboardInterrupt:
            for proc in procs:
                proc.send_signal(signal.SIGINT)
            return _wait(procs, grace)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _wait(procs: list[subprocess.Popen], grace: float) -> int:
    """The first non-zero exit code of ``procs`` (0 if all succeed), waiting at most
    ``grace`` seconds for the others once one has failed."""
    failed_at = None
    while True:
        codes = [proc.poll() for proc in procs]
        # A rank killed by signal N exits as a shell reports it: 128 + N.
        bad = [code if code > 0 else 128 - code for code in codes if code not in (None, 0)]
        if all(code is not None for code in codes):
            return bad[0] if bad else 0
        if bad and failed_at is None:
            failed_at = time.monotonic()
        if failed_at is not None and time.monotonic() - failed_at > grace:
            return bad[0]
        time.sleep(0.1)
