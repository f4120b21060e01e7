"""The embedder contract: frames of one video → an (T, D) array with its frame times."""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterable

import numpy as np

from videosync._validation import check_number
from videosync.errors import ShapeError
from videosync.io import PixelFormat, VideoInfo, open_video
from videosync.registry import Plugin

ProgressCallback = Callable[[float], None]
"""Called with the fraction done, in [0, 1]."""

Frames = Iterable[tuple[float, np.ndarray]]
"""``(time_seconds, image)`` pairs in presentation order. From a video file this is a
:class:`videosync.io.FrameStream`, which also records which frames were key frames."""


@dataclass(frozen=True, repr=False)
class Embedding:
    """Per-frame features of one video, with the time of each row."""

    times_seconds: np.ndarray
    """(T,) strictly increasing times on the video's own timeline."""
    features: np.ndarray
    """(T, D) float32 features; row t describes the instant ``times_seconds[t]``."""
    valid: np.ndarray | None = None
    """(T,) bool; False where the embedder saw nothing usable (e.g. no person). None: all valid."""
    channels_correspond: bool = True
    """True when column d means the same thing in every camera (e.g. a joint angle); False
    when it depends on the viewpoint (e.g. a grid cell), so columns must be matched."""
    details: dict | None = None
    """What the embedder found about the video as a whole, for people (JSON-able; e.g. the
    ``motion`` embedder's ``camera_motion``: how much of the video it compensated)."""

    def __post_init__(self) -> None:
        t = np.asarray(self.times_seconds, dtype=np.float64)
        f = np.asarray(self.features, dtype=np.float32)
        if f.ndim != 2:
            raise ShapeError(
                f"features must be 2-D (T, D), got shape {f.shape}", expected=("T", "D"), actual=f.shape
            )
        if t.ndim != 1 or t.shape[0] != f.shape[0]:
            raise ShapeError(
                f"times_seconds must be (T,) with T={f.shape[0]}, got {t.shape}",
                expected=(f.shape[0],), actual=t.shape,
            )
        if t.size > 1 and not np.all(np.diff(t) > 0):
            raise ShapeError("times_seconds must be strictly increasing")
        object.__setattr__(self, "times_seconds", t)
        object.__setattr__(self, "features", f)
        if self.valid is not None:
            v = np.asarray(self.valid, dtype=bool)
            if v.shape != t.shape:
                raise ShapeError("valid must have shape (T,)", expected=t.shape, actual=v.shape)
            object.__setattr__(self, "valid", v)

    @property
    def num_frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def crop(self, start_seconds: float, stop_seconds: float) -> "Embedding":
        """Rows with start ≤ time < stop, re-timed so that ``start_seconds`` becomes 0
        (what embedding a clip cut from the video at those times would give)."""
        keep = (self.times_seconds >= start_seconds - 1e-9) & (self.times_seconds < stop_seconds - 1e-9)
        return Embedding(
            self.times_seconds[keep] - start_seconds,
            self.features[keep],
            None if self.valid is None else self.valid[keep],
            self.channels_correspond,
            self.details,
        )

    def with_features(self, features: np.ndarray) -> "Embedding":
        """The same times and validity with other features (e.g. noise for the null test)."""
        return Embedding(self.times_seconds, features, self.valid, self.channels_correspond, self.details)

    def __repr__(self) -> str:
        span = (
            f"{self.times_seconds[0]:.3f}..{self.times_seconds[-1]:.3f} s" if self.num_frames else "empty"
        )
        return f"Embedding(features={self.features.shape}, times={span})"


class Embedder(Plugin, abc.ABC):
    """Turns a video into an :class:`Embedding`.

    Plug-ins implement :meth:`_embed`, which receives decoded frames at the working
    size (longer side ``max_side``) in :attr:`pixel_format`, and returns one feature row
    per instant. Rows of different videos are compared by the similarity layer, so
    features must mean the same thing in every camera (view-invariant where possible).
    """

    pixel_format: ClassVar[PixelFormat] = "gray"
    default_metric: ClassVar[str] = "cosine"
    """Similarity metric the pipeline uses with this embedder unless told otherwise."""

    def __init__(self, *, max_side: int = 160) -> None:
        self.max_side = check_number(type(self).__name__, "max_side", max_side, low=16, integer=True)

    @classmethod
    def is_available(cls) -> bool:
        """False when an optional dependency is missing."""
        return True

    # Required
    @abc.abstractmethod
    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        """Compute the embedding from decoded frames."""

    # Public
    def embed_frames(self, frames: Frames, info: VideoInfo) -> Embedding:
        """Embed already-decoded frames (times in seconds, images at the working size)."""
        emb = self._embed(frames, info)
        if emb.num_frames < 2:
            raise ShapeError(f"{self.name} produced {emb.num_frames} rows; at least 2 are needed")
        return emb

    def embed_video(
        self, path: str | os.PathLike, *, progress: ProgressCallback | None = None
    ) -> Embedding:
        """Decode ``path`` (streaming) and embed it."""
        reader = open_video(path)
        with reader:
            frames = reader.frames(max_side=self.max_side, pixel_format=self.pixel_format, progress=progress)
            return self.embed_frames(frames, reader.info)


def zscore_columns(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Standardise each column over time (zero mean, unit variance; constant columns → 0)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=0, keepdims=True)
    sd = x.std(axis=0, keepdims=True)
    return ((x - mu) / np.where(sd > eps, sd, np.inf)).astype(np.float32)
