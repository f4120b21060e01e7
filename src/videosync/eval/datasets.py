"""Benchmark scenes: a folder of camera videos with the truth of their offsets.

A scene's ``truth.json`` holds ``offsets_seconds`` per camera under the project's one
convention (:mod:`videosync.timebase`) and names the ``reference`` camera.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass

from videosync.errors import DatasetError


@dataclass(frozen=True)
class Scene:
    """One multi-camera recording with known offsets."""

    name: str
    dataset: str
    """Group name for reports (e.g. panoptic, egohumans)."""
    cameras: tuple[str, ...]
    paths: tuple[str, ...]
    offsets_seconds: tuple[float, ...]
    fps: float
    reference: str
    synthetic: bool = False

    def relative_offset(self, a: int, b: int) -> float:
        """True offset of camera b with camera a as the reference."""
        return self.offsets_seconds[b] - self.offsets_seconds[a]


def load_scene_folder(folder: str) -> Scene:
    """A folder with ``truth.json`` and one video per camera (``<cam>.mp4`` or ``clips.<cam>.file``)."""
    truth_path = os.path.join(folder, "truth.json")
    if not os.path.isfile(truth_path):
        raise DatasetError(f"{folder}: no truth.json")
    try:
        with open(truth_path) as f:
            t = json.load(f)
        offsets = t["offsets_seconds"]
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(f"{truth_path}: malformed truth ({exc})") from None
    ref = t.get("reference") or next(c for c, v in offsets.items() if v == 0)
    cams = [ref] + sorted(c for c in offsets if c != ref)
    clips = t.get("clips", {})
    paths = []
    for c in cams:
        name = clips.get(c, {}).get("file", f"{c}.mp4")
        p = os.path.join(folder, name)
        if not os.path.isfile(p):
            raise DatasetError(f"{folder}: camera {c!r} has no video {name!r}")
        paths.append(p)
    fps = t.get("fps", 0)
    if isinstance(fps, dict):
        fps = fps.get(ref, 0)
    return Scene(
        name=str(t.get("scene") or os.path.basename(os.path.normpath(folder))),
        dataset=str(t.get("dataset") or "scene"),
        cameras=tuple(cams),
        paths=tuple(paths),
        offsets_seconds=tuple(float(offsets[c]) for c in cams),
        fps=float(fps),
        reference=ref,
        synthetic=bool(t.get("synthetic", False)),
    )


def load_folder_scenes(root: str) -> list[Scene]:
    """Every sub-folder of ``root`` that holds a ``truth.json`` (one scene each).

    Works for the ``visualsync-dev`` layout (``<dataset>__<scene>/``) and for folders of
    cameras whose truth came from a capture-timestamp CSV (``caliscope``)."""
    folders = sorted(d for d in glob.glob(os.path.join(root, "*")) if os.path.isfile(os.path.join(d, "truth.json")))
    if not folders:
        raise DatasetError(f"{root}: no scene folders with truth.json")
    return [load_scene_folder(d) for d in folders]


load_visualsync = load_folder_scenes

DATASETS = {"visualsync": load_folder_scenes, "caliscope": load_folder_scenes, "folder": load_folder_scenes}
"""Readers of real datasets by name; each takes the dataset's folder."""
