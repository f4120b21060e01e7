"""CSV: one row per camera, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io

from videosync.export._timeline import display_names
from videosync.export.base import Exporter
from videosync.result import SyncResult

COLUMNS = ("name", "path", "offset_seconds", "offset_frames", "fps", "confidence", "status",
           "residual_seconds", "drift_ppm")


class CSVExporter(Exporter):
    name = "csv"
    summary = "one row per camera: name, path, offset (s, frames), fps, confidence, status"
    suffixes = (".csv",)

    def _render(self, result: SyncResult) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for name, v in zip(display_names(result), result.videos):
            writer.writerow([
                name, v.path, repr(float(v.offset_seconds)), repr(float(v.offset_frames)), repr(float(v.fps)),
                repr(float(v.confidence)), v.status,
                "" if v.residual_seconds is None else repr(float(v.residual_seconds)), repr(float(v.drift_ppm)),
            ])
        return out.getvalue().encode()
