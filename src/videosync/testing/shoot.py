"""Generated shoots: several cameras, each with several clips (gaps between them), drifting
clocks, and unrelated or still clips mixed in, written as ``folder/<camera>/<clip>.mp4``.

The scene is the 2-D world of :mod:`videosync.testing.rig` (a function of continuous time).
World time *w* is the session clock. Camera k's clock reads ``τ_k = o_k + (1 + ε_k)·w``
(``o_k`` = ``clock_offset_seconds``, ``ε_k`` = ``drift_ppm``·1e-6, as in
:mod:`videosync.synth.render`); a clip recorded from clock time ``s`` for ``d`` seconds has
its own time ``τ = τ_k − s`` (frames at ``n / fps`` exactly, pts on 1/90000 s).

Truth in the session convention (``docs/session.md``): the clip's local τ shows the world
instant ``start_seconds + rate·τ`` with ``start_seconds = (s − o_k)/(1 + ε_k)`` and
``rate = 1/(1 + ε_k)``, i.e. a session ``drift_ppm = (rate − 1)·1e6``. Unrelated clips
(another world) and still clips (a frozen world: nothing to sync on) have no truth
(``start_seconds`` None) and should end ``unsynced``.

Sound (``CameraSpec.sound``): the world also makes sounds (short noise bursts at random world
instants, :func:`videosync.testing.audio.event_track`), heard by every camera with sound on its
own clock, muxed as an AAC track; each camera adds its own gain and background noise. A
``recorder`` camera writes sound-only ``takeNNN.wav`` files (no picture). ``blind`` clips show a
frozen, dark picture (nothing to see) while their sound is the event's: placeable by sound only.
Unrelated clips hear the other world, still clips hear only noise.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Literal, Sequence

import numpy as np

from videosync.testing.audio import event_track, mux_audio, write_sound
from videosync.testing.rig import World, _camera_grid, write_video

ClipKind = Literal["event", "unrelated", "still", "blind"]


@dataclass(frozen=True)
class ClipSpec:
    """One clip to record: from camera clock time ``clock_start_seconds`` for ``seconds``."""

    clock_start_seconds: float
    seconds: float
    kind: ClipKind = "event"


@dataclass(frozen=True)
class CameraSpec:
    name: str
    clips: tuple[ClipSpec, ...]
    fps: float = 30.0
    clock_offset_seconds: float = 0.0
    drift_ppm: float = 0.0
    creation_time: bool = False
    """Write a ``creation_time`` tag from the camera clock (a fixed epoch + clip start)."""
    timecode: bool = False
    """Write a start time code (non-drop-frame, from the camera clock) in a ``tmcd`` track."""
    sound: bool = False
    """Record the world's sound (an AAC track in each clip; the clip then carries no tags)."""
    recorder: bool = False
    """A sound recorder: sound-only ``takeNNN.wav`` files, no picture (implies ``sound``)."""


@dataclass(frozen=True)
class ShootClip:
    """Truth of one written clip."""

    camera: str
    path: str
    kind: ClipKind
    start_seconds: float | None
    """World (session) instant of the clip's local time 0; None for unrelated/still clips
    (a ``blind`` clip has one: its sound places it)."""
    rate: float
    fps: float
    seconds: float

    @property
    def drift_ppm(self) -> float:
        return (self.rate - 1.0) * 1e6


@dataclass(frozen=True)
class Shoot:
    folder: str
    clips: tuple[ShootClip, ...] = field(repr=False)
    truth_path: str = ""

    def clip(self, path: str) -> ShootClip:
        p = os.path.normpath(os.path.abspath(path))
        for c in self.clips:
            if os.path.normpath(os.path.abspath(c.path)) == p:
                return c
        raise KeyError(path)


SOUND_RATE_HZ = 16000
SOUND_EVENTS_PER_SECOND = 1.5


