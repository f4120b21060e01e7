"""Learned visual embedder: a small CNN + temporal convolutions trained without people or labels.

The network (:mod:`videosync.learn.visual`) sees each RGB frame at 64 × 64 with its two
frame differences, pools over space (translation invariant) and mixes a few neighbouring
frames with 1-D convolutions; it has no positional encoding. It was trained with CARL's
sequence contrastive loss *across cameras* of rendered synthetic worlds of every kind
(frames showing the same world instant are positives), on seeds the bench does not use;
then fine-tuned with CARL's single-view loss on real unlabeled clips from package registries
(two crops of one clip at their own strides; :mod:`videosync.learn.real_clips`); see
``docs/learned.md`` and the run card ``videosync/weights/learned.json``.

Rows are L2-normalised and, by default, each column is standardised over the video (what
a camera shows all the time is its view, not the event). Channels are meant to mean the
same thing in every camera (``channels_correspond=True``), so ``lag`` scores diagonals.

Frames are streamed: the CNN runs on chunks of frames and only the per-frame features
(128 floats) are kept, so memory does not grow with the frames' size or number beyond that.
"""

from __future__ import annotations

import os

from videosync._validation import check_flag
from videosync.embed.base import Embedder, Embedding, Frames
from videosync.errors import MissingDependencyError, MissingWeightsError
from videosync.io import VideoInfo

WEIGHTS_NAME = "learned"


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


class LearnedEmbedder(Embedder):
    name = "learned"
    summary = ("small CNN + temporal convs, contrastive on synthetic worlds + real single-view clips "
               "(torch; shipped weights)")
    pixel_format = "rgb24"
    default_metric = "cosine"

    def __init__(self, *, weights: str | None = None, standardize: bool = True, max_side: int = 128) -> None:
        super().__init__(max_side=max_side)
        self.weights = weights
        self.standardize = check_flag("LearnedEmbedder", "standardize", standardize)
        self._net = None

    @classmethod
    def is_available(cls) -> bool:
        """torch is installed and weights are shipped (user weights can still be passed by path)."""
        from videosync.weights import shipped

        return _torch_available() and shipped(WEIGHTS_NAME, "npz") is not None

    @classmethod
    def test_params(cls):
        return [{}, {"standardize": False, "max_side": 96}]

    def _model(self):
        if self._net is None:
            try:
                import torch  # noqa: F401

                from videosync.learn.visual import load_model
            except ImportError:
                raise MissingDependencyError("the 'learned' embedder", extra="torch",
                                             hint="pip install torch==2.13.0 (a CPU build)") from None
            from videosync.weights import resolve

            path = resolve(WEIGHTS_NAME, "npz", self.weights)
            if path is None or not os.path.isfile(path):
                raise MissingWeightsError(
                    "the 'learned' embedder",
                    f"no weights file at {path}" if path else
                    "this package ships none; train them with 'videosync train learned --out learned.npz' "
                    "and pass weights=learned.npz")
            self._net = load_model(path)
        return self._net

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        from videosync.learn.visual import embed_stream, to_embedding

        times, z = embed_stream(self._model(), frames)
        return to_embedding(times, z, standardize=self.standardize)
