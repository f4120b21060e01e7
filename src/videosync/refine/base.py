"""The refiner contract: (file a, file b, coarse estimate) → refined estimate."""

from __future__ import annotations

import abc
import os

from videosync.io import VideoInfo
from videosync.predict.base import OffsetEstimate
from videosync.registry import Plugin


class Refiner(Plugin, abc.ABC):
    """Refines the offset of video b (reference a) near a coarse estimate.

    Plug-ins implement :meth:`_refine`. A refiner that cannot improve the estimate (no
    signal, weak peak, answer outside its search window) returns the coarse estimate
    unchanged, with ``details["refined"] = False`` and the reason; never an exception for
    hard but valid input.
    """

    def __init__(self) -> None:
        pass

    @abc.abstractmethod
    def _refine(self, info_a: VideoInfo, info_b: VideoInfo, coarse: OffsetEstimate) -> OffsetEstimate:
        """Compute the refined estimate."""

    def refine(self, a: str | os.PathLike | VideoInfo, b: str | os.PathLike | VideoInfo,
               coarse: OffsetEstimate) -> OffsetEstimate:
        """The refined offset of b with a as the reference (see :mod:`videosync.timebase`)."""
        from videosync.io import probe

        info_a = a if isinstance(a, VideoInfo) else probe(a, allow_audio_only=True)
        info_b = b if isinstance(b, VideoInfo) else probe(b, allow_audio_only=True)
        return self._refine(info_a, info_b, coarse)
