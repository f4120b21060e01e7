"""videosync: find the time offsets between videos of one event from what the cameras see.

The offset convention (see :mod:`videosync.timebase`):
``offset_seconds[cam]`` — the instant shown at time t in the reference video appears at
time t + offset_seconds[cam] in cam's own timeline; the reference has 0.

>>> import videosync                                    # doctest: +SKIP
>>> result = videosync.sync(["cam1.mp4", "cam2.mp4"])  # doctest: +SKIP
>>> result.offsets_seconds                              # doctest: +SKIP
"""

__version__ = "0.1.0"

from videosync.embed import EMBEDDERS, Embedder, Embedding
from videosync.errors import (
    DecodeError,
    InvalidParameterError,
    MissingDependencyError,
    ShapeError,
    UnknownPluginError,
    VideoOpenError,
    VideoSyncError,
)
from videosync.io import VideoInfo, open_video, probe
from videosync.pipeline import sync
from videosync.predict import PREDICTORS, OffsetEstimate, Predictor, SearchRange
from videosync.result import CameraResult, PairResult, SyncResult
from videosync.timebase import OFFSET_CONVENTION

__all__ = [
    "__version__",
    "sync",
    "open_video",
    "probe",
    "VideoInfo",
    "SyncResult",
    "CameraResult",
    "PairResult",
    "OffsetEstimate",
    "SearchRange",
    "Embedder",
    "Embedding",
    "Predictor",
    "EMBEDDERS",
    "PREDICTORS",
    "OFFSET_CONVENTION",
    "VideoSyncError",
    "InvalidParameterError",
    "ShapeError",
    "UnknownPluginError",
    "MissingDependencyError",
    "VideoOpenError",
    "DecodeError",
]
