"""Fusion of several cues (what the cameras see, what they hear) into one pairwise offset.

Each cue gives, per pair of videos, a lag profile (a score per candidate offset) and a
confidence (:class:`CueProfile`). :func:`fuse_profiles` puts them on one lag grid (the
finest step of the cues, over the lags every cue scored), rescales each so that its median
is 0 and its peak 1 (a cue's scale and sharpness do not make it louder), and averages them
with weights ``max(confidence, min_weight)``: a confident cue decides, an ambiguous one
(two equal peaks, confidence ≈ 0) still votes with its shape so that another cue can break
the tie, and a cue with no evidence at all (no audio stream, silence: no finite score) is
left out. The fused profile's peak, its sub-step position and its confidence are read the
way the ``lag`` predictor reads one profile (peak margin over the best other local maximum
farther than ``exclusion_seconds``, in standard deviations, :func:`~videosync.predict.lag.margin_confidence`),
capped by the cues that gave this answer themselves (``1 − Π(1 − confidence)`` over the cues
whose own offset is within half ``exclusion_seconds`` or 1.5 steps of it; none: 0). So one
usable cue gives back exactly that cue's estimate, agreeing cues raise the confidence while disagreeing ones lower it, and
cues that each found nothing cannot add up to a confident answer (averaging profiles shrinks
their spread and sharpens the margin; on real footage, docs/geometric.md, it had accepted 15
fused answers of which 13 were wrong).

:func:`measure_pairs` is what :func:`videosync.sync` runs for ``cues=("visual", "audio")``:
embed each video once per cue, score every pair per cue, fuse, and — when the sound is a
cue — refine the fused offset on the raw audio (GCC-PHAT, :mod:`videosync.refine.gcc_phat`).
Audio offsets include the sound's travel time (≈ 2.9 ms per metre of difference in the two
cameras' distances to the source; ``docs/audio.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from videosync._validation import check_number
from videosync.errors import InvalidParameterError
from videosync.predict.base import OffsetEstimate, SearchRange
from videosync.predict.lag import _local_maxima, margin_confidence, parabolic_offset

CUES = ("visual", "audio", "pose", "geometry")
"""Cue names :func:`videosync.sync` accepts."""

EXTRA_VISUAL_CUES = {"pose": ("pose", "lag"), "geometry": ("tracks", "epilines")}
"""Picture cues besides ``visual`` (the user's embedder and predictor): cue → (embedder,
predictor). ``pose``: MediaPipe body pose (needs the ``pose`` extra); ``geometry``: epipolar
lines of moving points under the background's fundamental matrix (docs/geometric.md). A cue
that finds nothing in a pair (no person, no background geometry) has no vote there."""


def check_cues(cues: Sequence[str] | str) -> tuple[str, ...]:
    """Cue names as a tuple in the given order, each known and once."""
    if isinstance(cues, str):
        cues = [c.strip() for c in cues.split(",") if c.strip()]
    out = tuple(dict.fromkeys(str(c) for c in cues))
    if not out:
        raise InvalidParameterError("cues must name at least one cue; valid: " + ", ".join(CUES))
    bad = [c for c in out if c not in CUES]
    if bad:
        raise InvalidParameterError(f"unknown cue {bad[0]!r}; valid: {', '.join(CUES)}")
    return out


@dataclass(frozen=True, repr=False)
class CueProfile:
    """One cue's evidence for one pair: a score per candidate offset, and its confidence."""

    name: str
    lags_seconds: np.ndarray
    """(L,) increasing candidate offsets of b relative to a (timebase convention)."""
    scores: np.ndarray
    """(L,) higher is better; NaN where the lag is not a candidate."""
    confidence: float
    """The cue's own confidence in [0, 1]."""
    estimate: OffsetEstimate | None = None
    """The cue's own answer (its sub-step offset is used when it agrees with the fusion)."""
    step_seconds: float | None = None

    def __post_init__(self) -> None:
        lags = np.asarray(self.lags_seconds, np.float64)
        s = np.asarray(self.scores, np.float64)
        if lags.shape != s.shape or lags.ndim != 1:
            raise InvalidParameterError("lags_seconds and scores must be 1-D arrays of one length")
        object.__setattr__(self, "lags_seconds", lags)
        object.__setattr__(self, "scores", s)
        if self.step_seconds is None:
            step = float(np.median(np.diff(lags))) if lags.size > 1 else 1.0
            object.__setattr__(self, "step_seconds", step)

    @property
    def usable(self) -> bool:
        return int(np.isfinite(self.scores).sum()) >= 3

    def __repr__(self) -> str:
        return f"CueProfile({self.name!r}, lags={self.lags_seconds.size}, confidence={self.confidence:.3f})"

    @classmethod
    def from_estimate(cls, name: str, est: OffsetEstimate, sim=None, search: SearchRange | None = None) -> "CueProfile":
        """A cue profile from a predictor's answer: its scored lags, masked by the search
        range's overlap rule when the similarity matrix is given. A predictor that returns
        no scores becomes a narrow bump at its answer, or no evidence at all (not usable)
        when its confidence is 0 (e.g. ``epilines`` finding no background geometry: its
        "answer" 0 must not vote)."""
        if est.lags_seconds is None or est.scores is None or np.size(est.scores) < 3:
            step = sim.step_seconds if sim is not None else 1.0 / 30
            lags = est.offset_seconds + np.arange(-10, 11) * step
            if not est.confidence > 0:  # no scores and no confidence: no evidence (e.g. no geometry found)
                return cls(name, lags, np.full(lags.shape, np.nan), 0.0, est, step)
            return cls(name, lags, np.exp(-0.5 * ((lags - est.offset_seconds) / step) ** 2), est.confidence, est, step)
        lags = np.asarray(est.lags_seconds, np.float64)
        s = np.asarray(est.scores, np.float64).copy()
        step = None
        if sim is not None:
            step = sim.step_seconds
            steps = np.rint(lags / step).astype(np.int64)
            n, m = sim.shape
            d = steps - sim.start_offset_steps
            overlap = np.maximum(0, np.minimum(n, m - d) - np.maximum(0, -d))
            s[~(search or SearchRange()).allowed_lags(steps, overlap, sim)] = np.nan
        order = np.argsort(lags)
        return cls(name, lags[order], s[order], est.confidence, est, step)


