"""Small parameter checks that give one message format."""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from videosync.errors import InvalidParameterError


def check_number(
    owner: str,
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    allow_none: bool = False,
) -> Any:
    """Check that ``value`` is a finite number inside the given bounds and return it."""
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
    if integer and ok_type and not float(value).is_integer():
        ok_type = False
    if not ok_type or not math.isfinite(float(value)):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {kind}. Got {value!r} instead."
        )
    v = float(value)
    bad = (
        (low is not None and (v < low or (low_open and v == low)))
        or (high is not None and (v > high or (high_open and v == high)))
    )
    if bad:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        lb = "(" if low_open or low is None else "["
        hb = ")" if high_open or high is None else "]"
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be in {lb}{lo}, {hi}{hb}. Got {value!r} instead."
        )
    return int(value) if integer else value


def check_choice(owner: str, name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` and return it."""
    choices = list(choices)
    if value not in choices:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be one of "
            f"{', '.join(map(repr, choices))}. Got {value!r} instead."
        )
    return value


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def check_flag(owner: str, name: str, value: Any) -> bool:
    """``value`` as a bool: a bool, 0 or 1, or a word such as "false" (the CLI's key=value
    gives ``rhythm=false`` as the string "false", which ``bool()`` would read as True)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidParameterError(
        f"The {name!r} parameter of {owner} must be true or false. Got {value!r} instead.")

