"""The ``sesyn`` entry of the standard suite: SeSyn-Net beside the hand-crafted embedders on
rendered people, with the integrity rows and SeSyn-Net's robustness tests.

Synthetic one-person (``human``, seeds 0–2) and several-people (``humans``, seeds 0–1)
worlds, 4 cameras each; the same equal-length crop pairs as the standard synthetic entries
(6 s, offsets uniform in ±30 frames, seed 0). ``sesyn``, ``pose`` and ``motion`` with the
``lag`` predictor and the naive always-0 baseline, each with the noise-substitution row.
``sesyn`` undoes MediaPipe's left/right swaps from the walking direction (its default,
``sides="facing"``); one row keeps MediaPipe's labels (``sides="detector"``).
Robustness (SeSyn-Net §4.5, test-time only): ``sesyn`` on landmarks with 1, 5, 10 % of the
frames dropped and with Gaussian noise of 3, 6, 9 px (pixels of the 320×240 renders, where a
person is about 85 px tall). MediaPipe runs once per video; the perturbations are applied to
its landmarks.

The rendered worlds share no seed with the training skeletons (seeds 100+, validation 900+).
"""

from __future__ import annotations

import time

import numpy as np

from videosync.eval.benchmark import BenchReport, Outcome, embed_scenes
from videosync.eval.pairs import make_pairs, noise_like

SESYN_TITLE = "SeSyn-Net (sesyn): rendered people, equal-length crops, integrity and robustness rows"
SESYN_DESCRIPTION = (
    "sesyn (shipped weights, trained on synthetic skeletons only) beside pose, motion and naive on 3 one-person "
    "worlds (seeds 0–2; 300 pairs) and 2 several-people worlds (seeds 0–1; 200 pairs) × 4 cameras, 6 s crops, "
    "offsets uniform in ±30 frames, seed 0, lag predictor; noise-substitution rows; a row with MediaPipe's "
    "left/right labels kept (sesyn undoes its swaps from the walking direction by default); SeSyn-Net's robustness "
    "tests on sesyn (1/5/10 % of frames dropped, 3/6/9 px Gaussian landmark noise on 320×240 renders).")

ROBUSTNESS = (("MediaPipe's left/right labels kept", {"sides": "detector"}),
              ("1 % frames dropped", {"drop_frames": 0.01}), ("5 % frames dropped", {"drop_frames": 0.05}),
              ("10 % frames dropped", {"drop_frames": 0.10}), ("pose noise 3 px", {"noise_px": 3.0}),
              ("pose noise 6 px", {"noise_px": 6.0}), ("pose noise 9 px", {"noise_px": 9.0}))


def mediapipe_tracks(scenes, max_side: int, progress=None) -> dict:
    """MediaPipe pose track of every video of ``scenes`` (by path), as ``sesyn`` computes it."""
    from videosync.embed.sesyn import mediapipe_track
    from videosync.io import open_video

    tracks = {}
    for s in scenes:
        for p in s.paths:
            if progress:
                progress(f"embed sesyn {p}")
            with open_video(p) as reader:
                tracks[p] = mediapipe_track(reader.frames(max_side=max_side, pixel_format="rgb24"), reader.info)
    return tracks


def run_sesyn_entry(scenes, *, n_pairs: int = 300, max_offset_frames: int = 30, clip_seconds: float = 6.0,
                    seed: int = 0, others=("pose", "motion"), robustness=ROBUSTNESS, weights=None,
                    progress=None) -> BenchReport:
    """``sesyn`` (clean and perturbed), ``others`` and naive on equal-length crop pairs."""
    from videosync.embed import EMBEDDERS
    from videosync.embed.sesyn import SeSynEmbedder
    from videosync.io import probe
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    report = BenchReport()
    durations = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    report.video_seconds = float(sum(durations.values()))
    pairs = make_pairs(scenes, durations, n_pairs=n_pairs, max_offset_frames=max_offset_frames,
                       clip_seconds=clip_seconds, seed=seed)
    by_name = {s.name: s for s in scenes}

    caches: dict[tuple[str, str], dict] = {}  # (embedder, condition) -> embeddings by path
    t0 = time.perf_counter()
    base = SeSynEmbedder(weights=weights)
    tracks = mediapipe_tracks(scenes, base.max_side, progress)
    caches[("sesyn", "equal crops")] = {p: base.embed_track(t) for p, t in tracks.items()}
    report.embed_seconds["sesyn"] = time.perf_counter() - t0
    for cond, params in robustness:
        emb = SeSynEmbedder(weights=weights, seed=seed, **params)
        caches[("sesyn", f"equal crops, {cond}")] = {p: emb.embed_track(t) for p, t in tracks.items()}
    for name in others:
        cls = EMBEDDERS.get(name)
        if hasattr(cls, "is_available") and not cls.is_available():
            report.skipped.append(f"embedder {name}: optional dependency missing")
            continue
        t0 = time.perf_counter()
        caches[(name, "equal crops")] = embed_scenes(scenes, name, progress)
        report.embed_seconds[name] = time.perf_counter() - t0

    predictors = [("lag", PREDICTORS.create("lag")), ("naive", PREDICTORS.create("naive"))]
    for (emb_name, cond), cache in caches.items():
        conditions = [(cond, False)] + ([("noise-substituted", True)] if cond == "equal crops" else [])
        for label, noise in conditions:
            # naive does not look at the embeddings: one row of it per dataset is enough
            for pred_name, pred in predictors if cond == "equal crops" else predictors[:1]:
                t0 = time.perf_counter()
                rng = np.random.default_rng(seed + 1)
                for p in pairs:
                    s = by_name[p.scene]
                    a, b = p.apply(cache[s.paths[p.a]], cache[s.paths[p.b]])
                    if noise:
                        b = noise_like(b, rng)
                    limited = SearchRange(max_offset_seconds=(max_offset_frames + 1) / p.fps, min_overlap_seconds=2.0)
                    est = pred.predict(SimilarityMatrix(a, b), limited)
                    report.outcomes.append(Outcome(s.dataset, label, emb_name, pred_name, s.name, s.cameras[p.a],
                                                   s.cameras[p.b], p.truth_seconds, est.offset_seconds,
                                                   est.confidence, p.fps))
                report.predict_seconds[pred_name] = report.predict_seconds.get(pred_name, 0.0) + \
                    time.perf_counter() - t0
    return report


def sesyn_entry(data_root, cache, progress):
    """Suite runner: renders (or reuses) the worlds, then :func:`run_sesyn_entry`."""
    from videosync.embed.sesyn import SeSynEmbedder

    if not SeSynEmbedder.is_available():
        return "the sesyn embedder needs torch, MediaPipe and its shipped weights"
    from videosync.eval.datasets import synth_unavailable

    why = synth_unavailable()
    if why:
        return why
    from videosync.eval.datasets import load_synthetic

    report = BenchReport()
    for kind, seeds, n in (("human", [0, 1, 2], 300), ("humans", [0, 1], 200)):
        scenes = load_synthetic(kind, cache, seeds=seeds, seconds=10.0, progress=progress)
        report.extend(run_sesyn_entry(scenes, n_pairs=n, progress=progress))
    return report
