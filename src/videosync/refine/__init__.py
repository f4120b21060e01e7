"""Offset refiners: a coarse pairwise estimate + the two files → a finer estimate.

A refiner reads raw signal around the coarse answer (e.g. the sound tracks, sample by
sample) and returns a new :class:`~videosync.predict.OffsetEstimate`, or the one it was
given when it cannot do better. Adding a refiner is one file and one registration line below.
"""

from videosync.refine.base import Refiner
from videosync.registry import Registry

REFINERS: Registry[Refiner] = Registry("refiner", entry_point_group="videosync.refiners")
REFINERS.add_lazy("gcc-phat", "videosync.refine.gcc_phat:GccPhatRefiner")

__all__ = ["REFINERS", "Refiner"]
