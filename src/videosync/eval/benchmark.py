"""Benchmarks: embedders × predictors on scenes with known offsets, with integrity rows.

Two protocols:

* :func:`run_pairwise` — every camera pair of every scene, whole clips (real footage).
* :func:`run_cropped` — many pairs per scene with injected offsets (equal-length crops,
  :mod:`videosync.eval.pairs`), searched within the injected range ±(R + 1) frames as the
  papers' fixed-class heads are, plus the integrity rows: the noise-substitution test
  (b's embedding replaced by noise of matching mean and variance) and, on request, the
  leaky start-only crops that reproduce the duration bias.

Each video is embedded once per embedder. The naive always-0 predictor is always added.
"""

from __future__ import annotations

import platform
import resource
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from videosync.embed import EMBEDDERS, Embedding
from videosync.eval.datasets import Scene
from videosync.eval.metrics import compute_metrics
from videosync.eval.pairs import make_pairs, noise_like
from videosync.predict import PREDICTORS, SearchRange
from videosync.registry import parse_spec
from videosync.similarity import SimilarityMatrix


@dataclass(frozen=True)
class Outcome:
    """One pair's answer."""

    dataset: str
    condition: str
    """"whole clips", "equal crops", "noise-substituted", "leaky crops", "leaky crops, noise"."""
    embedder: str
    predictor: str
    scene: str
    a: str
    b: str
    truth_seconds: float
    found_seconds: float
    confidence: float
    fps: float

    @property
    def error_frames(self) -> float:
        return (self.found_seconds - self.truth_seconds) * self.fps


@dataclass
class BenchReport:
    outcomes: list[Outcome] = field(default_factory=list)
    embed_seconds: dict[str, float] = field(default_factory=dict)
    predict_seconds: dict[str, float] = field(default_factory=dict)
    video_seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Free-form lines printed under the costs (e.g. seconds per scene)."""

    def extend(self, other: "BenchReport") -> None:
        self.outcomes += other.outcomes
        for k, v in other.embed_seconds.items():
            self.embed_seconds[k] = self.embed_seconds.get(k, 0.0) + v
        for k, v in other.predict_seconds.items():
            self.predict_seconds[k] = self.predict_seconds.get(k, 0.0) + v
        self.video_seconds += other.video_seconds
        self.skipped += [s for s in other.skipped if s not in self.skipped]


def _usable(registry, spec: str) -> bool:
    """Available, or given its own weights in the spec (then creating it says what is wrong)."""
    name, params = parse_spec(spec)
    cls = registry.get(name)
    return "weights" in params or not hasattr(cls, "is_available") or cls.is_available()


def _embed_all(scenes, emb_name, report, progress) -> dict[str, Embedding] | None:
    if not _usable(EMBEDDERS, emb_name):
        msg = f"embedder {emb_name}: optional dependency missing"
        if msg not in report.skipped:
            report.skipped.append(msg)
        return None
    t0 = time.perf_counter()
    cache = embed_scenes(scenes, emb_name, progress)
    report.embed_seconds[emb_name] = report.embed_seconds.get(emb_name, 0.0) + time.perf_counter() - t0
    return cache


def embed_scenes(scenes: Sequence[Scene], embedder: str, progress=None) -> dict[str, Embedding]:
    """Every video of ``scenes`` embedded once, by path."""
    emb = EMBEDDERS.create(embedder)
    cache = {}
    for s in scenes:
        for p in s.paths:
            if p not in cache:
                if progress:
                    progress(f"embed {embedder} {p}")
                cache[p] = emb.embed_video(p)
    return cache


def _combinations(scenes, embedders, predictors, report, progress):
    """(embedder name, embeddings by path, predictor name, predictor) for every available
    combination; predictor time is added to the report after each one is consumed."""
    for emb_name in embedders:
        cache = _embed_all(scenes, emb_name, report, progress)
        if cache is None:
            continue
        for pred_name, pred in _predictors(predictors, report):
            t0 = time.perf_counter()
            yield emb_name, cache, pred_name, pred
            report.predict_seconds[pred_name] = report.predict_seconds.get(pred_name, 0.0) + time.perf_counter() - t0


def _predictors(names, report):
    out = []
    for name in list(dict.fromkeys(list(names) + ["naive"])):
        if not _usable(PREDICTORS, name):
            msg = f"predictor {name}: optional dependency missing"
            if msg not in report.skipped:
                report.skipped.append(msg)
            continue
        out.append((name, PREDICTORS.create(name)))
    return out


def _durations(scenes) -> tuple[dict[str, float], float]:
    from videosync.io import probe

    d = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    return d, float(sum(d.values()))


def run_pairwise(
    scenes: Sequence[Scene],
    embedders: Sequence[str],
    predictors: Sequence[str],
    *,
    min_overlap_seconds: float = 2.0,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Every (embedder, predictor) on every camera pair of ``scenes``, whole clips."""
    report = BenchReport()
    _, report.video_seconds = _durations(scenes)
    search = SearchRange(min_overlap_seconds=min_overlap_seconds)
    for emb_name, cache, pred_name, pred in _combinations(scenes, embedders, predictors, report, progress):
        for s in scenes:
            for i in range(len(s.paths)):
                for j in range(i + 1, len(s.paths)):
                    sim = SimilarityMatrix(cache[s.paths[i]], cache[s.paths[j]])
                    est = pred.predict(sim, search)
                    report.outcomes.append(Outcome(
                        s.dataset, "whole clips", emb_name, pred_name, s.name, s.cameras[i], s.cameras[j],
                        s.relative_offset(i, j), est.offset_seconds, est.confidence,
                        s.fps or 1.0 / sim.step_seconds))
    return report


