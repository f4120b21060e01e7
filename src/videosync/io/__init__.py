"""Video input: probing and streaming decode (PyAV)."""

from videosync.io._pyav import FrameStream, PixelFormat, VideoInfo, VideoReader, open_video, probe, working_size

__all__ = ["FrameStream", "PixelFormat", "VideoInfo", "VideoReader", "open_video", "probe", "working_size"]
