"""IDX reading and writing: every dtype, gzip or raw, and every way a file can be bad."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from qimage.data import read_idx, write_idx
from qimage.errors import DatasetError

SHARED_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "mnist"

# IDX type code and big-endian dtype, written out independently of qimage's table.
IDX_TYPES = [
    (0x08, ">u1"),
    (0x09, ">i1"),
    (0x0B, ">i2"),
    (0x0C, ">i4"),
    (0x0D, ">f4"),
    (0x0E, ">f8"),
]


def idx_bytes(code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """A hand-built IDX file: magic, big-endian sizes, payload."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def sample_array(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Values spanning the dtype's range, negative ones included where allowed."""
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    n = int(np.prod(shape))
    if info is None:
        values = np.linspace(-3.5, 1e6, n)
    else:
        values = np.linspace(info.min, info.max, n).round()
    return values.astype(dtype).reshape(shape)


class TestRead:
    """read_idx on hand-built files."""

    @pytest.mark.parametrize(("code", "big_endian"), IDX_TYPES)
    def test_every_type_code(self, tmp_path, code, big_endian):
        """Each IDX type code gives the matching dtype and values, in native byte order."""
        expected = sample_array(big_endian, (2, 3))
        path = tmp_path / "x.idx"
        path.write_bytes(idx_bytes(code, (2, 3), expected.tobytes()))
        got = read_idx(path)
        assert got.dtype == np.dtype(big_endian).newbyteorder("=")
        assert got.dtype.isnative
        np.testing.assert_array_equal(got, expected)

    def test_gzip_detected_from_content(self, tmp_path):
        """A gzip file is decompressed whatever its name says."""
        path = tmp_path / "labels-idx1-ubyte"
        path.write_bytes(gzip.compress(idx_bytes(0x08, (3,), bytes([7, 8, 9]))))
        np.testing.assert_array_equal(read_idx(path), [7, 8, 9])

    def test_result_is_writable(self, tmp_path):
        """The array owns writable memory, so callers may modify it in place."""
        path = tmp_path / "x.idx"
        path.write_bytes(idx_bytes(0x08, (4,), bytes(4)))
        array = read_idx(path)
        array[0] = 1
        assert array[0] == 1

    def test_zero_length_dimension(self, tmp_path):
        """An empty array (a dimension of 0) is valid IDX."""
        path = tmp_path / "x.idx"
        path.write_bytes(idx_bytes(0x08, (0, 28, 28), b""))
        assert read_idx(path).shape == (0, 28, 28)


class TestWrite:
    """write_idx and its round trip through read_idx."""

    @pytest.mark.parametrize(("code", "big_endian"), IDX_TYPES)
    @pytest.mark.parametrize("name", ["a-idx", "a-idx.gz"])
    def test_round_trip(self, tmp_path, code, big_endian, name):
        """Every dtype survives writing and reading, gzip or raw."""
        array = sample_array(big_endian, (3, 2, 4)).astype(np.dtype(big_endian).newbyteorder("="))
        write_idx(tmp_path / name, array)
        got = read_idx(tmp_path / name)
        assert got.dtype == array.dtype
        np.testing.assert_array_equal(got, array)

    def test_raw_bytes_are_the_format(self, tmp_path):
        """The raw file is exactly magic, sizes and big-endian data."""
        array = np.array([[1, -2], [300, 4]], dtype=np.int16)
        write_idx(tmp_path / "x", array)
        expected = idx_bytes(0x0B, (2, 2), struct.pack(">4h", 1, -2, 300, 4))
        assert (tmp_path / "x").read_bytes() == expected

    def test_gzip_by_suffix_and_deterministic(self, tmp_path):
        """A .gz name compresses; equal arrays give byte-identical files."""
        array = np.arange(10, dtype=np.uint8)
        write_idx(tmp_path / "a.gz", array)
        write_idx(tmp_path / "b.gz", array)
        data = (tmp_path / "a.gz").read_bytes()
        assert data[:2] == b"\x1f\x8b"
        assert data == (tmp_path / "b.gz").read_bytes()
        assert gzip.decompress(data) == idx_bytes(0x08, (10,), bytes(range(10)))

    def test_compress_argument_overrides_suffix(self, tmp_path):
        """compress=False writes raw bytes even under a .gz name."""
        write_idx(tmp_path / "x.gz", np.zeros(2, np.uint8), compress=False)
        assert (tmp_path / "x.gz").read_bytes()[:2] == b"\x00\x00"

    @pytest.mark.parametrize("dtype", ["int64", "uint16", "float16", "bool", "complex64"])
    def test_unsupported_dtype(self, tmp_path, dtype):
        """Dtypes IDX cannot store raise DatasetError naming the dtype; no file appears."""
        with pytest.raises(DatasetError, match=f"dtype {dtype}"):
            write_idx(tmp_path / "x", np.zeros(3, dtype=dtype))
        assert list(tmp_path.iterdir()) == []

    def test_scalar_rejected(self, tmp_path):
        """A 0-d array has no IDX form."""
        with pytest.raises(DatasetError, match="shape"):
            write_idx(tmp_path / "x", np.uint8(3))

    def test_replaces_atomically(self, tmp_path):
        """Writing over a file replaces it and leaves no temporary file."""
        path = tmp_path / "x"
        write_idx(path, np.zeros(3, np.uint8))
        write_idx(path, np.ones(5, np.uint8))
        np.testing.assert_array_equal(read_idx(path), np.ones(5))
        assert [p.name for p in tmp_path.iterdir()] == ["x"]


