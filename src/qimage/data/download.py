"""Downloading one file from a list of mirrors, verified and written atomically.

The bytes go to a hidden temporary file beside the destination while their SHA-256 is
computed; only when the transfer is complete (as long as ``Content-Length`` announced)
and the checksum matches is the file renamed into place. An interrupted or corrupted
download therefore never leaves a file that looks complete.

The function that opens URLs and the mirror list are arguments, so tests (and users with
their own mirror) never need the real network.

Example::

    path = download_file(
        ["https://example.org/mnist/", "https://mirror.example.net/mnist/"],
        "t10k-labels-idx1-ubyte.gz",
        Path("~/.cache/qimage/mnist").expanduser(),
        sha256="f7ae60f9...",
    )
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from qimage.errors import DatasetError

__all__ = ["DEFAULT_TIMEOUT", "Opener", "download_file", "urlopen_with_agent"]

#: Seconds to wait for a connection or for the next block of data.
DEFAULT_TIMEOUT = 30.0
_BLOCK = 1 << 16

#: ``opener(url, timeout)`` returns a context-managed response with ``read(n)`` and,
#: optionally, ``headers`` (a mapping with ``Content-Length``).
Opener = Callable[[str, float], Any]


def urlopen_with_agent(url: str, timeout: float) -> Any:
    """Open ``url`` with :func:`urllib.request.urlopen`, identifying as qimage."""
    request = urllib.request.Request(url, headers={"User-Agent": "qimage (python urllib)"})
    return urllib.request.urlopen(request, timeout=timeout)


def download_file(
    mirrors: Sequence[str],
    filename: str,
    dest_dir: str | os.PathLike[str],
    *,
    sha256: str,
    opener: Opener | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
) -> Path:
    """Download ``filename`` from the first mirror that serves it with the right SHA-256.

    Args:
        mirrors: base URLs, tried in order; ``filename`` is appended to each.
        filename: the file's name, both on the mirror and in ``dest_dir``.
        dest_dir: folder for the file; created if missing.
        sha256: expected lowercase hex digest of the downloaded bytes.
        opener: ``opener(url, timeout)``; defaults to :func:`urlopen_with_agent`.
        timeout: seconds for the connection and for each read.
        progress: show a progress bar on stderr; by default only when stderr is a TTY.

    Returns:
        The path of the verified file, ``dest_dir / filename``.

    Raises:
        DatasetError: every mirror failed; the message lists each URL and its problem.
    """
    opener = opener or urlopen_with_agent
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create download folder {dest_dir}: {exc}") from exc
    show = sys.stderr.isatty() if progress is None else progress
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            return _fetch_one(url, dest_dir / filename, sha256, opener, timeout, show)
        except _MirrorFailure as exc:
            failures.append(f"  {url}: {exc}")
    raise DatasetError(f"could not download {filename}:\n" + "\n".join(failures))


class _MirrorFailure(Exception):
    """One mirror failed; the next one is tried."""


def _fetch_one(
    url: str, dest: Path, sha256: str, opener: Opener, timeout: float, show: bool
) -> Path:
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise DatasetError(f"cannot write into {dest.parent}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _transfer(url, out, opener, timeout, show)
        if digest != sha256:
            raise _MirrorFailure(f"checksum mismatch: sha256 {digest}, expected {sha256}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _transfer(url: str, out: BinaryIO, opener: Opener, timeout: float, show: bool) -> str:
    """Copy the response body into ``out``; return its SHA-256 hex digest."""
    digest = hashlib.sha256()
    received = 0
    try:
        with opener(url, timeout) as response:
            expected = _content_length(response)
            with _progress_bar(url, expected, show) as advance:
                while block := response.read(_BLOCK):
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    advance(len(block))
    except urllib.error.HTTPError as exc:
        raise _MirrorFailure(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _MirrorFailure(f"cannot connect ({exc.reason})") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # Timeouts, resets and IncompleteRead (server closed early) land here.
        raise _MirrorFailure(f"transfer failed after {received} bytes ({exc!r})") from exc
    if expected is not None and received != expected:
        raise _MirrorFailure(f"interrupted: got {received} of {expected} bytes")
    return digest.hexdigest()


def _content_length(response: Any) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@contextlib.contextmanager
def _progress_bar(url: str, total: int | None, show: bool) -> Iterator[Callable[[int], None]]:
    if not show:
        yield lambda _n: None
        return
    # rich is imported here so that ``import qimage.data`` stays light.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, TransferSpeedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(url.rsplit("/", 1)[-1], total=total)
        yield lambda n: bar.advance(task, n)
