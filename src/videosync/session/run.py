"""``sync_session``: every clip of a shoot on one session timeline.

1. **Layout and metadata** (:mod:`videosync.session.metadata`): cameras → clips in recording
   order; record starts from time codes or ``creation_time`` when present.
2. **Embed once per clip** (streaming decode; memory per clip is its feature rows only).
3. **Candidate pairs**: clips of *different* cameras only (a camera's own clips are never
   matched against each other). When both clips carry a record start (same kind), pairs whose
   coarse spans, widened by ``prune_seconds``, do not meet are skipped at first; a clip that
   ends with no usable pair is then matched against every clip of the other cameras, so a
   camera whose clock is set wrong is not lost.
4. **Pairwise offsets** with :func:`videosync.longmatch.match_pair` (coarse-to-fine for long
   clips; windows and a robust offset + rate fit with ``drift``).
5. **Rates** (``drift``): one clock rate per camera, from the pairs' fitted rates, by the robust
   solve of :func:`videosync.multiview.solve_offsets` over cameras (the reference camera's clock
   is the session clock).
6. **Starts**: one robust solve over clips with :func:`~videosync.multiview.solve_offsets`:
   measured pairs (tight tolerance) and, between consecutive clips of one camera, their record
   starts as loose priors (``metadata_confidence``).
7. **Status**: ``synced`` (placed by measured pairs, confidence ≥ ``min_confidence``),
   ``low_confidence`` (placed, but only weakly or through metadata), ``unsynced`` (no usable
   evidence; kept with ``start_seconds`` None). If two clips of one camera would overlap, the
   less confident one is set ``unsynced``. Session zero = the earliest synced clip.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from videosync._validation import check_number
from videosync.embed import EMBEDDERS, Embedder
from videosync.errors import InvalidParameterError, VideoSyncError
from videosync.fusion import check_cues, match_cues, resolve_refiner
from videosync.longmatch import PairMatch, match_pair, rate_evidence, solve_rates
from videosync.multiview import PairMeasurement, solve_offsets
from videosync.multiview.solve import consistent_forest, evidence_mass
from videosync.predict import PREDICTORS, Predictor, SearchRange
from videosync.session.metadata import ClipMetadata, clip_metadata, scan_shoot
from videosync.session.model import SessionCamera, SessionClip, SessionResult

ProgressFn = Callable[[str, str, float], None]
"""``progress(stage, item, fraction)``: stage is "embed" or "match"."""

SESSION_CUES = ("visual", "audio", "metadata")
"""Cue names :func:`sync_session` accepts."""
DEFAULT_CUES = ("visual", "metadata")
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_EDGE_CONFIDENCE = 0.25
METADATA_TOLERANCE = {"timecode": 0.1, "creation_time": 2.5}


@dataclass
class _Clip:
    camera: int
    path: str
    duration: float = 0.0
    fps: float = 30.0
    meta: ClipMetadata | None = None
    embedding: Any = None
    error: str | None = None
    info: Any = None
    sound: Any = None
    """The audio embedding (with the audio cue)."""

    @property
    def has_video(self) -> bool:
        return self.info is None or getattr(self.info, "has_video", True)


@dataclass
class _Pair:
    i: int
    j: int
    match: PairMatch
    t_mid: float
    """Middle of the overlap on clip i's timeline (where a constant offset is measured)."""


