"""download_file against a local HTTP server on 127.0.0.1 and fake openers; no network."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from qimage.data import download_file
from qimage.errors import DatasetError

BODY = bytes(range(256)) * 1000
BODY_SHA256 = hashlib.sha256(BODY).hexdigest()


@dataclass
class Route:
    """What the server answers for one path."""

    status: int = 200
    body: bytes = BODY
    announced: int | None = None  # Content-Length sent; defaults to len(body)


class LocalServer:
    """An HTTP server on 127.0.0.1 with routes set per test; records each request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path, Route(status=404, body=b"not found"))
                self.send_response(route.status)
                announced = len(route.body) if route.announced is None else route.announced
                self.send_header("Content-Length", str(announced))
                self.end_headers()
                self.wfile.write(route.body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def mirror(self, name: str) -> str:
        """Base URL of a mirror folder on this server."""
        return f"{self.base}/{name}/"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A running local server, shut down after the test."""
    srv = LocalServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def closed_port_url() -> str:
    """A 127.0.0.1 URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


class TestGoodDownload:
    """Successful transfers land verified and complete."""

    def test_file_arrives_verified(self, server, tmp_path):
        """The served bytes arrive under the requested name, with nothing else left over."""
        server.routes["/a/f.gz"] = Route()
        dest = tmp_path / "cache"
        path = download_file([server.mirror("a")], "f.gz", dest, sha256=BODY_SHA256, progress=False)
        assert path == dest / "f.gz"
        assert path.read_bytes() == BODY
        assert [p.name for p in dest.iterdir()] == ["f.gz"]

    def test_next_mirror_after_failure(self, server, tmp_path):
        """A 404 on the first mirror falls through to the second, in order."""
        server.routes["/b/f.gz"] = Route()
        path = download_file(
            [server.mirror("a"), server.mirror("b")],
            "f.gz",
            tmp_path,
            sha256=BODY_SHA256,
            progress=False,
        )
        assert path.read_bytes() == BODY
        assert server.requests == ["/a/f.gz", "/b/f.gz"]

    def test_progress_bar_when_asked(self, server, tmp_path, capsys):
        """progress=True draws a bar on stderr and still delivers the file."""
        server.routes["/a/f.gz"] = Route()
        download_file([server.mirror("a")], "f.gz", tmp_path, sha256=BODY_SHA256, progress=True)
        assert (tmp_path / "f.gz").read_bytes() == BODY
        assert "f.gz" in capsys.readouterr().err

    def test_quiet(self, server, tmp_path, capsys):
        """progress=False prints nothing at all."""
        server.routes["/a/f.gz"] = Route()
        download_file([server.mirror("a")], "f.gz", tmp_path, sha256=BODY_SHA256, progress=False)
        assert capsys.readouterr() == ("", "")


class TestBadDownload:
    """Failed transfers raise DatasetError and leave no file that looks complete."""

    def test_checksum_mismatch_leaves_nothing(self, server, tmp_path):
        """Wrong bytes are rejected with both digests named, and the folder stays empty."""
        server.routes["/a/f.gz"] = Route(body=BODY[:-1] + b"\x00")
        with pytest.raises(DatasetError, match="checksum mismatch") as info:
            download_file([server.mirror("a")], "f.gz", tmp_path, sha256=BODY_SHA256)
        assert BODY_SHA256 in str(info.value)
        assert list(tmp_path.iterdir()) == []

    def test_interrupted_transfer_leaves_nothing(self, server, tmp_path):
        """A server that closes before Content-Length bytes counts as a failure."""
        server.routes["/a/f.gz"] = Route(body=BODY[:1000], announced=len(BODY))
        with pytest.raises(DatasetError, match=r"f\.gz") as info:
            download_file([server.mirror("a")], "f.gz", tmp_path, sha256=BODY_SHA256)
        assert "1000" in str(info.value)
        assert list(tmp_path.iterdir()) == []

    def test_failure_keeps_existing_file(self, server, tmp_path):
        """An earlier file under the same name survives a failed download untouched."""
        (tmp_path / "f.gz").write_bytes(b"old")
        server.routes["/a/f.gz"] = Route(body=b"wrong")
        with pytest.raises(DatasetError):
            download_file([server.mirror("a")], "f.gz", tmp_path, sha256=BODY_SHA256)
        assert (tmp_path / "f.gz").read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["f.gz"]

    def test_every_mirror_listed(self, server, tmp_path):
        """When all mirrors fail, the error names each URL and its problem."""
        server.routes["/b/f.gz"] = Route(body=b"wrong")
        mirrors = [server.mirror("a"), server.mirror("b")]
        with pytest.raises(DatasetError) as info:
            download_file(mirrors, "f.gz", tmp_path, sha256=BODY_SHA256)
        message = str(info.value)
        assert f"{server.base}/a/f.gz: HTTP 404" in message
        assert f"{server.base}/b/f.gz: checksum mismatch" in message

    def test_unwritable_folder(self, tmp_path):
        """A destination that cannot be created is a DatasetError, before any request."""
        (tmp_path / "file").write_bytes(b"")
        with pytest.raises(DatasetError, match="cannot create download folder"):
            download_file(["https://m/"], "f.gz", tmp_path / "file" / "sub", sha256="0")

    def test_connection_refused(self, tmp_path):
        """No server at all (no network) gives a clear error and no file."""
        url = closed_port_url()
        with pytest.raises(DatasetError, match="cannot connect") as info:
            download_file([url], "f.gz", tmp_path, sha256=BODY_SHA256, timeout=2)
        assert url + "f.gz" in str(info.value)
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        ("error", "words"),
        [
            (urllib.error.URLError("[Errno -3] Temporary failure in name resolution"), "connect"),
            (TimeoutError("timed out"), "timed out"),
            (ConnectionResetError("reset by peer"), "reset by peer"),
        ],
    )
    def test_fake_opener_errors(self, tmp_path, error, words):
        """Offline, DNS failure, timeout and reset from the opener all become DatasetError."""

        def opener(url, timeout):
            raise error

        with pytest.raises(DatasetError, match=words):
            download_file(["https://m/"], "f.gz", tmp_path, sha256=BODY_SHA256, opener=opener)
        assert list(tmp_path.iterdir()) == []


class TestOpener:
    """The opener is injectable and receives the URL and timeout."""

    def test_fake_opener_serves_file(self, tmp_path):
        """An in-memory opener works, gets the joined URL and the timeout."""
        import io

        calls = []

        def opener(url, timeout):
            calls.append((url, timeout))
            return io.BytesIO(BODY)

        download_file(
            ["https://m.example/x"], "f.gz", tmp_path, sha256=BODY_SHA256, opener=opener, timeout=7
        )
        assert calls == [("https://m.example/x/f.gz", 7)]
        assert (tmp_path / "f.gz").read_bytes() == BODY
