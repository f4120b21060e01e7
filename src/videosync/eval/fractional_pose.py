"""Suite entry: fractional offsets on held-out rendered one-person worlds, pose features,
the ``insyn`` head beside ``lag``'s parabola interpolation.

The ``human`` worlds of the synthetic entries (seeds 0–2, 4 cameras at 30/25/30/60 fps,
real-valued scene offsets) are embedded with the ``pose`` embedder (MediaPipe on the
rendered frames); pairs are equal-length crops (6 s) with injected real-valued offsets
uniform in ±5 frames (InSynFormer's range), searched within ±6 frames, so the whole-frame
part is rarely in doubt and the error measures the fraction. None of these worlds is
used to train ``insyn`` (its skeletons come from seeds ≥ 200, docs/insyn.md).
"""

from __future__ import annotations

TITLE = "Synthetic: fractional offsets with pose features (insyn vs lag's parabola, held-out worlds)"
DESCRIPTION = (
    "3 rendered one-person worlds (seeds 0–2, never used in training) × 4 cameras (30/25/30/60 fps), pose "
    "embedder; 200 pairs of 6 s equal-length crops with real-valued offsets uniform in ±5 frames (searched "
    "within ±6), seed 0, so the truth is sub-frame by construction; errors in frames of the scene's reference "
    "camera (30 fps). `insyn` = `lag`'s peak + the fractional head (shipped weights); `lag` = parabola "
    "through the peak."
)


def run(data_root, cache, progress):
    """(data_root, cache_dir, progress) → a BenchReport, or why it was skipped."""
    from videosync.embed import EMBEDDERS
    from videosync.eval.suite import _synthetic
    from videosync.predict import PREDICTORS
    from videosync.weights import shipped

    if not EMBEDDERS.get("pose").is_available():
        return "the pose embedder's optional dependency (mediapipe) is missing"
    if not PREDICTORS.get("insyn").is_available():
        return "the insyn predictor's optional dependency (torch) is missing"
    if shipped("insyn", "pt") is None:
        return "this package ships no insyn weights (train them: docs/insyn.md)"
    entry = _synthetic(["human"], [0, 1, 2], n_pairs=200, max_offset_frames=5, clip_seconds=6.0, fractional=True,
                       embedders=("pose",), predictors=("insyn", "lag"))
    return entry(data_root, cache, progress)