def sync_session(
    shoot: str | os.PathLike | Sequence[tuple[str, Sequence[str]]],
    *,
    embedder: str | Embedder = "motion",
    predictor: str | Predictor = "lag",
    embedder_params: dict[str, Any] | None = None,
    predictor_params: dict[str, Any] | None = None,
    drift: bool = False,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    edge_confidence: float = DEFAULT_EDGE_CONFIDENCE,
    min_overlap_seconds: float = 2.0,
    prune_seconds: float | None = 300.0,
    metadata_confidence: float = 0.3,
    cues: Sequence[str] | str = DEFAULT_CUES,
    progress: ProgressFn | None = None,
) -> SessionResult:
    """Place every clip of a shoot on one session timeline.

    Args:
        shoot: a folder ``shoot/<camera>/<clips...>``, or ``[(camera name, [clip paths])]``
            with each camera's clips in recording order.
        embedder, predictor: registry names or instances (as :func:`videosync.sync`).
        drift: estimate one clock rate per camera (windows along long overlaps).
        min_confidence: a placed clip below this is ``low_confidence``.
        edge_confidence: pairs below this are not used at all.
        min_overlap_seconds: a candidate offset must leave this much overlap.
        prune_seconds: with record starts on both clips, skip pairs whose spans widened by
            this do not meet (None: measure every cross-camera pair).
        metadata_confidence: weight of a camera's record-start difference between consecutive
            clips (a loose prior; 0 disables it).
        cues: what to match on, any of ``visual``, ``audio``, ``metadata`` (a sequence or a
            comma-separated string). ``visual``: the embedder and predictor above. ``audio``:
            the sound tracks, fused with the picture per pair as :func:`videosync.sync` does
            (:func:`videosync.fusion.match_cues`, GCC-PHAT refinement); sound-only files
            (a recorder's .wav, .flac, .mp3, .m4a) become clips matched on sound alone.
            ``metadata``: record starts (time code, ``creation_time``) order a camera's
            clips, prune far-apart pairs and place clips no pair places; without it file
            metadata is ignored. Default ``("visual", "metadata")``.

    Returns:
        A :class:`SessionResult`: every clip, ``synced``, ``low_confidence`` or ``unsynced``.
    """
    started = time.perf_counter()
    check_number("sync_session", "min_confidence", min_confidence, low=0, high=1)
    check_number("sync_session", "edge_confidence", edge_confidence, low=0, high=1)
    check_number("sync_session", "metadata_confidence", metadata_confidence, low=0, high=1)
    check_number("sync_session", "prune_seconds", prune_seconds, low=0, allow_none=True)
    cues = _check_session_cues(cues)
    use_meta = "metadata" in cues
    match_on = tuple(c for c in cues if c != "metadata")
    if not use_meta:
        prune_seconds, metadata_confidence = None, 0.0
    layout = scan_shoot(shoot, audio="audio" in cues) if isinstance(shoot, (str, os.PathLike)) else [
        (str(n), [os.fspath(p) for p in ps]) for n, ps in shoot]
    emb_obj = EMBEDDERS.resolve(embedder, **(embedder_params or {}))
    pred_obj = PREDICTORS.resolve(predictor, **(predictor_params or {}))
    metric = emb_obj.default_metric
    predictors = {"visual": (pred_obj, metric)}
    sound_emb = None
    if "audio" in match_on:
        sound_emb = EMBEDDERS.create("audio")
        predictors["audio"] = (PREDICTORS.create("lag"), sound_emb.default_metric)
    refine = resolve_refiner("gcc-phat", match_on)

    clips: list[_Clip] = []
    cam_clips: list[list[int]] = []
    for k, (_, paths) in enumerate(layout):
        found = [_read_clip(k, p, use_meta, "audio" in match_on) for p in paths]
        if all(c.meta is not None and c.meta.record_start_seconds is not None for c in found):
            found.sort(key=lambda c: c.meta.record_start_seconds)  # record order beats file names
        cam_clips.append(list(range(len(clips), len(clips) + len(found))))
        clips += found
    for n, c in enumerate(clips):
        if c.error is None:
            cb = (lambda f, _p=c.path: progress("embed", _p, f)) if progress else None
            try:
                if "visual" in match_on and c.has_video:
                    c.embedding = emb_obj.embed_video(c.path, progress=cb)
                if sound_emb is not None:
                    c.sound = sound_emb.embed_audio(c.info)
            except VideoSyncError as exc:
                c.error = str(exc)

    search = SearchRange(min_overlap_seconds=min_overlap_seconds)
    candidates = [(i, j) for i in range(len(clips)) for j in range(i + 1, len(clips))
                  if clips[i].camera != clips[j].camera and clips[i].error is None and clips[j].error is None]
    first = [p for p in candidates if not _pruned(clips[p[0]], clips[p[1]], prune_seconds)]
    pairs: list[_Pair] = []
    done: set[tuple[int, int]] = set()

    def measure(todo):
        for n, (i, j) in enumerate(todo):
            if match_on == ("visual",):  # one cue: as before fusion existed
                m = match_pair(clips[i].embedding, clips[j].embedding, pred_obj, search=search, metric=metric,
                               drift=drift)
            else:
                embs = {"visual": (clips[i].embedding, clips[j].embedding),
                        "audio": (clips[i].sound, clips[j].sound)}
                m = match_cues({c: embs[c] for c in match_on}, predictors, clips[i].info, clips[j].info,
                               search=search, drift=drift, refine=refine)
            pairs.append(_Pair(i, j, m, _overlap_mid(clips[i], clips[j], m)))
            done.add((i, j))
            if progress:
                progress("match", f"{clips[i].path} ~ {clips[j].path}", (n + 1) / len(todo))

    measure(first)
    lonely = {c for c in range(len(clips)) if clips[c].error is None} - {
        x for p in pairs if p.match.confidence >= edge_confidence for x in (p.i, p.j)}
    measure([p for p in candidates if p not in done and (p[0] in lonely or p[1] in lonely)])

    # A consistency-checked spanning forest (rate 1) picks the main group and its reference clip,
    # whose camera's clock becomes the session clock.
    x0, group = _consistent_forest(clips, _edges(pairs, clips, np.zeros(len(layout))), edge_confidence)
    ref_clip = _reference_clip(clips, pairs, group, edge_confidence)
    eps_ppm, rate_known = _camera_rates(len(layout), clips, pairs, clips[ref_clip].camera, min_confidence) \
        if drift else (np.zeros(len(layout)), np.ones(len(layout), bool))
    rate = 1.0 / (1.0 + eps_ppm * 1e-6)  # session seconds per camera second

    edges = _edges(pairs, clips, eps_ppm)
    meta_edges: list[PairMeasurement] = []
    if metadata_confidence > 0:
        for k, members in enumerate(cam_clips):
            for i, j in zip(members, members[1:]):
                mi, mj = clips[i].meta, clips[j].meta
                if mi is None or mj is None or mi.source is None or mi.source != mj.source:
                    continue
                d = mj.record_start_seconds - mi.record_start_seconds
                meta_edges.append(PairMeasurement(i, j, -rate[k] * d, metadata_confidence,
                                                  METADATA_TOLERANCE[mi.source]))
    n_clips = len(clips)
    # Only the reference's group is solved: a lone pair bridging two groups that the forest kept
    # apart (it would make a camera's clips overlap) must not pull a group in.
    main = group == group[ref_clip]
    sol = solve_offsets(n_clips, [e for e in edges if main[e.a] and main[e.b]], reference=ref_clip,
                        tolerance_seconds=0.15, min_confidence=edge_confidence, initial_offsets_seconds=x0)
    offsets = np.array(sol.offsets_seconds, dtype=float)
    connected = np.array(sol.connected, bool)
    clip_conf = np.array(sol.confidence, dtype=float)
    measured_used = np.zeros(n_clips, bool)
    evidence = np.ones(n_clips)  # prod(1 - c) over used measured pairs
    for e, used in zip([e for e in edges if main[e.a] and main[e.b]], sol.pair_used):
        if used:
            for x in (e.a, e.b):
                measured_used[x] = True
                evidence[x] *= 1.0 - e.confidence
    meta_placed = np.zeros(n_clips, bool)
    if meta_edges:
        # Metadata only places what the measured pairs leave unplaced (a loose prior must not
        # pull well-measured clips).
        sol2 = solve_offsets(n_clips, edges + meta_edges, reference=ref_clip, tolerance_seconds=0.15,
                             min_confidence=edge_confidence, initial_offsets_seconds=offsets)
        meta_placed = np.array(sol2.connected, bool) & ~(connected & (measured_used | (np.arange(n_clips) == ref_clip)))
        if meta_placed.any() and not measured_used[ref_clip]:
            meta_placed[ref_clip] = True  # e.g. one camera with time codes: all placed by them
        offsets[meta_placed] = np.asarray(sol2.offsets_seconds)[meta_placed]
        clip_conf[meta_placed] = np.minimum(np.asarray(sol2.confidence)[meta_placed], metadata_confidence)

    starts: list[float | None] = []
    status: list[str] = []
    conf = np.zeros(n_clips)
    reasons: dict[int, str] = {}
    for n, c in enumerate(clips):
        alone = n_clips == 1
        by_measure = bool(connected[n]) and (alone or measured_used[n])
        placed = c.error is None and (by_measure or bool(meta_placed[n]))
        starts.append(-float(offsets[n]) if placed else None)
        if n == ref_clip and not meta_placed[n]:
            conf[n] = 1.0 if alone else 1.0 - evidence[n]
        elif placed:
            conf[n] = float(clip_conf[n])
        if not placed:
            status.append("unsynced")
            if c.error is None:
                reasons[n] = ("matched only clips that share no overlap with the rest of the session"
                              if (group == group[n]).sum() > 1 else
                              "no match with another camera's clips reached the usable confidence")
        elif by_measure and (alone or conf[n] >= min_confidence):
            status.append("synced")
        else:
            status.append("low_confidence")
            reasons[n] = "placed by file metadata only" if not by_measure else "weak match"
    reasons.update(_no_overlap(clips, cam_clips, starts, status, conf, rate))

    synced = [s for s, st in zip(starts, status) if st == "synced" and s is not None]
    placed = [s for s in starts if s is not None]
    zero = min(synced) if synced else (min(placed) if placed else 0.0)
    cameras = []
    for k, (name, _) in enumerate(layout):
        out = []
        for n in cam_clips[k]:
            c = clips[n]
            r = float(rate[k]) if drift else 1.0
            details = {}
            if c.error:
                details["error"] = c.error
            if n in reasons:
                details["reason"] = reasons[n]
            if c.meta is not None and c.meta.source:
                details["record_start"] = c.meta.source
            if not c.has_video:
                details["sound_only"] = True
            if drift and not rate_known[k]:
                details["rate"] = "not measured (no long overlap with a camera of known rate)"
            out.append(SessionClip(
                path=c.path,
                start_seconds=None if starts[n] is None else starts[n] - zero,
                rate=r,
                drift_ppm=(r - 1.0) * 1e6,
                confidence=float(np.clip(conf[n], 0, 1)),
                status=status[n],  # type: ignore[arg-type]
                duration_seconds=c.duration,
                details=details,
            ))
        cameras.append(SessionCamera(name, tuple(out)))

    from videosync import __version__
    from videosync.pipeline import _jsonable

    in_main = [k for k, e in enumerate(edges) if main[e.a] and main[e.b]]
    used = {k: bool(u) for k, u in zip(in_main, sol.pair_used)}

    provenance = {
        "videosync_version": __version__,
        "embedder": {"name": emb_obj.name, "params": _jsonable(emb_obj.get_params())},
        "predictor": {"name": pred_obj.name, "params": _jsonable(pred_obj.get_params())},
        "cues": list(cues),
        "drift": drift,
        "min_confidence": min_confidence,
        "edge_confidence": edge_confidence,
        "prune_seconds": prune_seconds,
        "reference_clip": clips[ref_clip].path if clips else None,
        "pairs_possible": len(candidates),
        "pairs_measured": len(pairs),
        "pairs": [
            {"a": clips[p.i].path, "b": clips[p.j].path, "offset_seconds": round(p.match.offset_seconds, 6),
             "confidence": round(p.match.confidence, 4), "mode": p.match.mode,
             "drift_ppm": round(p.match.drift_ppm, 3), "used": bool(used.get(k, False)),
             "cues": list(p.match.estimate.details.get("cues_used", match_on))}
            for k, p in enumerate(pairs)
        ] if clips else [],
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    return SessionResult(tuple(cameras), provenance)


def _check_session_cues(cues: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(cues, str):
        cues = [c.strip() for c in cues.split(",") if c.strip()]
    cues = tuple(dict.fromkeys(str(c) for c in cues))
    bad = [c for c in cues if c not in SESSION_CUES]
    if bad:
        raise InvalidParameterError(f"unknown cue {bad[0]!r}; valid: {', '.join(SESSION_CUES)}")
    if not any(c != "metadata" for c in cues):
        raise InvalidParameterError("cues must include visual or audio (metadata alone places nothing)")
    check_cues([c for c in cues if c != "metadata"])
    return cues


def _read_clip(camera: int, path: str, use_meta: bool = True, sound_only_ok: bool = False) -> _Clip:
    from videosync.io import probe

    c = _Clip(camera, path)
    try:
        info = probe(path, allow_audio_only=sound_only_ok)
    except VideoSyncError as exc:
        c.error = str(exc)
        return c
    c.info = info
    c.duration, c.fps = info.duration_seconds, info.fps
    if use_meta:
        c.meta = clip_metadata(path, info.fps)
    return c


def _pruned(a: _Clip, b: _Clip, prune_seconds: float | None) -> bool:
    """True when both clips' record starts (same kind) put them farther apart than allowed."""
    if prune_seconds is None or a.meta is None or b.meta is None:
        return False
    if a.meta.source is None or a.meta.source != b.meta.source:
        return False
    sa, sb = a.meta.record_start_seconds, b.meta.record_start_seconds
    return sb > sa + a.duration + prune_seconds or sa > sb + b.duration + prune_seconds


def _overlap_mid(a: _Clip, b: _Clip, m: PairMatch) -> float:
    """Middle of the overlap on a's timeline at the pair's offset (a's τ ↔ b's τ + offset)."""
    o = m.offset_seconds
    lo, hi = max(0.0, -o), min(a.duration, b.duration - o)
    return 0.5 * (lo + hi) if hi > lo else 0.0


def _edges(pairs: list[_Pair], clips: list[_Clip], eps_ppm: np.ndarray) -> list[PairMeasurement]:
    """Measured pairs as constraints on x = −start: x_j − x_i = rate_j · (offset at clip i's local 0)."""
    out = []
    for p in pairs:
        a, b = clips[p.i].camera, clips[p.j].camera
        delta = (1.0 + eps_ppm[b] * 1e-6) / (1.0 + eps_ppm[a] * 1e-6) - 1.0
        fit = p.match.fit
        if fit is not None and fit.n_inliers:
            o_mid = fit.offset_at(p.t_mid) if fit.fitted_rate else fit.offset_seconds
        else:
            o_mid = p.match.offset_seconds
        o0 = o_mid - delta * p.t_mid  # offset at clip i's local 0, with the cameras' rates
        tol = max(0.15, 1.5 / min(clips[p.i].fps, clips[p.j].fps))
        out.append(PairMeasurement(p.i, p.j, o0 / (1.0 + eps_ppm[b] * 1e-6), p.match.confidence, tol))
    return out


def _consistent_forest(clips: list[_Clip], edges: list[PairMeasurement], floor: float,
                       cycle_tolerance: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~videosync.multiview.solve.consistent_forest` over clips (x = −start): a pair
    joins two groups only if no two clips of one camera would then overlap. Each order of the
    forest is grown ("support" first) and the one whose placement explains the most evidence
    is kept (:func:`_forest_mass`): a scene that repeats gives pairs that agree on a wrong
    placement, and one order alone can follow them (tests/test_session.py)."""
    best, best_mass = None, -np.inf
    for order in ("support", "product", "confidence"):
        x, group = consistent_forest(len(clips), edges, floor=floor, cycle_tolerance=cycle_tolerance, order=order,
                                     can_join=lambda la, xa, lb, xb: not _would_overlap(clips, la, xa, lb, xb))
        mass = _forest_mass(x, group, edges)
        if mass > best_mass + 1e-9:
            best, best_mass = (x, group), mass
    return best


def _forest_mass(x: np.ndarray, group: np.ndarray, edges: list[PairMeasurement]) -> float:
    """Evidence a forest's placement explains (:func:`~videosync.multiview.solve.evidence_mass`
    of the pairs within one group; pairs between groups explain nothing)."""
    inside = [e for e in edges if group[e.a] == group[e.b]]
    return evidence_mass(inside, [x[e.b] - x[e.a] - e.offset_seconds for e in inside], 0.15)


def _would_overlap(clips, left, x_left, right, x_right, slack: float = 0.5) -> bool:
    for i, xi in zip(left, x_left):
        for j, xj in zip(right, x_right):
            if clips[i].camera != clips[j].camera:
                continue
            lo, hi = max(-xi, -xj), min(-xi + clips[i].duration, -xj + clips[j].duration)
            if hi - lo > slack:
                return True
    return False


def _reference_clip(clips: list[_Clip], pairs: list[_Pair], group: np.ndarray, floor: float) -> int:
    """A clip of the largest group (most clips, then duration), the one with the most evidence."""
    if not clips:
        return 0
    strength = np.zeros(len(clips))
    for p in pairs:
        if p.match.confidence >= floor and group[p.i] == group[p.j]:
            strength[p.i] += p.match.confidence
            strength[p.j] += p.match.confidence
    groups: dict[int, list[int]] = {}
    for x in range(len(clips)):
        groups.setdefault(int(group[x]), []).append(x)
    best = max(groups.values(), key=lambda g: (len(g), sum(clips[x].duration for x in g)))
    return max(best, key=lambda x: (strength[x], clips[x].duration))


def _camera_rates(n_cams: int, clips: list[_Clip], pairs: list[_Pair], ref_cam: int, min_conf: float):
    """Per camera: clock rate error ε (ppm) against the reference camera, and whether measured."""
    rates = [(clips[p.i].camera, clips[p.j].camera, p.match.drift_ppm, rate_evidence(p.match, min_conf))
             for p in pairs]
    return solve_rates(n_cams, [r for r in rates if r[3] > 0], reference=ref_cam)


def _no_overlap(clips, cam_clips, starts, status, conf, rate) -> dict[int, str]:
    """Clips of one camera never overlap: the less confident of two overlapping clips is unsynced."""
    reasons: dict[int, str] = {}
    for k, members in enumerate(cam_clips):
        while True:
            placed = sorted((starts[n], n) for n in members if starts[n] is not None)
            clash = None
            for (s0, a), (s1, b) in zip(placed, placed[1:]):
                slack = max(0.5, 2.0 / min(clips[a].fps, clips[b].fps))
                if s0 + rate[k] * clips[a].duration > s1 + slack:
                    clash = (a, b)
                    break
            if clash is None:
                break
            a, b = clash
            loser, winner = (a, b) if conf[a] < conf[b] else (b, a)
            starts[loser] = None
            status[loser] = "unsynced"
            conf[loser] = min(conf[loser], 0.05)
            reasons[loser] = f"would overlap {os.path.basename(clips[winner].path)} of the same camera"
    return reasons
