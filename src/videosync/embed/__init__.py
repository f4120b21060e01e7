"""Embedders: frames of one video → (T, D) features with frame times.

Adding an embedder is one file and one registration line below.
"""

from videosync.embed.base import Embedder, Embedding, zscore_columns
from videosync.registry import Registry

EMBEDDERS: Registry[Embedder] = Registry("embedder", entry_point_group="videosync.embedders")
EMBEDDERS.add_lazy("motion", "videosync.embed.motion:MotionEmbedder")
EMBEDDERS.add_lazy("appearance", "videosync.embed.appearance:AppearanceEmbedder")
EMBEDDERS.add_lazy("pose", "videosync.embed.pose:PoseEmbedder")
EMBEDDERS.add_lazy("learned", "videosync.embed.learned:LearnedEmbedder")
EMBEDDERS.add_lazy("sesyn", "videosync.embed.sesyn:SeSynEmbedder")
EMBEDDERS.add_lazy("audio", "videosync.embed.audio:AudioEmbedder")
EMBEDDERS.add_lazy("landmarks", "videosync.embed.landmarks:LandmarksEmbedder")
EMBEDDERS.add_lazy("tracks", "videosync.embed.tracks:TracksEmbedder")

__all__ = ["EMBEDDERS", "Embedder", "Embedding", "zscore_columns"]
