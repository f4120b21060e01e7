"""Motion embedder: spatial-grid motion energy, no weights.

For each pair of consecutive frames: the absolute difference of slightly blurred grey
frames, averaged over the cells of a grid. The row is placed at the midpoint of the two
frames' times, so cameras with different frame rates stay aligned. Columns are
log-compressed and standardised over time so that the similarity of two videos measures
whether their motion rises and falls together.

Cells do not correspond between different viewpoints, so by default each row is sorted
(``layout="sorted"``): the profile of how much of the picture moves how strongly, which
does not depend on where in the picture it moves.
"""

from __future__ import annotations

import numpy as np

from videosync._validation import check_choice, check_number
from videosync.embed.base import Embedder, Embedding, Frames, zscore_columns
from videosync.io import VideoInfo


class MotionEmbedder(Embedder):
    name = "motion"
    summary = "grid motion energy (frame differences); view-invariant, no weights"
    pixel_format = "gray"
    default_metric = "cosine"

    def __init__(self, *, grid: int = 4, layout: str = "sorted", max_side: int = 160) -> None:
        super().__init__(max_side=max_side)
        self.grid = check_number("MotionEmbedder", "grid", grid, low=1, high=32, integer=True)
        self.layout = check_choice("MotionEmbedder", "layout", layout, ("sorted", "cells"))

    @classmethod
    def test_params(cls):
        return [{}, {"grid": 2, "layout": "cells", "max_side": 64}]

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        import cv2

        g = self.grid
        prev = None
        prev_t = None
        times, rows = [], []
        for t, img in frames:
            cur = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 1.0)
            if prev is not None:
                d = np.abs(cur - prev)
                h, w = d.shape
                hh, ww = (h // g) * g, (w // g) * g
                cells = d[:hh, :ww].reshape(g, hh // g, g, ww // g).mean(axis=(1, 3)).ravel()
                if self.layout == "sorted":
                    cells = np.sort(cells)[::-1]
                rows.append(np.concatenate([[d.mean()], cells]))
                times.append(0.5 * (t + prev_t))
            prev, prev_t = cur, t
        feats = np.log1p(np.array(rows, dtype=np.float64))
        return Embedding(np.array(times), zscore_columns(feats))
