"""The one-call facade: ``sync(paths) -> SyncResult``.

io (probe, decode) → embed (per video, once) → similarity (per pair, lazy) → predict
(per pair) → multiview (robust N-camera solve) → :class:`~videosync.result.SyncResult`.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import replace
from typing import Any, Callable, Sequence

from videosync._validation import check_choice, check_number
from videosync.diagnostics import similarity_thumbnail
from videosync.embed import EMBEDDERS, Embedder, Embedding
from videosync.errors import InvalidParameterError
from videosync.fusion import check_cues, measure_pairs
from videosync.io import VideoInfo, probe
from videosync.longmatch import is_long, match_pair, rate_evidence, solve_rates
from videosync.multiview import PairMeasurement
from videosync.multiview.solve import solve_robust
from videosync.predict import PREDICTORS, Predictor, SearchRange
from videosync.predict.lag import without_null
from videosync.result import CameraResult, PairResult, SyncResult
from videosync.similarity import SimilarityMatrix

ProgressFn = Callable[[str, str, float], None]
"""``progress(stage, item, fraction)``: stage is "embed" or "match"; fraction in [0, 1]."""

DEFAULT_EMBEDDER = "motion"
DEFAULT_PREDICTOR = "lag"
DEFAULT_MIN_CONFIDENCE = 0.5

SCREEN_MIN_CAMERAS = 12
"""From this many cameras (all pairs measured, no drift), every pair is first matched with
``lag``'s cheap margin confidence on the features' level alone and only each camera's :data:`SCREEN_PER_CAMERA` most
promising pairs get the null-profile confidence; the others are kept with confidence 0
(``details["screened_out"]``), so they do not enter the solve. The null profiles cost ~5× the
answer; with N cameras the pairs grow as N²."""
SCREEN_PER_CAMERA = 6


def sync(
    paths: Sequence[str | os.PathLike],
    *,
    embedder: str | Embedder = DEFAULT_EMBEDDER,
    predictor: str | Predictor = DEFAULT_PREDICTOR,
    embedder_params: dict[str, Any] | None = None,
    predictor_params: dict[str, Any] | None = None,
    reference: int = 0,
    pairs: Sequence[tuple[int, int]] | None = None,
    metric: str | None = None,
    temperature: float = 0.1,
    step_seconds: float | None = None,
    max_offset_seconds: float | None = None,
    min_overlap_seconds: float = 2.0,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    cues: Sequence[str] | str = ("visual",),
    progress: ProgressFn | None = None,
    drift: bool = False,
    solve: str = "peaks",
) -> SyncResult:
    """Find every video's offset relative to the reference video.

    Parameters
    ----------
    paths : sequence of paths
        Two or more videos of the same event. Only ever read.
    embedder, predictor : str or plug-in instance
        Registry names (see ``videosync plugins``) or instances.
    cues : sequence of {"visual", "audio", "pose", "geometry"} or a comma-separated string
        What to match on. ``("visual",)`` (default): the embedder and predictor above.
        ``"pose"`` (MediaPipe pose + ``lag``) and ``"geometry"`` (``tracks`` + ``epilines``)
        are further picture cues, fused like the sound (:data:`videosync.fusion.EXTRA_VISUAL_CUES`);
        on the footage measured so far they did not add right pairs (docs/geometric.md).
        With ``"audio"``, the sound tracks are matched too (``audio`` embedder, ``lag``
        predictor) and the cues' lag profiles are fused per pair, weighted by their
        confidences, then refined on the raw audio by GCC-PHAT (:mod:`videosync.fusion`).
        A video without sound, or a silent one, leaves the other cues to decide; a
        sound-only file (a recorder's .wav) is matched on its sound alone.
    reference : int
        Index of the reference video (offset 0).
    pairs : sequence of (i, j), optional
        Which pairs to measure (default: all). With all pairs of :data:`SCREEN_MIN_CAMERAS`
        or more cameras and ``lag``'s null confidence, pairs are screened first (see there;
        ``provenance["screening"]``).
    metric : {"cosine", "neg_sqeuclidean"}, optional
        Similarity metric (default: the embedder's).
    temperature : float
        Softmax temperature for predictors that use probabilities.
    step_seconds : float, optional
        Common time grid step (default: the finer of each pair's frame intervals).
    max_offset_seconds : float, optional
        Largest |offset| to consider (default: as far as the overlap rule allows).
    min_overlap_seconds : float
        A candidate offset must leave at least this much overlap (capped at half the
        shorter video).
    min_confidence : float
        Cameras below this confidence get status ``low_confidence``.
    drift : bool
        Also estimate each camera's clock rate (``CameraResult.drift_ppm``) from offsets
        measured in windows along the overlap (:mod:`videosync.longmatch`); offsets are then
        at the reference's time 0. With several cues, every cue is windowed and the rate is
        the most confident cue's that agrees with the fused offset
        (:func:`videosync.fusion.match_cues`): the sound measures it too. Pairs longer than
        ``longmatch.LONG_SECONDS`` are always matched coarse-to-fine (memory flat in duration).
    solve : {"peaks", "profiles"}
        N-camera solve from each pair's answer (default), or from every pair's whole lag
        profile (:func:`videosync.multiview.profiles.solve_with_profiles`: another peak of
        a pair's profile may win when it makes the cameras agree).

    Returns
    -------
    SyncResult
        ``offsets_seconds[cam]``: the instant shown at time t in the reference appears at
        time t + offset_seconds[cam] in cam's own timeline.
    """
    started = time.perf_counter()
    paths = [os.fspath(p) for p in paths]
    if len(paths) < 2:
        raise InvalidParameterError(f"sync needs at least 2 videos, got {len(paths)}")
    n = len(paths)
    check_number("sync", "reference", reference, low=0, high=n - 1, integer=True)
    check_number("sync", "min_confidence", min_confidence, low=0, high=1)
    check_choice("sync", "solve", solve, ("peaks", "profiles"))
    search = SearchRange(max_offset_seconds=max_offset_seconds, min_overlap_seconds=min_overlap_seconds)
    emb_obj = EMBEDDERS.resolve(embedder, **(embedder_params or {}))
    pred_obj = PREDICTORS.resolve(predictor, **(predictor_params or {}))
    metric = metric or emb_obj.default_metric
    pair_list = _pairs(n, pairs)
    cues = check_cues(cues)

    # Fail fast on bad input; with the sound as a cue, a sound-only file (a recorder) is an input too.
    infos: list[VideoInfo] = [probe(p, allow_audio_only="audio" in cues) for p in paths]
    embeddings: list[Embedding] = []
    visual_only = cues == ("visual",)
    for i, p in enumerate(paths if visual_only else ()):
        cb = (lambda f, _p=p: progress("embed", _p, f)) if progress else None
        embeddings.append(emb_obj.embed_video(p, progress=cb))

    measured: list[tuple[int, int, Any]] = []
    thumbnails = []
    fits = {}
    screen = (visual_only and not drift and pairs is None and n >= SCREEN_MIN_CAMERAS
              and without_null(pred_obj) is not pred_obj)
    first = without_null(pred_obj, level_only=True) if screen else pred_obj
    for k, (i, j) in enumerate(pair_list if visual_only else ()):
        sim = SimilarityMatrix(
            embeddings[i], embeddings[j], metric=metric, step_seconds=step_seconds, temperature=temperature
        )
        if drift or is_long(embeddings[i], embeddings[j]):
            m = match_pair(embeddings[i], embeddings[j], pred_obj, search=search, metric=metric, drift=drift,
                           step_seconds=step_seconds, temperature=temperature)
            est, fits[k] = m.estimate, m
        else:
            est = first.predict(sim, search)
        measured.append((i, j, est))
        thumbnails.append(similarity_thumbnail(sim))  # ≤ 128 × 128, for review pages
        if progress:
            progress("match", f"{paths[i]} ~ {paths[j]}", (k + 1) / len(pair_list))
    screened = None
    if screen:
        keep = screen_pairs(n, [(i, j, e.confidence) for i, j, e in measured], SCREEN_PER_CAMERA)
        for k, (i, j, est) in enumerate(measured):
            if k in fits:
                continue
            if k in keep:
                sim = SimilarityMatrix(embeddings[i], embeddings[j], metric=metric, step_seconds=step_seconds,
                                       temperature=temperature)
                measured[k] = (i, j, pred_obj.predict(sim, search))
            else:
                measured[k] = (i, j, replace(est, confidence=0.0, details={
                    **est.details, "screened_out": True, "margin_confidence": est.confidence}))
        screened = {"per_camera": SCREEN_PER_CAMERA, "pairs_confirmed": len(keep), "pairs": len(measured)}
    if not visual_only:  # several cues: fused per pair (videosync.fusion)
        measured, thumbnails = measure_pairs(
            paths, infos, pair_list, cues, visual_embedder=emb_obj, visual_predictor=pred_obj, metric=metric,
            temperature=temperature, step_seconds=step_seconds, search=search, progress=progress,
            drift=drift, matches=fits,
        )

    meas = [PairMeasurement(i, j, e.offset_seconds, e.confidence) for i, j, e in measured]
    tol = max(0.15, 1.5 / min(info.fps for info in infos))
    if solve == "profiles":
        from videosync.multiview.profiles import solve_with_profiles

        profiles = [None if e.scores is None or e.lags_seconds is None else (e.lags_seconds, e.scores)
                    for _, _, e in measured]
        sol = solve_with_profiles(n, meas, profiles, reference=reference, tolerance_seconds=tol).solution
    else:
        # Several starts (plain, consistency-checked spanning trees), the one explaining the most
        # evidence kept: with many cameras, pairs that do not overlap but match a repeating
        # scene can outnumber the right ones in a plain start.
        sol = solve_robust(n, meas, reference=reference, tolerance_seconds=tol)
    ppm, ppm_known = solve_rates(
        n, [(i, j, fits[k].drift_ppm, rate_evidence(fits[k], min_confidence)) for k, (i, j, _) in enumerate(measured)
            if k in fits and rate_evidence(fits[k], min_confidence) > 0], reference=reference)
    cams = []
    for c, info in enumerate(infos):
        if c == reference:
            status = "reference"
        elif sol.confidence[c] >= min_confidence and sol.connected[c]:
            status = "synced"
        else:
            status = "low_confidence"
        off = float(sol.offsets_seconds[c])
        cams.append(
            CameraResult(
                path=paths[c],
                offset_seconds=off,
                offset_frames=off * info.fps,
                fps=info.fps,
                confidence=float(sol.confidence[c]),
                status=status,
                residual_seconds=None if c == reference or sol.residual_seconds[c] != sol.residual_seconds[c]
                else float(sol.residual_seconds[c]),
                info=info,
                drift_ppm=float(ppm[c]) if drift else 0.0,
            )
        )
    pair_results = tuple(
        PairResult(i, j, e.offset_seconds, e.confidence, bool(sol.pair_used[k]),
                   float(sol.pair_residual_seconds[k]), e, similarity_thumbnail=thumbnails[k])
        for k, (i, j, e) in enumerate(measured)
    )
    from videosync import __version__

    embed_details = {paths[c]: e.details for c, e in enumerate(embeddings) if e.details}
    provenance = {
        "videosync_version": __version__,
        "embedder": {"name": emb_obj.name, "params": _jsonable(emb_obj.get_params())},
        "predictor": {"name": pred_obj.name, "params": _jsonable(pred_obj.get_params())},
        "similarity": {"metric": metric, "temperature": temperature, "step_seconds": step_seconds},
        "cues": list(cues),
        "search": {
            "max_offset_seconds": max_offset_seconds,
            "min_overlap_seconds": min_overlap_seconds,
        },
        "min_confidence": min_confidence,
        "solve": solve,
        **({"embeddings": embed_details} if embed_details else {}),
        **({"screening": screened} if screened else {}),
        **({"drift": {"fits": {f"{paths[i]} ~ {paths[j]}": fits[k].fit.to_dict() for k, (i, j, _) in
                               enumerate(measured) if k in fits and fits[k].fit is not None},
                      "rate_measured": {p: bool(ppm_known[c]) for c, p in enumerate(paths)}}} if fits else {}),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    return SyncResult(tuple(cams), pair_results, reference, provenance)


def screen_pairs(n: int, scored: Sequence[tuple[int, int, float]], per_camera: int) -> set[int]:
    """Indices into ``scored`` (``(a, b, confidence)`` per pair) of each camera's
    ``per_camera`` most confident pairs (their union)."""
    keep: set[int] = set()
    for cam in range(n):
        mine = [k for k, (a, b, _) in enumerate(scored) if cam in (a, b)]
        mine.sort(key=lambda k: scored[k][2], reverse=True)
        keep.update(mine[:per_camera])
    return keep


def _pairs(n: int, pairs: Sequence[tuple[int, int]] | None) -> list[tuple[int, int]]:
    if pairs is None:
        return list(itertools.combinations(range(n), 2))
    out = []
    for p in pairs:
        if len(p) != 2:
            raise InvalidParameterError(f"a pair must name two videos, got {p!r}")
        i, j = int(p[0]), int(p[1])
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise InvalidParameterError(f"pair {p!r} is not two different indices in 0..{n - 1}")
        out.append((i, j))
    if not out:
        raise InvalidParameterError("no pairs to measure")
    return out


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            out[k] = v
        elif isinstance(v, (list, tuple)):
            out[k] = list(v)
        else:
            out[k] = repr(v)
    return out
