"""JSON records are checked against their dataclass's annotations."""

from __future__ import annotations

import pytest

from qimage.errors import TrainingError
from qimage.train import DataSpec, TrainConfig
from qimage.train.records import check_record, matches, record_types


@pytest.mark.parametrize(
    ("value", "hint", "ok"),
    [
        (3, int, True),
        (True, int, False),
        (3, float, True),
        ("3", float, False),
        (None, int | None, True),
        ([3, 5], list[int] | None, True),
        ([3, "5"], list[int] | None, False),
        ("3,5", list[int] | None, False),
        ([0.5], tuple[float, ...], True),
        ({"a": 1}, dict, True),
        ([], dict, False),
        (False, bool, True),
        (0, bool, False),
    ],
)
def test_matches(value, hint, ok):
    assert matches(value, hint) is ok


def test_every_written_key_is_required_and_typed():
    types_ = record_types(TrainConfig)
    written = TrainConfig().to_dict()
    check_record("train", written, types_, written)
    with pytest.raises(TrainingError, match="train lacks lr"):
        check_record("train", {k: v for k, v in written.items() if k != "lr"}, types_, written)
    with pytest.raises(TrainingError, match=r"train\.epochs must be int, got 'x'"):
        check_record("train", {**written, "epochs": "x"}, types_, written)
    with pytest.raises(TrainingError, match="data must be a JSON object"):
        check_record("data", [1], record_types(DataSpec))
