"""Weights shipped inside the package, each with the run card that made it.

A learned plug-in asks :func:`resolve` for its weights: a path the user gave wins;
otherwise the shipped file ``videosync/weights/<name>.<ext>`` is used when present. Every
shipped file has a run card ``<name>.json`` beside it (the command that trained it, the
data, the parameters, the validation numbers and the time it took).
"""

from __future__ import annotations

import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def shipped(name: str, ext: str) -> str | None:
    """Path of the shipped ``<name>.<ext>``, or None when this package ships none."""
    p = os.path.join(_HERE, f"{name}.{ext.lstrip('.')}")
    return p if os.path.isfile(p) else None


def resolve(name: str, ext: str, weights: str | os.PathLike | None) -> str | None:
    """The weights to load: ``weights`` if given, else the shipped file, else None."""
    if weights is not None:
        return os.fspath(weights)
    return shipped(name, ext)


def run_card(name: str) -> dict | None:
    """The run card of the shipped weights ``name`` (None when not shipped)."""
    p = os.path.join(_HERE, f"{name}.json")
    if not os.path.isfile(p):
        return None
    with open(p) as f:
        return json.load(f)


def available() -> list[str]:
    """Names of the shipped weights (those with a run card)."""
    return sorted(os.path.splitext(f)[0] for f in os.listdir(_HERE) if f.endswith(".json"))
