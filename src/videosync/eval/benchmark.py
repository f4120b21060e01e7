"""Pairwise benchmark: every embedder × predictor on every camera pair of every scene.

Embeddings are computed once per video and embedder. The naive always-0 predictor is
always included, as the integrity row beside every number.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from videosync.embed import EMBEDDERS
from videosync.eval.datasets import Scene
from videosync.predict import PREDICTORS, SearchRange
from videosync.similarity import SimilarityMatrix


@dataclass(frozen=True)
class PairOutcome:
    scene: str
    dataset: str
    a: str
    b: str
    embedder: str
    predictor: str
    truth_seconds: float
    found_seconds: float
    confidence: float
    fps: float

    @property
    def abs_error_seconds(self) -> float:
        return abs(self.found_seconds - self.truth_seconds)

    @property
    def abs_error_frames(self) -> float:
        return self.abs_error_seconds * self.fps


@dataclass
class BenchReport:
    outcomes: list[PairOutcome] = field(default_factory=list)
    embed_seconds: dict[str, float] = field(default_factory=dict)
    video_seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


def run_pairwise(
    scenes: Sequence[Scene],
    embedders: Sequence[str],
    predictors: Sequence[str],
    *,
    min_overlap_seconds: float = 2.0,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Evaluate every (embedder, predictor) on all camera pairs of ``scenes``."""
    report = BenchReport()
    predictors = list(dict.fromkeys(list(predictors) + ["naive"]))
    search = SearchRange(min_overlap_seconds=min_overlap_seconds)
    from videosync.io import probe

    report.video_seconds = sum(probe(p).duration_seconds for s in scenes for p in s.paths)
    for emb_name in embedders:
        emb = EMBEDDERS.create(emb_name)
        if hasattr(emb, "is_available") and not emb.is_available():
            report.skipped.append(f"embedder {emb_name}: optional dependency missing")
            continue
        t0 = time.perf_counter()
        cache = {}
        for s in scenes:
            for p in s.paths:
                if progress:
                    progress(f"embed {emb_name} {p}")
                cache[p] = emb.embed_video(p)
        report.embed_seconds[emb_name] = time.perf_counter() - t0
        for pred_name in predictors:
            pred = PREDICTORS.create(pred_name)
            if hasattr(pred, "is_available") and not pred.is_available():
                report.skipped.append(f"predictor {pred_name}: optional dependency missing")
                continue
            for s in scenes:
                for i in range(len(s.paths)):
                    for j in range(i + 1, len(s.paths)):
                        sim = SimilarityMatrix(cache[s.paths[i]], cache[s.paths[j]], metric=emb.default_metric)
                        est = pred.predict(sim, search)
                        report.outcomes.append(
                            PairOutcome(s.name, s.dataset, s.cameras[i], s.cameras[j], emb_name, pred_name,
                                        s.relative_offset(i, j), est.offset_seconds, est.confidence,
                                        s.fps or 1.0 / sim.step_seconds)
                        )
    return report


def summarise(outcomes: Sequence[PairOutcome]) -> dict[str, float]:
    e_f = np.array([o.abs_error_frames for o in outcomes])
    e_s = np.array([o.abs_error_seconds for o in outcomes])
    c = np.array([o.confidence for o in outcomes])
    n = len(e_f)
    return {
        "pairs": n,
        "mean_abs_frames": float(e_f.mean()),
        "sem_frames": float(e_f.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
        "median_abs_ms": float(np.median(e_s) * 1000),
        "within_1_frame": float(np.mean(e_f <= 1.0 + 1e-9)),
        "low_confidence": float(np.mean(c < 0.5)),
        "within_1_frame_of_confident": float(np.mean(e_f[c >= 0.5] <= 1.0 + 1e-9)) if (c >= 0.5).any() else float("nan"),
    }


def markdown(report: BenchReport, *, command: str, title: str) -> str:
    """The report as Markdown: a summary per dataset × embedder × predictor, then every pair."""
    from videosync import __version__

    lines = [f"## {title}", "", f"Command: `{command}`", ""]
    lines.append(
        f"videosync {__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {len(report.outcomes)} pair results."
    )
    lines.append("")
    for emb, secs in report.embed_seconds.items():
        lines.append(
            f"- embedder `{emb}`: {secs:.1f} s for {report.video_seconds:.0f} s of video "
            f"({secs / max(report.video_seconds / 60, 1e-9):.2f} s per video minute)"
        )
    for s in report.skipped:
        lines.append(f"- skipped: {s}")
    lines += ["", "| dataset | embedder | predictor | pairs | mean abs err (frames) ± s.e. | median abs err (ms) | within 1 frame | low confidence | within 1 frame when confident |",
              "|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(o.dataset, o.embedder, o.predictor) for o in report.outcomes},
                  key=lambda k: (k[0], k[1], k[2] == "naive", k[2]))
    datasets = sorted({o.dataset for o in report.outcomes})
    for ds in datasets + ["all"]:
        for (d, e, p) in sorted({(("all" if ds == "all" else o.dataset), o.embedder, o.predictor)
                                 for o in report.outcomes if ds == "all" or o.dataset == ds},
                                key=lambda k: (k[1], k[2] == "naive", k[2])):
            sub = [o for o in report.outcomes if (ds == "all" or o.dataset == ds) and o.embedder == e and o.predictor == p]
            m = summarise(sub)
            conf = "—" if np.isnan(m["within_1_frame_of_confident"]) else f"{100 * m['within_1_frame_of_confident']:.0f} %"
            lines.append(
                f"| {d} | {e} | {p} | {m['pairs']} | {m['mean_abs_frames']:.2f} ± {m['sem_frames']:.2f} | "
                f"{m['median_abs_ms']:.0f} | {100 * m['within_1_frame']:.0f} % | {100 * m['low_confidence']:.0f} % | {conf} |"
            )
    lines += ["", "<details><summary>Every pair (error in frames; confidence)</summary>", ""]
    combos = sorted({(o.embedder, o.predictor) for o in report.outcomes}, key=lambda k: (k[0], k[1] == "naive", k[1]))
    lines.append("| scene | pair | truth (frames) | " + " | ".join(f"{e}/{p}" for e, p in combos) + " |")
    lines.append("|---|---|---|" + "---|" * len(combos))
    pairs = list(dict.fromkeys((o.scene, o.a, o.b) for o in report.outcomes))
    index = {(o.scene, o.a, o.b, o.embedder, o.predictor): o for o in report.outcomes}
    for sc, a, b in pairs:
        first = next(o for o in report.outcomes if (o.scene, o.a, o.b) == (sc, a, b))
        cells = []
        for e, p in combos:
            o = index.get((sc, a, b, e, p))
            cells.append("" if o is None else f"{(o.found_seconds - o.truth_seconds) * o.fps:+.1f} ({o.confidence:.2f})")
        lines.append(f"| {sc} | {a}→{b} | {first.truth_seconds * first.fps:+.1f} | " + " | ".join(cells) + " |")
    lines += ["", "</details>", ""]
    return "\n".join(lines)
