"""JSON: the lossless format (schema_version 1)."""

from __future__ import annotations

from videosync.export.base import Exporter
from videosync.result import SyncResult


class JSONExporter(Exporter):
    name = "json"
    summary = "lossless sync result (schema_version 1)"
    suffixes = (".json",)

    def _render(self, result: SyncResult) -> bytes:
        return (result.to_json() + "\n").encode()
