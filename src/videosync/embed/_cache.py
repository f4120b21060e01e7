"""On-disk cache of an embedder's per-video arrays (``.npz``, no pickles).

Used by the embedders whose per-frame work is expensive (``landmarks``, ``tracks``). A
broken entry is recomputed; a failed write is ignored (caching is an optimisation only).
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np


def cache_file(kind: str, path, version: int, params: list) -> str | None:
    """``<cache root>/<kind>/<digest>.npz`` for a video file and the parameters its result
    depends on (the digest covers ``version``, the file's absolute path, size and modification time),
    or None if the file cannot be read. The root is ``VIDEOSYNC_CACHE`` or
    ``~/.cache/videosync``."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = json.dumps([version, os.path.abspath(os.fspath(path)), st.st_size, st.st_mtime_ns, *params])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    root = os.environ.get("VIDEOSYNC_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "videosync")
    return os.path.join(root, kind, f"{digest}.npz")


def load_arrays(file: str | None, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` stored in ``file``, or None (no file, no entry, or a broken one)."""
    if file is None or not os.path.isfile(file):
        return None
    try:
        with np.load(file) as z:
            return {n: z[n] for n in names}
    except (OSError, ValueError, KeyError):
        return None  # a broken cache entry is recomputed


def save_arrays(file: str | None, **arrays) -> None:
    """Write ``arrays`` to ``file`` atomically (temporary file + rename); errors are ignored."""
    if file is None:
        return
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        tmp = f"{file}.{os.getpid()}.tmp.npz"
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, file)
    except OSError:
        pass  # caching is an optimisation only
