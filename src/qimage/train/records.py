"""JSON records checked against the dataclass they describe: every key present, each value of
its field's type.

``run.json`` is written by qimage but may be edited by hand or cut short; a wrong-typed value
(``"epochs": "x"``) or a missing key must be refused when the file is read, before anything of
the run is touched, not found deep inside training. The field types come from the
dataclasses' own annotations, so a new field is checked without a new rule here.

Example:
    >>> check_record("train", {"epochs": "x"}, record_types(TrainConfig))  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    qimage.errors.TrainingError: train.epochs must be int, got 'x'
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable

from qimage.errors import TrainingError

__all__ = ["check_record", "matches", "record_types"]

# How a JSON value is checked against a plain annotation (bool is not an int, 3 is a float).
_PLAIN = {
    type(None): lambda v: v is None,
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
    dict: lambda v: isinstance(v, dict),
}


def record_types(cls) -> dict[str, object]:
    """``{field: annotation}`` of the dataclass ``cls``'s constructor fields."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def matches(value, hint) -> bool:
    """Whether the JSON ``value`` fits the annotation ``hint``; other types (a noise model,
    a dtype) are left to their own constructors."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return any(matches(value, arm) for arm in args)
    if (origin or hint) in (list, tuple):  # JSON arrays read back as lists
        return isinstance(value, list) and (not args or all(matches(v, args[0]) for v in value))
    check = _PLAIN.get(origin or hint)
    return check is None or check(value)


def check_record(name: str, data, types_: dict[str, object], required: Iterable[str] = ()) -> None:
    """Refuse ``data`` (section ``name`` of a file) unless it is a JSON object holding every
    ``required`` key, each known key's value of its type; unknown keys are left to the
    constructor, which names them."""
    if not isinstance(data, dict):
        raise TrainingError(f"{name} must be a JSON object, got {data!r}")
    missing = sorted(set(required) - set(data))
    if missing:
        raise TrainingError(f"{name} lacks {', '.join(missing)}")
    for key, value in data.items():
        if key in types_ and not matches(value, types_[key]):
            raise TrainingError(f"{name}.{key} must be {_spelled(types_[key])}, got {value!r}")


def _spelled(hint) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint)
