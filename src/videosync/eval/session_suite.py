"""Benchmark entry ``session``: generated shoots placed by :func:`videosync.sync_session`.

Each shoot (:func:`videosync.testing.make_shoot`, 2-D world, 48 × 32 pixels) has 4 cameras at
30 / 25 / 29.97 / 24 fps; each camera records 3 clips of 45–90 s with gaps of 3–15 s, its
clock offset by up to ±20 s and (cameras 1–3) drifting by −250…+300 ppm; one unrelated clip
(another world) and one still clip (nothing moves) are added to random cameras. Shoot 2 also
carries ``creation_time`` tags (record starts on each camera's own clock), so pruning and
metadata priors are exercised. Shoot 3 is long takes: 3 cameras × one 4-minute take (15,
14.985 and 12 fps; +300 and −200 ppm) and a still clip each: there the rates can be measured.

Truth is expressed on the clock of the camera the session chose as reference (the session
clock), so a start and a rate are comparable whatever camera that is. Reported per shoot and
overall, with and without ``drift``:

* **placement error**: |start − truth| of clips synced in both (after removing the one
  constant shift of session zero), median and max, in milliseconds and in frames of the clip;
* **drift error**: |drift_ppm − truth| over synced clips of the non-reference cameras whose
  rate was measured (a rate needs ≥ 3 agreeing 20 s windows of one pair: clips of about a
  minute leave it unmeasured, and at 300 ppm a minute drifts 18 ms, under a frame);
* **bucketing**: a clip's true bucket is ``synced`` if it shows the event and belongs to the
  largest group of clips linked by ≥ 5 s overlaps across cameras (a group that overlaps nothing
  else cannot be placed by content), else ``unsynced``; the fraction whose status equals it
  (``low_confidence`` counts as not equal), and the counts of *false syncs* (unsynced truth
  reported synced, or synced more than 2 frames off) and *misses* (synced truth not synced);
* **pair AUROC**: the measured clip pairs' confidence for "this pair's offset is right"
  (positives: pairs that truly overlap ≥ 5 s and were answered within 2 frames; every pair
  with no true overlap counts as a negative).

Shoot 4 has **sound** (:data:`SOUND_SEED`): camera 0 picture and sound, camera 1 sound but a
frozen, dark picture (``blind`` clips) and an unrelated clip, camera 2 a sound recorder (.wav
takes, no picture), camera 3 picture without an audio stream and a still clip; cameras 1–3
drift. It is synced with ``cues`` visual (+ metadata) and visual + audio (+ metadata). A clip's
true bucket then depends on the cues: two clips are linked when they overlap ≥ 5 s and share
a cue that both carry (the picture of the event, or its sound); sound files are clips only
with the audio cue (the visual row scores the clips it sees).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from videosync.eval.metrics import auroc

TITLE = "Session: generated shoots (clips with gaps, drifting clocks, unrelated and still clips)"
DESCRIPTION = (
    "4 generated shoots (2-D world, 48×32). Shoots 0–2: 4 cameras (30/25/29.97/24 fps), 3 clips of 45–90 s per "
    "camera with 3–15 s gaps, clocks "
    "offset by up to ±20 s and drifting −250…+300 ppm, one unrelated and one still clip per shoot; shoot 2 carries "
    "creation_time tags; shoot 3: long takes (3 cameras × 4 min at 15/14.985/12 fps, +300 and −200 ppm, a still "
    "clip each). `videosync.sync_session` with embedder motion, predictor lag, with and without drift. Drift "
    "error is over clips of non-reference cameras whose rate was measured (≥ 3 agreeing 20 s windows spanning "
    "≥ 120 s). A clip's true bucket: synced if it shows the event and is in the largest group linked by ≥ 5 s "
    "overlaps across cameras; else unsynced, or low_confidence on a camera with creation_time tags. Pair AUROC: "
    "measured pairs' confidence for 'offset within 2 frames of a true ≥ 5 s overlap'. Shoot 4 (sound): cam0 picture "
    "+ sound (170 + 40 s), cam1 sound with a frozen dark picture (160 + 35 s, +250 ppm) and an unrelated clip, "
    "cam2 a sound recorder (.wav, 175 + 45 s, −180 ppm), cam3 picture without audio (160 s, +120 ppm) and a still "
    "clip; cues visual,metadata vs visual,audio,metadata (with audio, true buckets link clips sharing the event's "
    "picture or sound; the visual rows score the clips they see: .wav files are clips only with audio)."
)
SEEDS = (0, 1, 2, 3)
LONG_TAKES_SEED = 3
SOUND_SEED = 4
SOUND_CUES = ("visual,metadata", "visual,audio,metadata")
FPS = (30.0, 25.0, 30000 / 1001, 24.0)
MIN_TRUE_OVERLAP = 5.0


def _sound_shoot():
    """Shoot 4: picture + sound, blind (sound only) + an unrelated clip, a recorder, picture only + a still."""
    from videosync.testing.shoot import CameraSpec, ClipSpec

    def clips(o, e, spans):  # (world start, seconds, kind) → clips on the camera clock
        return tuple(ClipSpec(round(o + (1 + e * 1e-6) * w, 3), d, kind) for w, d, kind in spans)

    return [
        CameraSpec("cam0", clips(0.0, 0.0, [(0, 170, "event"), (175, 40, "event")]), 30.0, sound=True),
        CameraSpec("cam1", clips(6.2, 250.0, [(5, 160, "blind"), (170, 35, "blind"), (210, 20, "unrelated")]),
                   25.0, 6.2, 250.0, sound=True),
        CameraSpec("cam2", clips(-3.7, -180.0, [(-2, 175, "event"), (176, 45, "event")]), 30.0, -3.7, -180.0,
                   recorder=True),
        CameraSpec("cam3", clips(11.0, 120.0, [(10, 160, "event"), (175, 20, "still")]), 30000 / 1001, 11.0,
                   120.0),
    ]


def shoot_cameras(seed: int):
    """The camera specs of shoot ``seed`` (deterministic)."""
    from videosync.testing.shoot import CameraSpec, ClipSpec

    if seed == SOUND_SEED:
        return _sound_shoot()
    rng = np.random.default_rng(1000 + seed)
    if seed == LONG_TAKES_SEED:  # long takes: 4 min per camera, where drift shows (72 ms at 300 ppm)
        specs = [("cam0", 15.0, 0.0, 0.0, 0.0), ("cam1", 15000 / 1001, 6.3, 300.0, 3.0),
                 ("cam2", 12.0, -4.1, -200.0, 9.0)]
        return [CameraSpec(n, (ClipSpec(round(o + (1 + e * 1e-6) * w, 3), 240.0),
                               ClipSpec(round(o + (1 + e * 1e-6) * (w + 250), 3), 20.0, "still")), fps, o, e)
                for n, fps, o, e, w in specs]
    cams = []
    for k in range(4):
        eps_ppm = 0.0 if k == 0 else float(rng.choice([-250.0, -120.0, 80.0, 150.0, 300.0]))
        offset = 0.0 if k == 0 else float(rng.uniform(-20, 20))
        w = float(rng.uniform(0, 15))
        clips = []
        for _ in range(3):
            d = float(rng.uniform(45, 90))
            clips.append(ClipSpec(round(offset + (1 + eps_ppm * 1e-6) * w, 3), round(d, 3)))
            w += d + float(rng.uniform(3, 15))
        cams.append([f"cam{k}", clips, FPS[k], offset, eps_ppm, w])
    extra = rng.choice(4, size=2, replace=False)
    for kind, k in zip(("unrelated", "still"), extra):
        name, clips, fps, offset, eps_ppm, w = cams[k]
        clips.append(ClipSpec(round(offset + (1 + eps_ppm * 1e-6) * (w + 5), 3), 20.0, kind))
    return [CameraSpec(n, tuple(c), fps, o, e, creation_time=(seed == 2)) for n, c, fps, o, e, _ in cams]


def load_shoot(cache: str, seed: int, progress=None):
    """Render (or reuse) shoot ``seed`` under ``cache/session/``."""
    from videosync.testing.shoot import Shoot, ShootClip, make_shoot

    folder = os.path.join(cache, "session", f"shoot{seed}")
    truth = os.path.join(folder, "truth.json")
    if os.path.exists(truth):
        with open(truth) as f:
            d = json.load(f)
        if d.get("generator", {}).get("seed") == seed and d.get("generator", {}).get("version") == 1:
            return Shoot(folder, tuple(ShootClip(**c) for c in d["clips"]), truth)
    if progress:
        progress(f"session: rendering shoot {seed}")
    sh = make_shoot(folder, shoot_cameras(seed), size=(48, 32), seed=seed)
    with open(truth) as f:
        d = json.load(f)
    d["generator"]["version"] = 1
    with open(truth, "w") as f:
        json.dump(d, f, indent=2)
    return sh


def _carries(shoot, cues: tuple[str, ...]) -> dict[str, set[str]]:
    """Per clip, the cues (among ``cues``) on which it shows or hears the event."""
    with open(shoot.truth_path) as f:
        cams = {c["name"]: c for c in json.load(f)["cameras"]}
    out = {}
    for c in shoot.clips:
        cam = cams.get(c.camera, {})
        has = set()
        if "visual" in cues and c.kind == "event" and not cam.get("recorder"):
            has.add("visual")
        if "audio" in cues and c.kind in ("event", "blind") and (cam.get("sound") or cam.get("recorder")):
            has.add("audio")
        out[c.path] = has
    return out


def _true_buckets(shoot, cues: tuple[str, ...] = ("visual",)) -> dict[str, str]:
    """``synced`` for clips in the largest group linked by ≥ 5 s overlaps across cameras on a
    shared cue (what content can place on one timeline), else ``unsynced``."""
    carries = _carries(shoot, cues)
    ev = [c for c in shoot.clips if carries[c.path]]
    parent = {c.path: c.path for c in ev}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for c in ev:
        for o in ev:
            if o.camera == c.camera or not carries[c.path] & carries[o.path]:
                continue
            lo = max(c.start_seconds, o.start_seconds)
            hi = min(c.start_seconds + c.rate * c.seconds, o.start_seconds + o.rate * o.seconds)
            if hi - lo >= MIN_TRUE_OVERLAP:
                parent[find(c.path)] = find(o.path)
    groups: dict[str, list[str]] = {}
    for c in ev:
        groups.setdefault(find(c.path), []).append(c.path)
    main = set(max(groups.values(), key=len)) if groups else set()
    with open(shoot.truth_path) as f:
        tagged = {c["name"] for c in json.load(f)["cameras"] if c.get("creation_time")}
    # Outside the content group, a clip whose camera writes record starts is placed by them:
    # low_confidence (needs review) is the right answer there, even for an unrelated clip.
    return {os.path.abspath(c.path): "synced" if c.path in main else
            "low_confidence" if c.camera in tagged else "unsynced" for c in shoot.clips}


def score_session(shoot, result) -> dict:
    """Placement, drift, bucketing and pair metrics of one session result against its shoot."""
    truth = {os.path.abspath(c.path): c for c in shoot.clips}
    est = {os.path.abspath(c.path): c for c in result.clips}
    cues = tuple(result.provenance.get("cues", ("visual",)))
    buckets = _true_buckets(shoot, cues)
    ref = truth[os.path.abspath(result.provenance["reference_clip"])]
    # The session clock is the reference camera's clock: w ↦ (1 + ε_R)·w (+ a constant).
    scale = 1.0 / ref.rate  # = 1 + ε_R
    both = [p for p in est if est[p].status == "synced" and truth[p].start_seconds is not None]
    ref_cam = truth[os.path.abspath(result.provenance["reference_clip"])].camera
    err_ms, err_frames, drift_err = [], [], []
    rates = {truth[p].camera for p in both if truth[p].camera != ref_cam and "rate" not in est[p].details}
    if both:
        diffs = np.array([est[p].start_seconds - scale * truth[p].start_seconds for p in both])
        shift = float(np.median(diffs))
        for p, d in zip(both, diffs):
            err_ms.append(abs(d - shift) * 1000)
            err_frames.append(abs(d - shift) * truth[p].fps)
            if truth[p].camera in rates:  # cameras whose rate the session measured
                drift_err.append(abs(est[p].drift_ppm - (scale * truth[p].rate - 1) * 1e6))
    right = [est[p].status == buckets[p] for p in est]
    false_sync = sum(1 for p in est if est[p].status == "synced" and (
        buckets[p] != "synced" or (p in both and err_frames[both.index(p)] > 2)))
    missed = sum(1 for p in est if buckets[p] == "synced" and est[p].status != "synced")
    conf, good = [], []
    for pr in result.provenance.get("pairs", []):
        a, b = truth[os.path.abspath(pr["a"])], truth[os.path.abspath(pr["b"])]
        ok = False
        if a.start_seconds is not None and b.start_seconds is not None:
            # b's local time at a's τ = 0 is (a.start − b.start)/b.rate.
            true_off = (a.start_seconds - b.start_seconds) / b.rate
            lo = max(a.start_seconds, b.start_seconds)
            hi = min(a.start_seconds + a.rate * a.seconds, b.start_seconds + b.rate * b.seconds)
            at = pr["offset_seconds"]
            if hi - lo >= MIN_TRUE_OVERLAP:
                # The pair's offset is at a's local 0; a drift-free pair is measured mid-overlap.
                tol = 2.0 / min(a.fps, b.fps) + abs(b.drift_ppm - a.drift_ppm) * 1e-6 * (hi - lo)
                ok = abs(at - true_off) <= tol
        conf.append(pr["confidence"])
        good.append(ok)
    return {
        "clips": len(est), "synced_both": len(both), "rates_measured": len(rates),
        "cameras": len({c.camera for c in shoot.clips}),
        "placement_err_ms": err_ms, "placement_err_frames": err_frames, "drift_err_ppm": drift_err,
        "bucket_right": int(sum(right)), "false_syncs": false_sync, "missed": missed,
        "pair_conf": conf, "pair_right": good,
        "counts": result.counts(), "seconds": result.provenance.get("elapsed_seconds"),
    }


@dataclass
class SessionReport:
    rows: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def markdown(self, *, title: str, command: str) -> str:
        out = [f"## {title}", "", f"Command: `{command}`", "",
               "| shoots | cues | drift | clips | bucketed right | false syncs | missed | placement error median / max "
               "(ms) | max (frames) | rates measured | drift error median / max (ppm) | pair AUROC | session seconds |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            out.append(
                f"| {r['shoots']} | {r.get('cues', 'visual,metadata')} | {'yes' if r['drift'] else 'no'} "
                f"| {r['clips']} "
                f"| {_pct(r['bucket_fraction'])} "
                f"| {r['false_syncs']} | {r['missed']} | {_f(r['placement_median_ms'], 1)} / "
                f"{_f(r['placement_max_ms'], 1)} | {_f(r['placement_max_frames'], 2)} | "
                f"{r['rates_measured'] if r['drift'] else '—'} | "
                f"{_f(r['drift_median_ppm'], 1)} / {_f(r['drift_max_ppm'], 1)} | {_f(r['pair_auroc'], 3)} "
                f"| {_f(r['session_seconds'], 1)} |")
        out.append("")
        return "\n".join(out)

    def to_json(self, *, title: str, command: str) -> dict:
        return {"title": title, "command": command, "rows": self.rows, "seconds": self.seconds}


def _f(x, nd):
    return "—" if x is None else f"{x:.{nd}f}"


def _pct(x):
    return "—" if x is None else f"{100 * x:.0f} %"


def _row(name, drift, scores, cues: str = "visual,metadata") -> dict:
    cat = {k: sum((s[k] for s in scores), []) for k in ("placement_err_ms", "placement_err_frames",
                                                        "drift_err_ppm", "pair_conf", "pair_right")}
    clips = sum(s["clips"] for s in scores)

    def stat(xs, fn):
        return float(fn(xs)) if xs else None

    return {
        "shoots": name, "cues": cues, "drift": drift, "clips": clips,
        "rates_measured": f"{sum(s['rates_measured'] for s in scores)} of {sum(s['cameras'] - 1 for s in scores)}",
        "bucket_fraction": sum(s["bucket_right"] for s in scores) / clips if clips else None,
        "false_syncs": sum(s["false_syncs"] for s in scores), "missed": sum(s["missed"] for s in scores),
        "placement_median_ms": stat(cat["placement_err_ms"], np.median),
        "placement_max_ms": stat(cat["placement_err_ms"], np.max),
        "placement_max_frames": stat(cat["placement_err_frames"], np.max),
        "drift_median_ppm": stat(cat["drift_err_ppm"], np.median) if drift else None,
        "drift_max_ppm": stat(cat["drift_err_ppm"], np.max) if drift else None,
        "pair_auroc": auroc(cat["pair_conf"], cat["pair_right"]),
        "session_seconds": sum(s["seconds"] or 0 for s in scores),
    }


def session_entry(data_root: str, cache: str, progress=None) -> SessionReport:
    """Render (cached) and sync every shoot with and without drift."""
    from videosync.session import sync_session

    started = time.perf_counter()
    report = SessionReport()
    shoots = [load_shoot(cache, s, progress) for s in SEEDS]
    for drift in (False, True):
        scores = []
        for seed, sh in zip(SEEDS, shoots):
            if progress:
                progress(f"session: shoot {seed}, drift={drift}")
            res = sync_session(sh.folder, drift=drift)
            sc = score_session(sh, res)
            scores.append(sc)
            report.rows.append(_row(f"shoot {seed}", drift, [sc]))
        report.rows.append(_row("all", drift, scores))
    sound = load_shoot(cache, SOUND_SEED, progress)
    for drift in (False, True):
        for cues in SOUND_CUES:
            if progress:
                progress(f"session: sound shoot, cues={cues}, drift={drift}")
            res = sync_session(sound.folder, drift=drift, cues=cues)
            report.rows.append(_row(f"shoot {SOUND_SEED} (sound)", drift, [score_session(sound, res)], cues))
    report.seconds = time.perf_counter() - started
    return report
