"""Evaluation: benchmark scenes with known offsets, leak-proof pairs, metrics, reports."""

from videosync.eval.benchmark import BenchReport, Outcome, markdown, run_cropped, run_pairwise, summary_rows
from videosync.eval.datasets import (
    DATASETS,
    Scene,
    load_folder_scenes,
    load_scene_folder,
    load_timestamp_csv_scene,
    load_visualsync,
    write_truth,
)
from videosync.eval.metrics import compute_metrics
from videosync.eval.pairs import CropPair, make_pairs, noise_like, split_by_scene

__all__ = ["BenchReport", "CropPair", "DATASETS", "Outcome", "Scene", "compute_metrics", "load_scene_folder",
           "load_folder_scenes", "load_timestamp_csv_scene", "load_visualsync", "write_truth", "make_pairs", "markdown", "noise_like", "run_cropped", "run_pairwise",
           "split_by_scene", "summary_rows"]