def fuse_profiles(profiles: Sequence[CueProfile], *, min_weight: float = 0.1,
                  exclusion_seconds: float = 0.2) -> OffsetEstimate:
    """One estimate from several cues' lag profiles (see the module docstring).

    Args:
        profiles: The cues of one pair (b relative to a).
        min_weight: A cue's weight is ``max(confidence, min_weight)``.
        exclusion_seconds: Local maxima closer than this to the peak are not runners-up.

    Returns:
        OffsetEstimate: on the common grid (``lags_seconds``, fused ``scores``), with
        ``details`` giving each cue's own offset, confidence and weight.
    """
    check_number("fuse_profiles", "min_weight", min_weight, low=0, high=1)
    details: dict[str, Any] = {"cues": "+".join(p.name for p in profiles)}
    for p in profiles:
        details[f"{p.name}_usable"] = p.usable
        details[f"{p.name}_confidence"] = round(float(p.confidence), 4) if p.usable else 0.0
        if p.estimate is not None and p.usable:
            details[f"{p.name}_offset_seconds"] = float(p.estimate.offset_seconds)
    usable = [p for p in profiles if p.usable]
    if not usable:
        return OffsetEstimate(0.0, 0.0, details={**details, "reason": "no cue has a usable lag profile"})
    if len(usable) == 1 and usable[0].estimate is not None:
        only = usable[0].estimate
        return OffsetEstimate(only.offset_seconds, only.confidence, lags_seconds=only.lags_seconds,
                              scores=only.scores, overlap_seconds=only.overlap_seconds,
                              details={**details, **only.details, "fused_from": usable[0].name})

    step = min(float(p.step_seconds) for p in usable)
    lo = max(np.nanmin(np.where(np.isfinite(p.scores), p.lags_seconds, np.nan)) for p in usable)
    hi = min(np.nanmax(np.where(np.isfinite(p.scores), p.lags_seconds, np.nan)) for p in usable)
    if hi - lo < 2 * step:  # the cues scored disjoint ranges: fuse over the union
        lo = min(float(p.lags_seconds[0]) for p in usable)
        hi = max(float(p.lags_seconds[-1]) for p in usable)
    grid = np.arange(int(np.ceil(lo / step - 1e-9)), int(np.floor(hi / step + 1e-9)) + 1) * step
    if grid.size < 3:
        return OffsetEstimate(0.0, 0.0, details={**details, "reason": "fewer than 3 common candidate lags"})
    total = np.zeros(grid.size)
    weight_sum = 0.0
    for p in usable:
        fin = np.isfinite(p.scores)
        med = float(np.median(p.scores[fin]))
        z = (p.scores - med) / max(float(np.max(p.scores[fin])) - med, 1e-12)
        filled = np.where(fin, z, 0.0)
        zi = np.interp(grid, p.lags_seconds, filled, left=np.nan, right=np.nan)
        cover = np.interp(grid, p.lags_seconds, fin.astype(float), left=0.0, right=0.0)
        zi = np.where(cover > 0.999, zi, float(np.min(z[fin])))  # no evidence for this lag
        w = max(float(p.confidence), min_weight)
        details[f"{p.name}_weight"] = round(w, 4)
        total += w * zi
        weight_sum += w
    fused = total / weight_sum
    best = int(np.argmax(fused))
    frac = 0.0
    if 0 < best < grid.size - 1:
        frac = parabolic_offset(fused[best - 1], fused[best], fused[best + 1])
    offset = float(grid[best] + frac * step)
    # Sub-step: each cue's own peak next to the fused one, weighted by its weight and by the
    # peak's sharpness (curvature of its standardised profile, ~ 1 / variance of the position),
    # so a sharp cue (sound) sets the position that a broad cue (picture) helped to choose.
    located = [loc for p in usable if (loc := _local_peak(p, offset, step)) is not None]
    if located:
        ws = np.array([max(p.confidence, min_weight) * k for p, _, k in located])
        offset = float(np.sum(ws * np.array([pos for _, pos, _ in located])) / ws.sum())
        details["subframe_from"] = "+".join(p.name for p, _, _ in located)
    else:
        details["subframe_from"] = "fused parabola"
    spread = float(np.std(fused))
    excl = max(2, int(round(exclusion_seconds / step)))
    peaks = _local_maxima(fused)
    others = peaks[np.abs(peaks - best) > excl]
    runner = float(np.max(fused[others])) if others.size else float(np.median(fused))
    margin = (fused[best] - runner) / spread if spread > 1e-12 else float("nan")
    # The fused profile's margin alone overstates: averaging profiles shrinks their spread,
    # so two cues that each found nothing can make a clear-looking peak. The confidence is
    # therefore at most what the cues that answered here themselves claim, combined as if
    # independent (1 - prod(1 - c)); a fused answer that no cue gave gets none.
    agreeing = [p for p in usable if p.estimate is not None and abs(p.estimate.offset_seconds - offset)
                <= max(0.5 * exclusion_seconds, 1.5 * max(float(p.step_seconds), step))]
    cap = 1.0 - float(np.prod([1.0 - float(np.clip(p.confidence, 0.0, 1.0)) for p in agreeing]))
    details.update({"margin": float(margin) if np.isfinite(margin) else None, "fused_step_seconds": step,
                    "agreeing_cues": [p.name for p in agreeing], "confidence_cap": round(cap, 4)})
    conf = min(margin_confidence(margin), cap)
    return OffsetEstimate(offset, conf, lags_seconds=grid, scores=fused, details=details)