class TestBadFiles:
    """Every malformed file raises DatasetError naming the file and the problem."""

    GOOD = idx_bytes(0x08, (2, 3), bytes(range(6)))

    @pytest.mark.parametrize(
        ("content", "problem"),
        [
            (b"", "truncated"),
            (b"\x00\x00\x08", "truncated"),
            (b"\x00\x00\x08\x02\x00\x00\x00\x02", "truncated"),
            (b"\x01\x00\x08\x01\x00\x00\x00\x01\x00", "not an IDX file"),
            (b"PK\x03\x04" + bytes(8), "not an IDX file"),
            (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x00", "unknown IDX type code 0x0A"),
            (b"\x00\x00\x08\x00", "0 dimensions"),
            (GOOD[:-1], "wrong length|truncated"),
            (GOOD + b"\x00", "wrong length"),
            (idx_bytes(0x0C, (2,), bytes(7)), "wrong length|truncated"),
        ],
        ids=[
            "empty",
            "short-magic",
            "short-dims",
            "bad-magic",
            "zip-file",
            "bad-type",
            "no-dims",
            "short-data",
            "extra-data",
            "int32-short",
        ],
    )
    @pytest.mark.parametrize("gz", [False, True])
    def test_malformed(self, tmp_path, content, problem, gz):
        """Truncation, bad magic, bad type code and wrong length are all caught."""
        path = tmp_path / "bad-idx1-ubyte"
        path.write_bytes(gzip.compress(content) if gz else content)
        with pytest.raises(DatasetError, match=problem) as info:
            read_idx(path)
        assert str(path) in str(info.value)

    def test_truncated_gzip_stream(self, tmp_path):
        """A gzip file cut short (an interrupted copy) is reported, not half-read."""
        payload = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
        data = gzip.compress(idx_bytes(0x08, (5000,), payload))
        path = tmp_path / "cut.gz"
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(DatasetError, match=r"cut\.gz.*(truncated|corrupt)"):
            read_idx(path)

    def test_corrupt_gzip_stream(self, tmp_path):
        """Flipped bytes inside the deflate stream or its CRC are reported."""
        data = bytearray(gzip.compress(self.GOOD))
        data[-8] ^= 0xFF  # the CRC32 of the uncompressed data
        path = tmp_path / "crc.gz"
        path.write_bytes(bytes(data))
        with pytest.raises(DatasetError, match=r"crc\.gz.*corrupt"):
            read_idx(path)

    def test_huge_header_in_gzip(self, tmp_path):
        """A header announcing terabytes fails cleanly instead of exhausting memory."""
        path = tmp_path / "huge.gz"
        path.write_bytes(gzip.compress(idx_bytes(0x0E, (65535, 65535, 65535), b"")))
        with pytest.raises(DatasetError, match=r"huge\.gz"):
            read_idx(path)

    def test_missing_file(self, tmp_path):
        """A missing file is a DatasetError (still an OSError) naming the path."""
        with pytest.raises(DatasetError, match="nope-idx"):
            read_idx(tmp_path / "nope-idx")
        assert issubclass(DatasetError, OSError)


# sha256 of the decompressed files, from the offline copy's README.
SHARED_SHA256 = {
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "train-images-idx3-ubyte": "374ba378bee06c633f4800ac6a495f71d1b80b0e82bf763acbfa4c7e9c379f75",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
}


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"no offline MNIST at {SHARED_MNIST}")
class TestSharedMnist:
    """The whole offline MNIST copy reads, and re-writes to the documented checksums."""

    @pytest.mark.parametrize(
        ("stem", "shape"),
        [
            ("train-images-idx3-ubyte", (60000, 28, 28)),
            ("train-labels-idx1-ubyte", (60000,)),
            ("t10k-images-idx3-ubyte", (10000, 28, 28)),
            ("t10k-labels-idx1-ubyte", (10000,)),
        ],
    )
    def test_file(self, tmp_path, stem, shape):
        """Shape and dtype are right, and write_idx reproduces the README's sha256."""
        array = read_idx(SHARED_MNIST / f"{stem}.gz")
        assert array.shape == shape
        assert array.dtype == np.uint8
        write_idx(tmp_path / stem, array)
        digest = hashlib.sha256((tmp_path / stem).read_bytes()).hexdigest()
        assert digest == SHARED_SHA256[stem]
