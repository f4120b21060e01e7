"""Frame-to-frame similarity between two videos on a common time grid."""

from videosync.similarity.matrix import (
    METRICS,
    Grid,
    LagProfile,
    SimilarityMatrix,
    resample,
    similarity_matrix,
)

__all__ = ["METRICS", "Grid", "LagProfile", "SimilarityMatrix", "resample", "similarity_matrix"]