def _local_peak(p: CueProfile, near_seconds: float, grid_step: float, *, min_height: float = 0.8,
                min_z: float = 5.0):
    """(profile, position, curvature) of ``p``'s local maximum within two steps of
    ``near_seconds``, or None when there is none, the peak is flat, or it is not one of the
    cue's real peaks: under ``min_height`` of its highest peak above its median, or under
    ``min_z`` robust standard deviations (1.4826 · MAD) above it — a noise bump of a cue that
    heard nothing must not move the answer."""
    reach = 2.0 * max(float(p.step_seconds), grid_step)
    fin = np.isfinite(p.scores)
    idx = np.flatnonzero(fin & (np.abs(p.lags_seconds - near_seconds) <= reach + 1e-9))
    if idx.size < 1:
        return None
    j = int(idx[np.argmax(p.scores[idx])])
    if not (0 < j < p.scores.size - 1 and fin[j - 1] and fin[j + 1]):
        return None
    if p.scores[j] < max(p.scores[j - 1], p.scores[j + 1]):
        return None  # the window's edge, not a local maximum
    vals = p.scores[fin]
    med, top = float(np.median(vals)), float(np.max(vals))
    mad = 1.4826 * float(np.median(np.abs(vals - med)))
    if top <= med or (p.scores[j] - med) / (top - med) < min_height:
        return None
    if mad > 0 and (p.scores[j] - med) / mad < min_z:
        return None
    sd = max(float(np.std(vals)), 1e-12)
    y0, y1, y2 = p.scores[j - 1] / sd, p.scores[j] / sd, p.scores[j + 1] / sd
    step = float(p.lags_seconds[j + 1] - p.lags_seconds[j])
    curvature = -(y0 - 2 * y1 + y2) / step**2
    if not curvature > 0:
        return None
    pos = float(p.lags_seconds[j] + parabolic_offset(y0, y1, y2) * step)
    if p.estimate is not None and abs(p.estimate.offset_seconds - pos) <= step:
        pos = float(p.estimate.offset_seconds)  # the cue's own sub-step refinement
    return p, pos, curvature