def _sound_events(cameras: Sequence[CameraSpec], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """World instants of the event's sounds and of the unrelated world's, over every clip's span."""
    spans = [((c.clock_start_seconds - cam.clock_offset_seconds) / (1 + cam.drift_ppm * 1e-6), c.seconds)
             for cam in cameras for c in cam.clips]
    if not spans:
        return np.zeros(0), np.zeros(0)
    lo = min(s for s, _ in spans) - 2.0
    hi = max(s + d for s, d in spans) + 2.0
    rng = np.random.default_rng(seed + 555)
    n = int((hi - lo) * SOUND_EVENTS_PER_SECOND)
    return np.sort(rng.uniform(lo, hi, n)), np.sort(rng.uniform(lo, hi, n))


EPOCH = 1_700_000_000.0  # creation_time tags: 2023-11-14T22:13:20Z + camera clock


def _iso(t: float) -> str:
    import datetime

    d = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _timecode(seconds: float, fps: float) -> str:
    """Non-drop-frame ``HH:MM:SS:FF`` of the frame at ``seconds`` (frames counted at ``fps``)."""
    nominal = int(round(fps))
    n = int(round(seconds * fps))
    ff, s = n % nominal, n // nominal
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{ff:02d}"


def make_shoot(
    folder: str | os.PathLike,
    cameras: Sequence[CameraSpec],
    *,
    size: tuple[int, int] = (64, 48),
    seed: int = 0,
    noise: float = 0.01,
) -> Shoot:
    """Render and write every camera's clips; returns the truth (also in ``truth.json``)."""
    folder = os.fspath(folder)
    world = World(seed)
    other = World(seed + 7919)
    rng = np.random.default_rng(seed + 1)
    clips: list[ShootClip] = []
    sounds = _sound_events(cameras, seed)
    for k, cam in enumerate(cameras):
        x, y = _camera_grid(rng, size, k)
        bg, bg_other = world.background(x, y), other.background(x, y)
        gain = 1.0 if k == 0 else float(rng.uniform(0.85, 1.15))
        eps = cam.drift_ppm * 1e-6
        os.makedirs(os.path.join(folder, cam.name), exist_ok=True)
        for j, spec in enumerate(cam.clips):
            n = int(np.floor(spec.seconds * cam.fps + 1e-9))
            times = np.arange(n) / cam.fps
            cam_rng = np.random.default_rng(seed * 1000 + 37 * k + j)
            w_of = (spec.clock_start_seconds + times - cam.clock_offset_seconds) / (1.0 + eps)

            def frames(w_of=w_of, spec=spec, cam_rng=cam_rng, x=x, y=y, bg=bg, bg_other=bg_other, gain=gain):
                for w in w_of:
                    if spec.kind == "event":
                        img = world.render(w, x, y, bg)
                    elif spec.kind == "blind":  # a frozen, dark picture (camera pointed away, lens cap)
                        img = world.render(float(w_of[0]), x, y, bg) * 0.05
                    elif spec.kind == "unrelated":
                        img = other.render(w, x, y, bg_other)
                    else:
                        img = world.render(float(w_of[0]), x, y, bg)
                    img = img * gain + cam_rng.normal(0, noise, size=x.shape + (3,))
                    yield (np.clip(img, 0, 1) * 255).astype(np.uint8)

            path = os.path.join(folder, cam.name, f"clip{j + 1:03d}.mp4")
            meta = {"creation_time": _iso(EPOCH + spec.clock_start_seconds)} if cam.creation_time else {}
            if cam.timecode:
                meta["timecode"] = _timecode(spec.clock_start_seconds, cam.fps)
            if cam.sound or cam.recorder:
                heard = {"unrelated": sounds[1], "still": np.zeros(0)}.get(spec.kind, sounds[0])
                local = cam.clock_offset_seconds + (1.0 + eps) * heard - spec.clock_start_seconds
                track = event_track(local, 0.0, spec.seconds, sample_rate_hz=SOUND_RATE_HZ,
                                seed=seed * 1000 + 37 * k + j, gain=0.5 * gain,
                                burst_seed=20_000 if spec.kind == "unrelated" else 10_000)
            if cam.recorder:
                path = os.path.join(folder, cam.name, f"take{j + 1:03d}.wav")
                write_sound(path, track, sample_rate_hz=SOUND_RATE_HZ)
            elif cam.sound:
                silent = path + ".picture.mp4"
                write_video(silent, frames(), times, cam.fps, metadata=meta or None)
                mux_audio(silent, path, track, sample_rate_hz=SOUND_RATE_HZ)
                os.remove(silent)
            else:
                write_video(path, frames(), times, cam.fps, metadata=meta or None)
            clips.append(ShootClip(
                cam.name, path, spec.kind,
                float(w_of[0]) if spec.kind in ("event", "blind") else None, 1.0 / (1.0 + eps), cam.fps,
                float(spec.seconds),
            ))
    truth_path = os.path.join(folder, "truth.json")
    with open(truth_path, "w") as f:
        json.dump({
            "timing_model": "camera k's clock reads tau = clock_offset + (1 + drift_ppm*1e-6) * w; a clip's local "
                            "time tau shows the world instant start_seconds + rate * tau",
            "cameras": [asdict(c) for c in cameras],
            "clips": [asdict(c) for c in clips],
            "generator": {"name": "videosync.testing.make_shoot", "seed": seed, "size": list(size)},
        }, f, indent=2)
    return Shoot(folder, tuple(clips), truth_path)
