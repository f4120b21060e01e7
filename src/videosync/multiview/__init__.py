"""N cameras: pairwise estimates → one consistent set of offsets."""

from videosync.multiview.solve import PairMeasurement, Solution, solve_offsets

__all__ = ["PairMeasurement", "Solution", "solve_offsets"]