def resolve_refiner(refiner, cues: Sequence[str]):
    """The refiner instance to run on fused offsets (None unless the sound is a cue)."""
    if not refiner or "audio" not in cues:
        return None
    from videosync.refine import REFINERS

    return REFINERS.resolve(refiner)


def fuse_and_refine(profiles: Sequence[CueProfile], info_a, info_b, refine=None) -> OffsetEstimate:
    """One pair's cues fused (:func:`fuse_profiles`), then refined on the raw sound by
    ``refine`` (e.g. GCC-PHAT) when the audio cue had evidence and the fusion an answer.
    ``details["cues_used"]`` names the cues that had a usable profile."""
    return _refined(fuse_profiles(profiles), profiles, info_a, info_b, refine)


def _refined(est: OffsetEstimate, profiles: Sequence[CueProfile], info_a, info_b, refine) -> OffsetEstimate:
    audio = next((p for p in profiles if p.name == "audio"), None)
    if refine is not None and audio is not None and audio.usable and est.confidence > 0:
        est = refine.refine(info_a, info_b, est)
    est.details["cues_used"] = [p.name for p in profiles if p.usable]
    return est


def match_cues(
    embeddings: dict[str, tuple[Any, Any]],
    predictors: dict[str, tuple[Any, str]],
    info_a,
    info_b,
    *,
    search: SearchRange,
    drift: bool = False,
    refine=None,
    step_seconds: float | None = None,
    temperature: float = 0.1,
):
    """One pair matched on every cue with :func:`videosync.longmatch.match_pair` (coarse-to-fine
    when long, windows and a rate with ``drift``), fused and refined: a
    :class:`~videosync.longmatch.PairMatch`.

    Args:
        embeddings: per cue, the two files' embeddings (None where a file has no such cue,
            e.g. no picture in a sound recorder's file: that cue is skipped for the pair).
        predictors: per cue, (predictor, metric).
        refine: a refiner run on the fused offset when the sound had evidence (GCC-PHAT).

    The window fit (rate) is the one of the most confident cue whose own offset agrees with
    the fused one (within 0.1 s); a refined offset moves that fit's line to pass through it
    at the middle of the overlap, where the refiner measured. ``estimate.details["cues_used"]``
    names the cues that had evidence.
    """
    from dataclasses import replace

    from videosync.longmatch import PairMatch, match_pair
    from videosync.similarity import SimilarityMatrix

    matches, profiles = {}, []
    for cue, (ea, eb) in embeddings.items():
        if ea is None or eb is None:
            continue
        pred, metric = predictors[cue]
        step = step_seconds if cue == "visual" else None
        m = match_pair(ea, eb, pred, search=search, metric=metric, drift=drift, step_seconds=step,
                       temperature=temperature)
        sim = SimilarityMatrix(ea, eb, metric=metric, step_seconds=step, temperature=temperature)  # overlap mask
        matches[cue] = m
        profiles.append(CueProfile.from_estimate(cue, m.estimate, sim, search))
    if not profiles:
        return PairMatch(OffsetEstimate(0.0, 0.0, details={"reason": "no cue can compare these two files",
                                                             "cues_used": []}))
    est = fuse_profiles(profiles)
    agree = [m for m in matches.values() if m.fit is not None and m.fit.n_inliers
             and abs(m.offset_seconds - est.offset_seconds) <= 0.1]
    best = max(agree, key=lambda m: m.confidence, default=None)
    fit = best.fit if best is not None else None
    o = est.offset_seconds if fit is None else fit.offset_at(0.0)
    lo, hi = max(0.0, -o), min(info_a.duration_seconds, info_b.duration_seconds - o)
    t_mid = 0.5 * (lo + hi) if hi > lo else 0.0  # where the refiner measures (middle of the overlap)
    if fit is not None:
        est = replace(est, offset_seconds=fit.offset_at(t_mid))
    est = _refined(est, profiles, info_a, info_b, refine)
    if fit is not None:
        fit = replace(fit, offset_seconds=fit.offset_seconds + est.offset_seconds - fit.offset_at(t_mid))
        est = replace(est, offset_seconds=fit.offset_seconds)
    details = {f"{cue}_{k}": v for cue, m in matches.items() for k, v in m.details.items()}
    return PairMatch(est, fit, best.mode if best is not None else next(iter(matches.values())).mode, details)


