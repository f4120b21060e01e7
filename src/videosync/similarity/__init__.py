"""Frame-to-frame similarity between two videos on a common time grid."""

from videosync.similarity.matched import MatchedProfile, matched_lag_profile
from videosync.similarity.matrix import (
    METRICS,
    Grid,
    LagProfile,
    SimilarityMatrix,
    resample,
    similarity_matrix,
)

__all__ = ["MatchedProfile", "matched_lag_profile", "METRICS", "Grid", "LagProfile", "SimilarityMatrix", "resample", "similarity_matrix"]
