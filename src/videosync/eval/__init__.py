"""Evaluation: benchmark scenes with known offsets, metrics and reports."""

from videosync.eval.benchmark import BenchReport, PairOutcome, markdown, run_pairwise, summarise
from videosync.eval.datasets import DATASETS, Scene, load_scene_folder, load_visualsync

__all__ = ["BenchReport", "DATASETS", "PairOutcome", "Scene", "load_scene_folder", "load_visualsync",
           "markdown", "run_pairwise", "summarise"]
