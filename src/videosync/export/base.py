"""The exporter contract: a SyncResult → a file."""

from __future__ import annotations

import abc
import os
import tempfile
from typing import ClassVar

from videosync.registry import Plugin
from videosync.result import SyncResult


class Exporter(Plugin, abc.ABC):
    """Writes a :class:`~videosync.result.SyncResult` in one format."""

    suffixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        pass

    @abc.abstractmethod
    def _render(self, result: SyncResult) -> bytes:
        """The file's content."""

    def write(self, result: SyncResult, path: str | os.PathLike) -> None:
        """Write atomically: a temporary file in the same folder, then a rename."""
        atomic_write(path, self._render(result))


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".videosync-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
