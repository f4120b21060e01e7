"""Evaluation: benchmark scenes with known offsets, leak-proof pairs, metrics, reports."""

from videosync.eval.benchmark import BenchReport, Outcome, markdown, run_cropped, run_pairwise, summary_rows
from videosync.eval.datasets import DATASETS, Scene, load_scene_folder, load_visualsync
from videosync.eval.metrics import compute_metrics
from videosync.eval.pairs import CropPair, make_pairs, noise_like, split_by_scene

__all__ = ["BenchReport", "CropPair", "DATASETS", "Outcome", "Scene", "compute_metrics", "load_scene_folder",
           "load_visualsync", "make_pairs", "markdown", "noise_like", "run_cropped", "run_pairwise",
           "split_by_scene", "summary_rows"]
