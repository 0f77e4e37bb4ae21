"""``qimage predict`` on drawings as users make them, with the bundled digits QNN."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from qimage.serve import PRETRAINED


def _predict(*paths):
    cmd = [sys.executable, "-m", "qimage", "--threads", "1", "predict", str(PRETRAINED)]
    return subprocess.run([*cmd, *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_a_bad_file_is_named_and_the_others_are_still_classified(tmp_path, drawing):
    """A transparent canvas export, a bad file and a photo-like page: two answers, one error."""
    grey = drawing.astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "paper.png")
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255 - grey  # black ink, transparent paper: what a browser canvas exports
    Image.fromarray(rgba, "RGBA").save(tmp_path / "canvas.png")
    (tmp_path / "broken.png").write_text("not an image")
    done = _predict(tmp_path / "canvas.png", tmp_path / "broken.png", tmp_path / "paper.png")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("qimage: error:")]
    assert len(errors) == 1 and "broken.png" in errors[0] and "Traceback" not in done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        str(tmp_path / "canvas.png"),
        str(tmp_path / "paper.png"),
    ]
    assert all(": class 0 " in line for line in lines)  # the drawn digit is a 0
    notes = [line for line in done.stderr.splitlines() if line.startswith("qimage: note:")]
    assert any("canvas.png: transparent pixels composited on white" in n for n in notes)
    assert any("paper.png: light background: inverted" in n for n in notes)
