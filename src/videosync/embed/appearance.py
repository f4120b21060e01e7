"""Appearance embedder: small normalised grey thumbnails.

Works when cameras see the scene from nearly the same place (or for global events such
as lights switching on); fails across different viewpoints, where pixels do not
correspond. A baseline, and the right tool for near-identical views.
"""

from __future__ import annotations

import numpy as np

from videosync._validation import check_number
from videosync.embed.base import Embedder, Embedding, Frames
from videosync.io import VideoInfo


class AppearanceEmbedder(Embedder):
    name = "appearance"
    summary = "normalised grey thumbnails; for cameras with nearly the same view"
    pixel_format = "gray"
    default_metric = "cosine"

    def __init__(self, *, size: int = 16, max_side: int = 64) -> None:
        super().__init__(max_side=max_side)
        self.size = check_number("AppearanceEmbedder", "size", size, low=2, high=128, integer=True)

    @classmethod
    def test_params(cls):
        return [{}, {"size": 8, "max_side": 32}]

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        import cv2

        times, rows = [], []
        for t, img in frames:
            thumb = cv2.resize(img, (self.size, self.size), interpolation=cv2.INTER_AREA)
            v = thumb.astype(np.float32).ravel()
            v -= v.mean()
            n = np.linalg.norm(v)
            rows.append(v / n if n > 1e-6 else v)
            times.append(t)
        return Embedding(np.array(times), np.array(rows, dtype=np.float32))