def run_cropped(
    scenes: Sequence[Scene],
    embedders: Sequence[str],
    predictors: Sequence[str],
    *,
    n_pairs: int = 100,
    max_offset_frames: float = 30,
    clip_seconds: float = 8.0,
    seed: int = 0,
    fractional: bool = False,
    noise_test: bool = True,
    leaky_crop: bool = False,
    min_overlap_seconds: float = 2.0,
    dataset_name: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Pairs with injected offsets (equal-length crops) and the integrity rows."""
    report = BenchReport()
    durations, report.video_seconds = _durations(scenes)
    search = SearchRange(min_overlap_seconds=min_overlap_seconds)
    conditions = [("equal crops", "equal", False)]
    if noise_test:
        conditions.append(("noise-substituted", "equal", True))
    if leaky_crop:
        conditions += [("leaky crops", "start", False), ("leaky crops, noise", "start", True)]
    pair_sets = {
        rule: make_pairs(scenes, durations, n_pairs=n_pairs, max_offset_frames=max_offset_frames,
                         clip_seconds=clip_seconds, seed=seed, crop=rule, fractional=fractional)
        for rule in {c[1] for c in conditions}
    }
    by_name = {s.name: s for s in scenes}
    for emb_name, cache, pred_name, pred in _combinations(scenes, embedders, predictors, report, progress):
        for cond, rule, noise in conditions:
            rng = np.random.default_rng(seed + 1)
            for p in pair_sets[rule]:
                s = by_name[p.scene]
                a, b = p.apply(cache[s.paths[p.a]], cache[s.paths[p.b]])
                if noise:
                    b = noise_like(b, rng)
                # The papers' heads answer within the injected range; search it (one frame spare).
                limited = SearchRange(max_offset_seconds=(max_offset_frames + 1) / p.fps,
                                      min_overlap_seconds=search.min_overlap_seconds)
                est = pred.predict(SimilarityMatrix(a, b), limited)
                report.outcomes.append(Outcome(
                    dataset_name or s.dataset, cond, emb_name, pred_name, s.name, s.cameras[p.a],
                    s.cameras[p.b], p.truth_seconds, est.offset_seconds, est.confidence, p.fps))
    return report


_CONDITION_ORDER = ["whole clips", "equal crops", "noise-substituted", "leaky crops", "leaky crops, noise"]


def summary_rows(report: BenchReport, *, fractional: bool = False) -> list[dict]:
    """One row per dataset × condition × embedder × predictor (plus an 'all' dataset)."""
    rows = []
    datasets = sorted({o.dataset for o in report.outcomes})
    groups = datasets + (["all"] if len(datasets) > 1 else [])
    for ds in groups:
        sel = [o for o in report.outcomes if ds == "all" or o.dataset == ds]
        # other conditions (e.g. robustness rows) follow the known ones, in the order they were run
        first = {c: 100 + i for i, c in enumerate(dict.fromkeys(o.condition for o in sel))}
        keys = sorted({(o.condition, o.embedder, o.predictor) for o in sel},
                      key=lambda k: (_CONDITION_ORDER.index(k[0]) if k[0] in _CONDITION_ORDER else first[k[0]],
                                     k[1], k[2] == "naive", k[2]))
        for cond, emb, pred in keys:
            sub = [o for o in sel if (o.condition, o.embedder, o.predictor) == (cond, emb, pred)]
            m = compute_metrics([o.found_seconds * o.fps for o in sub], [o.truth_seconds * o.fps for o in sub],
                                fps=[o.fps for o in sub], confidence=[o.confidence for o in sub])
            rows.append({"dataset": ds, "condition": cond, "embedder": emb, "predictor": pred, **m})
    return rows


def _pct(x: float) -> str:
    return "—" if x != x else f"{100 * x:.0f} %"


def markdown(report: BenchReport, *, command: str, title: str, fractional: bool = False,
             per_pair: bool = True) -> str:
    """The report as Markdown: the command, versions and cost, a summary table, every pair."""
    from videosync import __version__

    lines = [f"## {title}", "", f"Command: `{command}`", ""]
    lines.append(
        f"videosync {__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, {len(report.outcomes)} pair results; peak memory "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB."
    )
    lines.append("")
    for emb, secs in report.embed_seconds.items():
        lines.append(
            f"- embedder `{emb}`: {secs:.1f} s to embed {report.video_seconds:.0f} s of video "
            f"({secs / max(report.video_seconds / 60, 1e-9):.2f} s per video minute, decode included)"
        )
    for pred, secs in report.predict_seconds.items():
        lines.append(f"- predictor `{pred}`: {secs:.1f} s in all")
    for s in report.skipped:
        lines.append(f"- skipped: {s}")
    for s in report.notes:
        lines.append(f"- {s}")
    head = ("| dataset | condition | embedder | predictor | pairs | mean abs err (frames) ± s.e. | "
            "median abs err (ms) | Acc@1 | Acc@5 | Acc@10 | low confidence | errors among confident |")
    sep = "|---|---|---|---|---|---|---|---|---|---|---|---|"
    if fractional:
        head += " Acc_ex@1 | Acc_in@1 | Acc_in@3 | Acc_in@5 |"
        sep += "---|---|---|---|"
    lines += ["", head, sep]
    for r in summary_rows(report, fractional=fractional):
        line = (f"| {r['dataset']} | {r['condition']} | {r['embedder']} | {r['predictor']} | {int(r['pairs'])} | "
                f"{r['mean_abs_frames']:.2f} ± {r['sem_frames']:.2f} | {r['median_abs_ms']:.0f} | "
                f"{_pct(r['acc_at_1'])} | {_pct(r['acc_at_5'])} | {_pct(r['acc_at_10'])} | "
                f"{_pct(r['low_confidence'])} | {_pct(r['accepted_error_rate'])} |")
        if fractional:
            line += (f" {_pct(r['acc_ex_at_1'])} | {_pct(r['acc_in_at_1'])} | {_pct(r['acc_in_at_3'])} | "
                     f"{_pct(r['acc_in_at_5'])} |")
        lines.append(line)
    lines += ["", "\"errors among confident\": share of pairs with confidence ≥ 0.5 that are more than 1 frame off."]
    if per_pair:
        lines += ["", "<details><summary>Every pair: error in frames (confidence)</summary>", ""]
        combos = sorted({(o.embedder, o.predictor) for o in report.outcomes if o.condition == "whole clips"},
                        key=lambda k: (k[0], k[1] == "naive", k[1]))
        if combos:
            lines.append("| scene | pair | truth (frames) | " + " | ".join(f"{e}/{p}" for e, p in combos) + " |")
            lines.append("|---|---|---|" + "---|" * len(combos))
            whole = [o for o in report.outcomes if o.condition == "whole clips"]
            index = {(o.scene, o.a, o.b, o.embedder, o.predictor): o for o in whole}
            for sc, a, b in dict.fromkeys((o.scene, o.a, o.b) for o in whole):
                first = index[next(k for k in index if k[:3] == (sc, a, b))]
                cells = []
                for e, p in combos:
                    o = index.get((sc, a, b, e, p))
                    cells.append("" if o is None else f"{o.error_frames:+.1f} ({o.confidence:.2f})")
                lines.append(f"| {sc} | {a}→{b} | {first.truth_seconds * first.fps:+.1f} | " + " | ".join(cells) + " |")
        lines += ["", "</details>"]
    lines.append("")
    return "\n".join(lines)


def to_json_dict(report: BenchReport, *, command: str, title: str) -> dict:
    """The report as plain data: summary rows, every outcome, costs."""
    from dataclasses import asdict

    from videosync import __version__

    def clean(d):
        return {k: (None if isinstance(v, float) and v != v else v) for k, v in d.items()}

    return {
        "title": title,
        "command": command,
        "videosync_version": __version__,
        "python": platform.python_version(),
        "video_seconds": report.video_seconds,
        "embed_seconds": report.embed_seconds,
        "predict_seconds": report.predict_seconds,
        "skipped": report.skipped,
        "summary": [clean(r) for r in summary_rows(report)],
        "outcomes": [asdict(o) for o in report.outcomes],
    }
