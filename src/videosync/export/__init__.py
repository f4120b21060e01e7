"""Exporters: a SyncResult → files other tools read. Chosen by name or file suffix."""

from __future__ import annotations

import os

from videosync.errors import InvalidParameterError
from videosync.export.base import Exporter, atomic_write
from videosync.registry import Registry
from videosync.result import SyncResult

EXPORTERS: Registry[Exporter] = Registry("exporter", entry_point_group="videosync.exporters")
EXPORTERS.add_lazy("json", "videosync.export.json:JSONExporter")
EXPORTERS.add_lazy("csv", "videosync.export.csv:CSVExporter")
EXPORTERS.add_lazy("otio", "videosync.export.otio:OTIOExporter")
EXPORTERS.add_lazy("fcpxml", "videosync.export.fcpxml:FCPXMLExporter")
EXPORTERS.add_lazy("fcp7", "videosync.export.fcp7:FCP7XMLExporter")
EXPORTERS.add_lazy("edl", "videosync.export.edl:EDLExporter")


def exporter_for(path: str | os.PathLike, format: str | None = None) -> Exporter:
    """The exporter named ``format``, or the one whose suffix matches ``path``."""
    if format:
        return EXPORTERS.create(format)
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    for name in EXPORTERS.names():
        cls = EXPORTERS.get(name)
        if suffix in getattr(cls, "suffixes", ()):
            return cls()
    known = sorted({s for n in EXPORTERS.names() for s in EXPORTERS.get(n).suffixes})
    raise InvalidParameterError(
        f"no exporter writes {suffix or 'files without a suffix'!r}; available suffixes: {', '.join(known)}"
    )


def write_result(result: SyncResult, path: str | os.PathLike, format: str | None = None) -> None:
    """Write ``result`` to ``path`` (format from the suffix unless given), atomically."""
    exporter_for(path, format).write(result, path)


__all__ = ["EXPORTERS", "Exporter", "atomic_write", "exporter_for", "write_result"]
