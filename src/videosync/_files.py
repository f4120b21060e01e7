"""Reading the small JSON files videosync writes (results, corrections) with one-line errors."""

from __future__ import annotations

import json
import os
from typing import Any

from videosync.errors import InvalidParameterError


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file; a missing, unreadable or malformed file raises
    :class:`~videosync.errors.InvalidParameterError` whose message starts with the path."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise InvalidParameterError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"{p}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise InvalidParameterError(f"{p}: not JSON ({exc.msg} at line {exc.lineno})") from None
