"""Is the confidence worth anything? Mixed positive/negative pairs, AUROC, reliability.

A pair is *positive* when its two crops show the same event (equal-length crops of two
cameras of one scene, offset uniform in ±R frames) and *negative* when they come from two
different scenes (nothing to find: the only right verdict is "cannot sync"). For every
predictor we record its answer and confidence and report:

* Acc@1 on the positives (answer within one frame);
* AUROC of the confidence for "the answer is right" (positives within one frame; every
  negative counts as wrong) — 1.0 means confidence ranks every right answer above every
  wrong one;
* at the default threshold (confidence ≥ 0.5, as the pipeline's ``min_confidence``): the
  fraction accepted, the error rate among the accepted and the fraction of negatives
  accepted;
* a reliability table (per confidence bin: mean confidence vs fraction right).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from videosync.eval.metrics import auroc, reliability


@dataclass
class ConfidenceReport:
    rows: list[dict] = field(default_factory=list)
    reliability: dict[str, list[dict]] = field(default_factory=dict)
    seconds: float = 0.0
    threshold: float = 0.5

    def markdown(self, *, title: str, command: str) -> str:
        out = [f"## {title}", "", f"Command: `{command}`", "",
               "| data | embedder | predictor | positives | negatives | Acc@1 (positives) | AUROC | accepted "
               "| errors among accepted | negatives accepted |",
               "|---|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            out.append("| {data} | {embedder} | {predictor} | {positives} | {negatives} | {acc} | {auc} | {acc_f} "
                       "| {err} | {neg} |".format(
                           acc=_pct(r["acc_at_1"]), auc="—" if r["auroc"] is None else f"{r['auroc']:.3f}",
                           acc_f=_pct(r["accepted_fraction"]), err=_pct(r["errors_among_accepted"]),
                           neg=_pct(r["negatives_accepted"]), **r))
        out += ["", "Reliability (all data, confidence bins: pairs, mean confidence → fraction right):", ""]
        for key, rows in self.reliability.items():
            cells = "; ".join(f"{b['bin']}: {b['pairs']}, {_f(b['mean_confidence'])} → {_f(b['fraction_correct'])}"
                              for b in rows)
            out.append(f"- {key}: {cells}")
        out.append("")
        return "\n".join(out)

    def to_json(self, *, title: str, command: str) -> dict:
        return {"title": title, "command": command, "rows": self.rows, "reliability": self.reliability,
                "threshold": self.threshold, "seconds": self.seconds}


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _f(x) -> str:
    return "—" if x is None else f"{x:.2f}"


def mixed_pairs(scenes, cache, *, n_positive: int, negative_fraction: float, max_offset_frames: int,
                clip_seconds: float, seed: int):
    """[(a, b, truth_seconds or None, fps, max_offset_seconds)] from embedded ``scenes``."""
    from videosync.eval.pairs import make_pairs
    from videosync.io import probe

    durations = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    pairs = make_pairs(scenes, durations, n_pairs=n_positive, max_offset_frames=max_offset_frames,
                       clip_seconds=clip_seconds, seed=seed)
    by = {s.name: s for s in scenes}
    crops = []
    for p in pairs:
        s = by[p.scene]
        a, b = p.apply(cache[s.paths[p.a]], cache[s.paths[p.b]])
        crops.append((p, a, b))
    out = [(a, b, p.truth_seconds, p.fps, (max_offset_frames + 1) / p.fps) for p, a, b in crops]
    rng = np.random.default_rng(seed + 1)
    n_neg = int(round(negative_fraction * len(out) / max(1e-9, 1 - negative_fraction)))
    tries = 0
    while n_neg > 0 and tries < 50 * n_neg:
        tries += 1
        i, j = rng.integers(len(crops), size=2)
        (p, a, _), (q, _, b) = crops[i], crops[j]
        if p.scene == q.scene:
            continue
        out.append((a, b, None, p.fps, (max_offset_frames + 1) / p.fps))
        n_neg -= 1
    return out


def run_confidence(datasets, embedders, predictors, *, n_positive=150, negative_fraction=0.3, max_offset_frames=30,
                   clip_seconds=6.0, seed=0, threshold=0.5, progress=None) -> ConfidenceReport:
    """``datasets``: {name: (scenes, max_offset_frames, clip_seconds)}; every predictor on the same pairs."""
    from videosync.eval.benchmark import embed_scenes
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    started = time.perf_counter()
    report = ConfidenceReport(threshold=threshold)
    pooled: dict[str, tuple[list, list]] = {}
    for data_name, (scenes, R, clip) in datasets.items():
        for emb in embedders:
            cache = embed_scenes(scenes, emb, progress)
            pairs = mixed_pairs(scenes, cache, n_positive=n_positive, negative_fraction=negative_fraction,
                                max_offset_frames=R, clip_seconds=clip, seed=seed)
            for pname in predictors:
                pred = PREDICTORS.create(pname)
                if progress:
                    progress(f"confidence: {data_name} {emb} {pname}")
                conf, right, pos = [], [], []
                for a, b, truth, fps, max_off in pairs:
                    est = pred.predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=max_off,
                                                                          min_overlap_seconds=2.0))
                    conf.append(est.confidence)
                    pos.append(truth is not None)
                    right.append(truth is not None and abs(est.offset_seconds - truth) * fps <= 1.0)
                conf, right, pos = np.array(conf), np.array(right), np.array(pos)
                acc = conf >= threshold
                report.rows.append({
                    "data": data_name, "embedder": emb, "predictor": pname,
                    "positives": int(pos.sum()), "negatives": int((~pos).sum()),
                    "acc_at_1": float(right[pos].mean()) if pos.any() else None,
                    "auroc": auroc(conf, right),
                    "accepted_fraction": float(acc.mean()),
                    "errors_among_accepted": float((~right[acc]).mean()) if acc.any() else None,
                    "negatives_accepted": float(acc[~pos].mean()) if (~pos).any() else None,
                })
                c, r = pooled.setdefault(f"{emb} + {pname}", ([], []))
                c += list(conf)
                r += list(right)
    report.reliability = {k: reliability(c, r) for k, (c, r) in pooled.items()}
    report.seconds = time.perf_counter() - started
    return report
