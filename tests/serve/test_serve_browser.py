"""The page in a real headless Chromium, served by a real ``qimage serve`` process.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and Playwright for Python (the dev
extra); each test skips with the reason when one is missing. On failure the page's
screenshot is saved beside the test's temporary files and named in the message. With
``QIMAGE_SCREENSHOT=PATH`` the drawing test also saves the page there (docs/img/serve.png).
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0):
    import httpx

    return httpx.get(url, timeout=timeout)


@pytest.fixture(scope="module")
def server():
    """``qimage serve`` on a free port of 127.0.0.1, stopped (and checked) afterwards."""
    pytest.importorskip("uvicorn")
    httpx = pytest.importorskip("httpx")
    port = _free_port()
    cmd = [sys.executable, "-m", "qimage", "--threads", "1", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if _get(f"{url}/api/model").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"qimage serve did not start: {proc.communicate()[1][-2000:]}")
        time.sleep(0.3)
    yield url, proc
    proc.terminate()
    proc.wait(timeout=20)


def test_serve_process_answers_and_stops(server):
    """The real process serves the page and the model on 127.0.0.1."""
    url, proc = server
    assert "<canvas" in _get(url + "/").text
    assert _get(url + "/api/model").json()["n_qubits"] == 6
    assert proc.poll() is None


@pytest.fixture(scope="module")
def page(server):
    if CHROMIUM is None:
        pytest.skip("no chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(server[0] + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        page.browser_ = browser
        yield page
        browser.close()


def _stroke(page, points) -> None:
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()


def _renders(page) -> int:
    return int(page.evaluate("document.body.dataset.renders"))


def _draw_zero(page) -> None:
    """A tall ellipse, in two strokes, each stroke's end answered by the server."""
    ring = [
        (140 + 55 * math.sin(t / 20 * math.pi), 140 - 95 * math.cos(t / 20 * math.pi))
        for t in range(41)
    ]
    for half in (ring[:21], ring[20:]):
        before = _renders(page)
        _stroke(page, half)
        page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")


def _check(page, tmp_path, condition: bool, what: str) -> None:
    if not condition:
        path = tmp_path / "failure.png"
        page.screenshot(path=str(path), full_page=True)
        pytest.fail(f"{what} (screenshot: {path})")


def test_drawing_a_zero_shows_every_panel(page, server, tmp_path):
    import httpx

    page.click("#clear")
    _draw_zero(page)
    page.wait_for_timeout(200)
    bars = page.eval_on_selector_all("#bars .bar", "e => e.map(b => Number(b.dataset.prob))")
    _check(page, tmp_path, len(bars) == 10, f"{len(bars)} class bars")
    _check(page, tmp_path, abs(sum(bars) - 1) < 1e-6, f"bars sum to {sum(bars)}")
    pixels = page.evaluate("window.lastPixels")
    api = httpx.post(server[0] + "/api/explain", json={"pixels": pixels}, timeout=60).json()
    top = page.get_attribute("#top", "data-top")
    _check(
        page,
        tmp_path,
        top == api["classes"]["names"][api["classes"]["top"]],
        f"page says {top}, the API {api['classes']['top']}",
    )
    wires = page.eval_on_selector_all("#readout .wire", "e => e.map(w => Number(w.dataset.value))")
    _check(page, tmp_path, len(wires) == 6 and all(-1 <= z <= 1 for z in wires), f"readout {wires}")
    diff = float(page.get_attribute("#grad-diff", "data-value"))
    _check(page, tmp_path, diff < 1e-5, f"gradient difference {diff}")
    rows = page.locator("#gradient tbody tr").count()
    _check(page, tmp_path, rows == 10, f"{rows} gradient rows")
    _check(page, tmp_path, page.locator("#circuit rect").count() > 60, "circuit strip drawn")
    if os.environ.get("QIMAGE_SCREENSHOT"):
        page.screenshot(path=os.environ["QIMAGE_SCREENSHOT"], full_page=True)


def test_shots_slider_adds_error_bars(page, tmp_path):
    before = _renders(page)
    page.fill("#shots", "7")  # 1,000 shots
    page.dispatch_event("#shots", "change")
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
    _check(page, tmp_path, page.locator("#bars .errorbar").count() > 0, "no error bars")
    bars = page.eval_on_selector_all("#bars .bar", "e => e.map(b => Number(b.dataset.prob))")
    _check(page, tmp_path, abs(sum(bars) - 1) < 1e-6, f"bars sum to {sum(bars)}")
    page.fill("#shots", "0")
    page.dispatch_event("#shots", "change")


def _asks_to_draw(page) -> bool:
    """Whether the page asks for a drawing, waiting out an answer still in flight."""
    script = "document.querySelector('#error').innerText.includes('draw a digit')"
    try:
        page.wait_for_function(script, timeout=15_000)
    except Exception:  # Playwright's timeout: report it through _check's screenshot
        return False
    return True


def test_undo_and_clear(page, tmp_path):
    page.click("#clear")
    _check(page, tmp_path, _asks_to_draw(page), "clear asks to draw")
    _stroke(page, [(140, 40), (140, 240)])
    page.wait_for_timeout(50)
    before = _renders(page)
    page.click("#undo")
    _check(page, tmp_path, _asks_to_draw(page), "undo removed the stroke")
    assert _renders(page) >= before - 1


def test_a_finger_draws_too(page, server, tmp_path):
    """Touch events (through Chromium's own input pipeline) draw a stroke and get an answer."""
    touch = page.browser_.new_page(has_touch=True, viewport={"width": 800, "height": 900})
    try:
        touch.goto(server[0] + "/")
        touch.wait_for_selector("body[data-ready='1']", timeout=30_000)
        box = touch.locator("#canvas").bounding_box()
        cdp = touch.context.new_cdp_session(touch)
        points = [(box["x"] + 140, box["y"] + y) for y in range(40, 250, 15)]
        for kind, (x, y) in [("touchStart", points[0])] + [("touchMove", p) for p in points[1:]]:
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        touch.wait_for_function("Number(document.body.dataset.renders) > 0", timeout=60_000)
        bars = touch.eval_on_selector_all("#bars .bar", "e => e.map(b => Number(b.dataset.prob))")
        _check(touch, tmp_path, abs(sum(bars) - 1) < 1e-6, f"touch: bars {bars}")
    finally:
        touch.close()
