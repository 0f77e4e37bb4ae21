"""Where a suite's jobs run: a local process pool or Ray tasks, behind one small interface.

An executor runs ``function(job)`` for every job and yields ``(index, result, tries)`` in the
order jobs finish; ``tries`` is how many times the job was started (more than one when a
worker died and the job was retried). Executors compute; they never write results: the
driver (:func:`qimage.bench.run_suite`) alone appends rows, so a retried or duplicated job
can never write twice. Leaving :meth:`map` early (Ctrl-C, SIGTERM, an error) cancels the
jobs still outstanding.

Example:
    >>> with LocalExecutor(workers=2) as executor:  # doctest: +SKIP
    ...     for index, result, tries in executor.map(abs, [-1, -2]):
    ...         ...
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence

from qimage.errors import QimageError

__all__ = ["EXECUTORS", "LocalExecutor", "RayExecutor", "make_executor"]

RAY_MISSING = "--executor ray needs Ray: pip install 'qimage[ray]'"


class LocalExecutor:
    """A pool of ``workers`` spawned processes (in-process for one worker).

    ``cpus_per_cell`` is the number of PyTorch threads each job uses (default: the cores
    shared out between the workers).
    """

    name = "local"

    def __init__(self, workers: int = 1, cpus_per_cell: int | None = None):
        self.workers = max(1, workers)
        self.threads = cpus_per_cell or max(1, (os.cpu_count() or 1) // self.workers)

    def map(self, function: Callable, jobs: Sequence) -> Iterator[tuple[int, object, int]]:
        if self.workers <= 1 or len(jobs) <= 1:
            for index, job in enumerate(jobs):
                yield index, function(job), 1
            return
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        # Leaving the block for any reason (Ctrl-C, SIGTERM, an error) terminates the workers:
        # an interrupted benchmark must not leave processes computing cells nobody records.
        with context.Pool(self.workers) as pool:
            calls = [(function, index, job) for index, job in enumerate(jobs)]
            for index, result in pool.imap_unordered(_indexed, calls):
                yield index, result, 1

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        pass


def _indexed(call):
    function, index, job = call
    return index, function(job)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise QimageError(RAY_MISSING) from None
    return ray


class RayExecutor:
    """Each job is a Ray task needing ``cpus_per_cell`` CPUs, retried up to ``max_retries``
    times when its worker dies.

    With no ``address`` (and no Ray already running in this process) a local Ray is started
    on the loopback interface with ``cpus`` CPUs (default: all) and stopped on exit; with
    ``address`` (``"auto"``, ``"HOST:6379"`` or ``"ray://HOST:10001"``) it joins that
    cluster, whose nodes must have the same qimage installed.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        cpus: int | None = None,
        cpus_per_cell: int = 1,
        max_retries: int = 3,
    ):
        ray = self._ray = _import_ray()
        self.threads = max(1, cpus_per_cell)
        self._owns = not ray.is_initialized()
        if self._owns and address:
            ray.init(address=address, log_to_driver=False)
        elif self._owns:
            ray.init(
                num_cpus=cpus,
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )
        self._task = ray.remote(num_cpus=self.threads, max_retries=max_retries)(_attempt)
        # Out of order: a cancelled job can leave a gap in its worker's sequence of calls to
        # the counter, which in order would stall that worker's next call for 30 s and fail.
        counter = ray.remote(num_cpus=0, max_restarts=-1, allow_out_of_order_execution=True)
        self._tries = counter(_Tries).remote()

    def map(self, function: Callable, jobs: Sequence) -> Iterator[tuple[int, object, int]]:
        ray, token = self._ray, uuid.uuid4().hex
        pending = {
            self._task.remote(self._tries, f"{token}:{i}", function, job): i
            for i, job in enumerate(jobs)
        }
        try:
            while pending:
                # A timeout, so that Ctrl-C and SIGTERM are handled between waits.
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    result, tries = ray.get(ref)
                    yield pending.pop(ref), result, tries
        finally:
            # Forced: a running job's worker is killed at once. Unforced cancellation waits
            # for the job's next Python line, which a job inside a long native call may not
            # reach for many seconds (seen as a cancelled cell still running after 20 s).
            for ref in pending:
                ray.cancel(ref, force=True)

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self._ray.kill(self._tries)
        if self._owns:
            self._ray.shutdown()


class _Tries:
    """A Ray actor counting how many times each job was started."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def start(self, key: str) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]


def _attempt(tries, key: str, function: Callable, job):
    import ray

    count = ray.get(tries.start.remote(key))
    return function(job), count


EXECUTORS = {
    "local": lambda workers, address, cpus: LocalExecutor(workers or 1, cpus),
    "ray": lambda workers, address, cpus: RayExecutor(
        address, cpus=workers, cpus_per_cell=cpus or 1
    ),
}
"""Executor factories by name: ``factory(workers, address, cpus_per_cell)``."""


def make_executor(
    name: str,
    *,
    workers: int | None = None,
    address: str | None = None,
    cpus_per_cell: int | None = None,
):
    """The executor called ``name``: ``local`` (``workers`` processes) or ``ray`` (a local Ray
    with ``workers`` CPUs, default all, or the cluster at ``address``)."""
    if name not in EXECUTORS:
        raise QimageError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    return EXECUTORS[name](workers, address, cpus_per_cell)