ProgressFn = Callable[[str, str, float], None]


def measure_pairs(
    paths: Sequence[str],
    infos: Sequence[Any],
    pair_list: Sequence[tuple[int, int]],
    cues: Sequence[str],
    *,
    visual_embedder,
    visual_predictor,
    metric: str,
    temperature: float,
    step_seconds: float | None,
    search: SearchRange,
    audio_embedder=None,
    audio_predictor=None,
    refiner: str | None = "gcc-phat",
    progress: ProgressFn | None = None,
    cache: dict | None = None,
    drift: bool = False,
    matches: dict | None = None,
):
    """Every pair measured with every cue and fused.

    Returns ``(measured, thumbnails)``: ``[(i, j, OffsetEstimate)]`` in ``pair_list`` order
    and one similarity thumbnail per pair (from the visual cue when it is used). ``refiner``
    None: no refinement. ``cache``: a dict of embeddings by ``(cue, path)``, read and filled
    (for callers that measure the same videos several ways). ``drift`` (or a long pair): each
    pair through :func:`match_cues` (windows along the overlap on every cue, a rate from the
    most confident agreeing cue); its :class:`~videosync.longmatch.PairMatch` is put in
    ``matches[k]`` (k = index in ``pair_list``) when ``matches`` is given.
    """
    from videosync.longmatch import is_long
    from videosync.diagnostics import similarity_thumbnail
    from videosync.embed import EMBEDDERS
    from videosync.predict import PREDICTORS
    from videosync.similarity import SimilarityMatrix

    cues = check_cues(cues)
    setups = {}
    if "visual" in cues:
        setups["visual"] = (visual_embedder, visual_predictor, metric)
    for cue in cues:
        if cue in EXTRA_VISUAL_CUES:
            emb_name, pred_name = EXTRA_VISUAL_CUES[cue]
            emb = EMBEDDERS.create(emb_name)
            setups[cue] = (emb, PREDICTORS.create(pred_name), emb.default_metric)
    if "audio" in cues:
        emb = audio_embedder if audio_embedder is not None else EMBEDDERS.create("audio")
        pred = audio_predictor if audio_predictor is not None else PREDICTORS.create("lag")
        setups["audio"] = (emb, pred, emb.default_metric)
    embeddings: dict[str, list] = {}
    for cue, (emb, _, _) in setups.items():
        out = []
        for p, info in zip(paths, infos):
            if cue != "audio" and not getattr(info, "has_video", True):
                out.append(None)  # a sound-only file: no picture to match
                continue
            if cache is not None and (cue, p) in cache:
                out.append(cache[(cue, p)])
                continue
            cb = (lambda f, _p=p, _c=cue: progress("embed", f"{_p} ({_c})", f)) if progress else None
            out.append(emb.embed_video(p, progress=cb))
            if cache is not None:
                cache[(cue, p)] = out[-1]
        embeddings[cue] = out
    refine = resolve_refiner(refiner, cues)
    measured, thumbnails = [], []
    for k, (i, j) in enumerate(pair_list):
        profiles, thumb = [], None
        pair_embs = {cue: (embeddings[cue][i], embeddings[cue][j]) for cue in setups}
        if drift or any(a is not None and b is not None and is_long(a, b) for a, b in pair_embs.values()):
            m = match_cues(pair_embs, {c: (pred, met) for c, (_, pred, met) in setups.items()}, infos[i], infos[j],
                           search=search, drift=drift, refine=refine, step_seconds=step_seconds,
                           temperature=temperature)
            if matches is not None:
                matches[k] = m
            measured.append((i, j, m.estimate))
            thumbnails.append(None)
            if progress:
                progress("match", f"{paths[i]} ~ {paths[j]}", (k + 1) / len(pair_list))
            continue
        for cue, (_, pred, cue_metric) in setups.items():
            ea, eb = pair_embs[cue]
            if ea is None or eb is None:
                continue
            sim = SimilarityMatrix(ea, eb, metric=cue_metric, temperature=temperature,
                                   step_seconds=step_seconds if cue == "visual" else None)
            est = pred.predict(sim, search)
            profiles.append(CueProfile.from_estimate(cue, est, sim, search))
            if thumb is None:
                thumb = similarity_thumbnail(sim)
        est = fuse_and_refine(profiles, infos[i], infos[j], refine)
        measured.append((i, j, est))
        thumbnails.append(thumb)
        if progress:
            progress("match", f"{paths[i]} ~ {paths[j]}", (k + 1) / len(pair_list))
    return measured, thumbnails
