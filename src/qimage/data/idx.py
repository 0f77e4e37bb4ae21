"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (``TT`` the element type code,
``NN`` the number of dimensions), then ``NN`` big-endian uint32 sizes, then the elements
in C order, big-endian. Files may be gzip-compressed; compression is recognised from the
content (the gzip magic bytes), not from the file name.

Every problem -- a truncated or corrupt file, a bad magic number, an unknown type code,
a size that does not match the header -- raises :class:`~qimage.errors.DatasetError`
naming the file and the problem. An array is returned only once the whole file has been
read and checked, so nothing is ever half-loaded.

Example::

    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x-idx2-ubyte.gz"
    >>> write_idx(path, np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> read_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from qimage.errors import DatasetError

__all__ = ["IDX_DTYPES", "read_idx", "write_idx"]

#: IDX element type code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_BY_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip or raw) into a writable, native-byte-order array.

    Args:
        path: the file; gzip compression is detected from its first two bytes.

    Returns:
        An array with the shape from the header and dtype uint8, int8, int16, int32,
        float32 or float64, e.g. ``(60000, 28, 28)`` uint8 for MNIST training images.

    Raises:
        DatasetError: the file is missing, truncated, corrupt, or not an IDX file.

    Example::

        images = read_idx("train-images-idx3-ubyte.gz")   # (60000, 28, 28) uint8
    """
    path = Path(path)
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if not compressed:
                return _read_stream(raw, path, total=path.stat().st_size)
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_stream(stream, path, total=None)
    except DatasetError:
        raise
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read IDX file ({exc.strerror or exc})") from exc


def _read_stream(stream: BinaryIO, path: Path, total: int | None) -> np.ndarray:
    """Parse one IDX stream; ``total`` is the exact byte length when it is known."""
    dtype, shape = _read_header(stream, path)
    header_size = 4 + 4 * len(shape)
    payload = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if total is not None and total != header_size + payload:
        raise DatasetError(
            f"{path}: wrong length: header {_describe(dtype, shape)} needs "
            f"{header_size + payload} bytes, the file has {total}"
        )
    try:
        out = np.empty(shape, dtype=dtype)
    except (MemoryError, ValueError) as exc:
        raise DatasetError(
            f"{path}: header {_describe(dtype, shape)} announces more data than fits in memory"
        ) from exc
    _read_exactly(stream, memoryview(out.reshape(-1).view(np.uint8)), path, header_size)
    if stream.read(1):
        raise DatasetError(
            f"{path}: wrong length: data continues past the {header_size + payload} bytes "
            f"that header {_describe(dtype, shape)} announces"
        )
    return out.astype(dtype.newbyteorder("="), copy=False)


def _read_header(stream: BinaryIO, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) < 4:
        raise DatasetError(f"{path}: truncated: {len(magic)} bytes, too short for an IDX header")
    if magic[:2] != b"\x00\x00":
        raise DatasetError(
            f"{path}: not an IDX file: magic number {magic.hex()} does not start with 0000"
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DatasetError(f"{path}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DatasetError(f"{path}: IDX header declares 0 dimensions")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DatasetError(f"{path}: truncated: header announces {ndim} dimensions, file ends")
    return IDX_DTYPES[code], struct.unpack(f">{ndim}I", dims)


def _read_exactly(stream: BinaryIO, buffer: memoryview, path: Path, offset: int) -> None:
    filled = 0
    while filled < len(buffer):
        n = stream.readinto(buffer[filled : filled + _CHUNK])  # type: ignore[attr-defined]
        if not n:
            raise DatasetError(
                f"{path}: truncated: expected {offset + len(buffer)} bytes of IDX data, "
                f"got {offset + filled}"
            )
        filled += n


def _describe(dtype: np.dtype, shape: tuple[int, ...]) -> str:
    return f"{dtype.name} {'x'.join(map(str, shape))}"


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, *, compress: bool | None = None
) -> None:
    """Write ``array`` as an IDX file, atomically (temporary file, then rename).

    Args:
        path: destination; an existing file is replaced only once writing has succeeded.
        array: at least 1-D, dtype uint8, int8, int16, int32, float32 or float64.
        compress: gzip the file; by default, when ``path`` ends in ``.gz``. The gzip
            header carries no time stamp, so equal arrays give equal files.

    Raises:
        DatasetError: the dtype or shape cannot be stored in IDX, or writing failed.

    Example::

        write_idx("labels-idx1-ubyte", np.array([3, 5], dtype=np.uint8))
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODE_BY_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise DatasetError(
            f"{path}: IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, "
            "float32 or float64"
        )
    if not 1 <= array.ndim <= 255 or any(n >= 2**32 for n in array.shape):
        raise DatasetError(f"{path}: IDX cannot store an array of shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    data = gzip.compress(header + body, mtime=0) if compress else header + body
    _atomic_write(path, data)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DatasetError(f"{path}: cannot write IDX file ({exc.strerror or exc})") from exc
