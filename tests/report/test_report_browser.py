"""The committed HTML report as a reader sees it, in headless Chromium (Debian's package).

Checks the page a browser renders: the summary table comes first, every embedded image
decodes, the legend is there. Scatter labels are drawn into PNGs, so their placement is
tested in test_layout.py, not here. Skipped, with the reason, without Playwright or Chromium.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPORT = Path(__file__).resolve().parents[2] / "docs" / "benchmark" / "report.html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not REPORT.is_file():
        pytest.skip(f"no report at {REPORT} (qimage report docs/benchmark)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        tab.set_default_timeout(5_000)  # a missing element fails fast
        tab.goto(REPORT.as_uri(), wait_until="load")
        yield tab
        browser.close()


def test_summary_table_is_the_first_table(page):
    assert page.evaluate("document.querySelector('table').id") == "summary"
    header = page.locator("table#summary th").all_inner_texts()
    assert header[0] == "task" and any(h.startswith("best classical") for h in header)
    tasks = page.locator("table#summary tr").count() - 1  # less the header row
    assert tasks > 0 and page.locator("table#summary .badge").count() == tasks


def test_every_image_loads(page):
    sizes = page.evaluate("[...document.images].map(i => i.complete ? i.naturalWidth : 0)")
    assert sizes and all(width > 0 for width in sizes)


def test_legend_and_contents_link_to_sections(page):
    assert page.locator("#legend img").evaluate("i => i.naturalWidth") > 0
    targets = page.locator("#contents a").evaluate_all("as => as.map(a => a.hash.slice(1))")
    assert targets and all(page.locator(f"[id='{t}']").count() == 1 for t in targets)


def screenshot(page, path: Path) -> Path:
    """The top of the report (title, summary, legend) as a PNG."""
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1200, "height": 900})
    return path


def test_screenshot(page, tmp_path):
    path = screenshot(page, tmp_path / "report-top.png")
    assert path.stat().st_size > 10_000  # a blank page compresses to far less
