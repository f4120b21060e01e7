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


def load_timestamp_csv_scene(folder: str, *, csv_name: str = "timestamps.csv", pattern: str = "cam_{id}.mp4",
                             name: str | None = None) -> Scene:
    """A folder of cameras with a capture-timestamp CSV (``sync_index, cam_id, frame_time``).

    Every frame's capture time is on one shared clock; the truth is taken from each
    camera's first frame: camera k's own time 0 shows the instant ``T_k``, so
    ``offset_seconds[k] = T_ref − T_k`` (the reference is the lowest cam_id).
    """
    import csv

    path = os.path.join(folder, csv_name)
    if not os.path.isfile(path):
        raise DatasetError(f"{folder}: no {csv_name}")
    first: dict[str, float] = {}
    count: dict[str, int] = {}
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                cam = str(row["cam_id"]).strip()
                t = float(row["frame_time"])
                first[cam] = min(first.get(cam, t), t)
                count[cam] = count.get(cam, 0) + 1
    except (KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: malformed ({exc}); expected columns sync_index, cam_id, frame_time") from None
    if not first:
        raise DatasetError(f"{path}: no rows")
    cams = sorted(first, key=lambda c: (len(c), c))
    paths = []
    for c in cams:
        p = os.path.join(folder, pattern.format(id=c))
        if not os.path.isfile(p):
            raise DatasetError(f"{folder}: camera {c!r} has no video {os.path.basename(p)!r}")
        paths.append(p)
    ref = cams[0]
    from videosync.io import probe

    fps = probe(paths[0]).fps
    return Scene(
        name=name or os.path.basename(os.path.normpath(folder)),
        dataset="timestamps",
        cameras=tuple(f"cam_{c}" for c in cams),
        paths=tuple(paths),
        offsets_seconds=tuple(first[ref] - first[c] for c in cams),
        fps=float(fps),
        reference=f"cam_{ref}",
    )


def write_truth(scene: Scene, folder: str, **extra) -> str:
    """Write ``truth.json`` for ``scene`` into ``folder`` (paths relative to it)."""
    from videosync.timebase import OFFSET_CONVENTION

    truth = {
        "convention": OFFSET_CONVENTION,
        "dataset": scene.dataset,
        "scene": scene.name,
        "fps": scene.fps,
        "reference": scene.reference,
        "offsets_seconds": dict(zip(scene.cameras, scene.offsets_seconds)),
        "clips": {c: {"file": os.path.relpath(p, folder)} for c, p in zip(scene.cameras, scene.paths)},
        "synthetic": scene.synthetic,
        **extra,
    }
    out = os.path.join(folder, "truth.json")
    with open(out, "w") as f:
        json.dump(truth, f, indent=2)
    return out


load_visualsync = load_folder_scenes


def synth_unavailable() -> str | None:
    """Why rendered worlds cannot be made here (for a suite entry to print), or None."""
    try:
        from videosync.synth import available
    except ImportError as exc:  # pragma: no cover - the package ships synth
        return f"videosync.synth cannot be imported ({exc})"
    ok, why = available()
    return None if ok else f"MuJoCo rendering unavailable ({why})"


def load_synthetic(kind: str, cache_dir: str, *, seeds=(0, 1, 2), seconds: float = 10.0, progress=None) -> list[Scene]:
    """Rendered worlds of one kind (``videosync.synth``), rendered once and cached."""
    from videosync.synth import render_scene

    scenes = []
    for seed in seeds:
        folder = os.path.join(cache_dir, "synth", f"{kind}-s{seed}-{int(seconds)}s")
        if progress:
            progress(f"render {kind} seed {seed}")
        render_scene(folder, scene=kind, cameras=4, seconds=seconds, seed=seed)
        scenes.append(load_scene_folder(folder))
    return scenes

DATASETS = {"visualsync": load_folder_scenes, "caliscope": load_folder_scenes, "folder": load_folder_scenes}
"""Readers of real datasets by name; each takes the dataset's folder."""
