"""Helpers for tests, demos and plug-in authors: synthetic rigs with exact truth."""

from videosync.testing.rig import Rig, World, make_rig, write_video

__all__ = ["Rig", "World", "make_rig", "write_video"]
