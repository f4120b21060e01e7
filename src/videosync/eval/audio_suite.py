"""The audio entry of the standard suite: sound as a cue, alone and fused with the picture,
beside two open-source audio tools run on the same files.

Rendered worlds with a sound track (``render_scene(..., audio=True)``: clicks at foot
strikes, bounces and pendulum ticks on each camera's own clock; no sound delay, so the
sound and the picture share one true offset), kinds ``human``, ``objects`` and
``pendulums``, seeds 40–41 (no other entry uses them), 4 cameras × 10 s at 30/25/30/60 fps;
every camera pair, whole clips, as rendered (``clean``) and with ``hard`` sound
(:func:`degrade_world`: per camera a room reverb, a microphone low-pass, gain, noise and
hum; the last camera muted). Rows:

* visual: ``motion`` + ``lag`` (the default pipeline);
* audio: the ``audio`` embedder + ``lag``, without and with the GCC-PHAT refinement;
* fused: visual + audio (:func:`videosync.fusion.fuse_profiles`) with the refinement;
* ``audio-offset-finder`` (BBC; MFCC cross-correlation at 8 kHz, standard score ≥ 10
  counted as confident, as its docs advise) and ``syncstart`` (FFT cross-correlation of the
  first 20 s; no confidence), each run unmodified through its own Python entry point in a
  separate virtual environment (they pin numpy < 2): ``VIDEOSYNC_AUDIO_TOOLS_PYTHON``
  (default ``~/.cache/videosync/audio-tools-venv/bin/python``) with ``ffmpeg``/``ffprobe``
  on ``PATH``. When that environment is missing the rows say why.

A pair is right when its error is within one frame of the pair's first camera.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

TITLE = "Audio as a cue: sound alone, picture alone, both fused (synthetic worlds with sound; audio tools side by side)"
DESCRIPTION = (
    "3 rendered worlds with a sound track (human, objects, pendulums; seeds 40–41: 6 worlds) × 4 cameras, "
    "10 s at 30/25/30/60 fps, clicks at foot strikes / bounces / ticks on each camera's clock, no sound delay; "
    "every camera pair, whole clips (36 pairs), as rendered (clean) and with hard sound (reverb, microphone "
    "low-pass, noise, hum, the last camera muted: see the notes). Visual = motion + lag; audio = audio + lag "
    "(± GCC-PHAT); fused = both, weighted by confidence, then GCC-PHAT. audio-offset-finder 0.5.5 and syncstart 1.1.1 run "
    "unmodified on the same files from their own virtual environment. Right = within one frame of the "
    "pair's first camera.")
KINDS = ("human", "objects", "pendulums")
SEEDS = (40, 41)
TOOLS_ENV = "VIDEOSYNC_AUDIO_TOOLS_PYTHON"
DEFAULT_TOOLS_PYTHON = os.path.join(os.path.expanduser("~"), ".cache", "videosync", "audio-tools-venv", "bin", "python")

# Runs inside the tools' environment; prints one JSON object per pair.
_DRIVER = r"""
import contextlib, io, json, sys, time
from audio_offset_finder.audio_offset_finder import find_offset_between_files
import syncstart
for line in sys.stdin:
    a, b = json.loads(line)
    out = {}
    t0 = time.perf_counter()
    try:
        r = find_offset_between_files(a, b)
        out["aof"] = {"time_offset": float(r["time_offset"]), "standard_score": float(r["standard_score"])}
    except Exception as exc:
        out["aof"] = {"error": f"{type(exc).__name__}: {exc}"}
    out["aof_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            sys.argv = ["syncstart", a, b, "-s", "-q"]
            f, off = syncstart.file_offset()
        out["syncstart"] = {"file": str(f), "offset": float(off), "a": a, "b": b}
    except BaseException as exc:
        out["syncstart"] = {"error": f"{type(exc).__name__}: {exc}"}
    out["syncstart_seconds"] = time.perf_counter() - t0
    print(json.dumps(out), flush=True)
"""


@dataclass
class AudioBenchReport:
    rows: list[dict] = field(default_factory=list)
    pairs: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def markdown(self, *, title: str, command: str) -> str:
        out = [f"## {title}", "", f"Command: `{command}`", "",
               "| sound | method | pairs | within 1 frame | median abs err (ms) | median abs err, right pairs (ms) "
               "| 90th pct abs err (ms) | confident | errors among confident | seconds |",
               "|---|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            out.append(
                f"| {r['condition']} | {r['method']} | {r['pairs']} | {_pct(r['within_1_frame'])} "
                f"| {_ms(r['median_abs_ms'])} | {_ms(r['median_right_ms'])} | {_ms(r['p90_abs_ms'])} "
                f"| {_pct(r['confident'])} | {_pct(r['errors_among_confident'])} | {r['seconds']:.1f} |")
        out.append("")
        out.append("Confident: confidence ≥ 0.5 (audio-offset-finder: standard score ≥ 10; syncstart reports none). "
                   "Seconds: wall time of the method over all pairs, decoding included.")
        for n in self.notes:
            out.append(f"- {n}")
        kinds = sorted({p["scene"].rsplit("-s", 1)[0] for p in self.pairs})
        if kinds:
            out += ["", "Within 1 frame by kind of world (pairs answered):", "",
                    "| sound | method | " + " | ".join(kinds) + " |", "|---|---|" + "---|" * len(kinds)]
            for c, m in dict.fromkeys((p["condition"], p["method"]) for p in self.pairs):
                cells = []
                for k in kinds:
                    sel = [p for p in self.pairs if (p["condition"], p["method"]) == (c, m)
                           and p["scene"].rsplit("-s", 1)[0] == k]
                    ok = [p["right"] for p in sel if p["error_ms"] is not None]
                    cells.append(f"{100 * np.mean(ok):.0f} % ({len(ok)})" if ok else "—")
                out.append(f"| {c} | {m} | " + " | ".join(cells) + " |")
        out.append("")
        return "\n".join(out)

    def to_json(self, *, title: str, command: str) -> dict:
        return {"title": title, "command": command, "rows": self.rows, "pairs": self.pairs, "notes": self.notes,
                "seconds": self.seconds}


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _ms(x) -> str:
    return "—" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.0f}")


def load_audio_worlds(cache_dir: str, *, kinds=KINDS, seeds=SEEDS, seconds: float = 10.0, progress=None):
    """[(folder, truth)] of rendered worlds with sound, rendered once and cached."""
    from videosync.synth import render_scene

    out = []
    for kind in kinds:
        for seed in seeds:
            folder = os.path.join(cache_dir, "synth", f"{kind}-s{seed}-{int(seconds)}s-audio")
            if progress:
                progress(f"render {kind} seed {seed} (audio)")
            sc = render_scene(folder, scene=kind, cameras=4, seconds=seconds, seed=seed, audio=True)
            out.append((sc, sc.truth))
    return out


HARD = ("per camera: a room (direct sound plus an exponentially decaying noise tail, RT60 0.2–0.6 s), a microphone "
        "low-pass at 1.5–5 kHz, gain 0.3–1, background noise (std 0.01) and 50 Hz hum (amplitude 0.05); the last "
        "camera's microphone muted (digital silence)")


def degrade_world(sc, truth: dict, folder: str, *, seed: int = 0) -> tuple:
    """A copy of a rendered world whose sound is hard (see :data:`HARD`); picture and truth
    unchanged. Cached: an existing copy with the same source truth is reused."""
    from scipy.signal import butter, fftconvolve, sosfilt

    from videosync.embed.audio import read_audio
    from videosync.synth._signals import rng_for
    from videosync.synth.render import AUDIO_RATE
    from videosync.testing.audio import mux_audio

    os.makedirs(folder, exist_ok=True)
    marker = os.path.join(folder, "truth.json")
    paths = tuple(os.path.join(folder, os.path.basename(p)) for p in sc.paths)
    if os.path.exists(marker) and all(os.path.exists(p) for p in paths):
        with open(marker) as f:
            if json.load(f).get("generator", {}).get("params_hash") == truth["generator"]["params_hash"]:
                return sc.__class__(folder, paths, truth, marker, cached=True), truth
    sr = AUDIO_RATE
    for k, (src, dst) in enumerate(zip(sc.paths, paths)):
        _, x = read_audio(src, 0.0, 1e9, sample_rate_hz=sr)
        if k == len(paths) - 1:
            y = np.zeros_like(x)
        else:
            rng = rng_for(seed, "hard-audio", k)
            rt60 = rng.uniform(0.2, 0.6)
            t = np.arange(int(rt60 * sr)) / sr
            ir = rng.normal(0, 1, t.size) * np.exp(-6.9 * t / rt60) * 0.03
            ir[0] = 1.0  # direct sound
            y = fftconvolve(x, ir)[: x.size]
            y = sosfilt(butter(4, rng.uniform(1500, 5000), fs=sr, output="sos"), y) * rng.uniform(0.3, 1.0)
            n = np.arange(x.size) / sr
            y = y + rng.normal(0, 0.01, x.size) + 0.05 * np.sin(2 * np.pi * 50 * n + rng.uniform(0, 6.3))
            y = np.clip(y, -1, 1)
        mux_audio(src, dst, y.astype(np.float32), sample_rate_hz=sr)
    with open(marker, "w") as f:
        json.dump({**truth, "hard_audio": HARD}, f, indent=1)
    return sc.__class__(folder, paths, truth, marker, cached=False), truth


def _summarise(condition: str, method: str, pairs: list[dict], seconds: float) -> dict:
    got = [p for p in pairs if p["error_ms"] is not None]
    err = np.array([abs(p["error_ms"]) for p in got])
    conf = [p for p in got if p["confident"] is not None]
    confident = [p for p in conf if p["confident"]]
    return {
        "condition": condition, "method": method, "pairs": len(pairs), "answered": len(got),
        "within_1_frame": float(np.mean([p["right"] for p in got])) if got else None,
        "median_abs_ms": float(np.median(err)) if got else None,
        "p90_abs_ms": float(np.percentile(err, 90)) if got else None,
        "median_right_ms": float(np.median([abs(p["error_ms"]) for p in got if p["right"]]))
        if any(p["right"] for p in got) else None,
        "max_abs_ms": float(np.max(err)) if got else None,
        "confident": float(len(confident) / len(conf)) if conf else None,
        "errors_among_confident": float(np.mean([not p["right"] for p in confident])) if confident else None,
        "seconds": seconds,
    }


def _tools_python() -> str:
    return os.environ.get(TOOLS_ENV) or DEFAULT_TOOLS_PYTHON


def _tools_unavailable() -> str | None:
    py = _tools_python()
    if not os.path.exists(py):
        return (f"no tools environment at {py} (python -m venv DIR && DIR/bin/pip install audio-offset-finder "
                f"syncstart; set {TOOLS_ENV}=DIR/bin/python)")
    import shutil

    missing = [t for t in ("ffmpeg", "ffprobe") if shutil.which(t) is None]
    if missing:
        return f"{' and '.join(missing)} not on PATH (both tools call them; e.g. apt-get install ffmpeg)"
    r = subprocess.run([py, "-c", "import audio_offset_finder, syncstart"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"the tools do not import in {py}: {(r.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


def run_audio_bench(worlds, *, condition: str = "clean", tools: bool = True, progress=None) -> AudioBenchReport:
    """Every method on every camera pair of ``worlds`` ([(scene, truth)]); rows labelled ``condition``."""
    from videosync.embed import EMBEDDERS
    from videosync.fusion import measure_pairs
    from videosync.io import probe
    from videosync.predict import PREDICTORS, SearchRange

    started = time.perf_counter()
    report = AudioBenchReport()
    methods = [
        ("visual: motion + lag", ("visual",), None),
        ("audio: audio + lag", ("audio",), None),
        ("audio: audio + lag + GCC-PHAT", ("audio",), "gcc-phat"),
        ("fused: visual + audio + GCC-PHAT", ("visual", "audio"), "gcc-phat"),
    ]
    per_method: dict[str, list[dict]] = {m: [] for m, _, _ in methods}
    seconds: dict[str, float] = {m: 0.0 for m, _, _ in methods}
    emb_v, pred = EMBEDDERS.create("motion"), PREDICTORS.create("lag")
    search = SearchRange()
    cache: dict = {}
    embed_seconds = {"visual": 0.0, "audio": 0.0}
    all_pairs = []
    for sc, truth in worlds:
        cams = list(truth["offsets_seconds"])
        offs = [truth["offsets_seconds"][c] for c in cams]
        fps = [truth["fps"][c] for c in cams]
        paths = list(sc.paths)
        infos = [probe(p) for p in paths]
        pair_list = [(i, j) for i in range(len(paths)) for j in range(i + 1, len(paths))]
        all_pairs += [(sc, truth, paths[i], paths[j], offs[j] - offs[i], fps[i]) for i, j in pair_list]
        for cue in ("visual", "audio"):  # embed once per cue (timed apart from matching)
            t0 = time.perf_counter()
            measure_pairs(paths, infos, [], (cue,), visual_embedder=emb_v, visual_predictor=pred, metric="cosine",
                          temperature=0.1, step_seconds=None, search=search, refiner=None, cache=cache)
            embed_seconds[cue] += time.perf_counter() - t0
        for name, cues, refiner in methods:
            if progress:
                progress(f"audio bench: {sc.truth['scene']} {name}")
            t0 = time.perf_counter()
            measured, _ = measure_pairs(paths, infos, pair_list, cues, visual_embedder=emb_v, visual_predictor=pred,
                                        metric="cosine", temperature=0.1, step_seconds=None, search=search,
                                        refiner=refiner, cache=cache)
            seconds[name] += time.perf_counter() - t0
            for i, j, est in measured:
                err = (est.offset_seconds - (offs[j] - offs[i])) * 1000.0
                per_method[name].append({
                    "condition": condition, "method": name, "scene": truth["scene"], "a": cams[i], "b": cams[j],
                    "truth_seconds": offs[j] - offs[i], "found_seconds": est.offset_seconds,
                    "confidence": est.confidence, "error_ms": err, "right": abs(err) / 1000.0 * fps[i] <= 1.0,
                    "confident": est.confidence >= 0.5,
                })
    for name, cues, _ in methods:
        embedded = sum(embed_seconds[c] for c in cues)
        report.rows.append(_summarise(condition, name, per_method[name], seconds[name] + embedded))
        report.pairs += per_method[name]
    report.notes.append(
        f"{condition} sound: embedding (once per video, included above): visual {embed_seconds['visual']:.1f} s, audio "
        f"{embed_seconds['audio']:.1f} s for {len(cache) // 2} videos of 10 s")
    if tools:
        why = _tools_unavailable()
        if why:
            report.notes.append(f"audio-offset-finder and syncstart not run: {why}")
        else:
            _run_tools(all_pairs, report, condition, progress)
    report.seconds = time.perf_counter() - started
    return report


def _run_tools(all_pairs, report: AudioBenchReport, condition: str, progress) -> None:
    py = _tools_python()
    lines = "".join(json.dumps([a, b]) + "\n" for _, _, a, b, _, _ in all_pairs)
    if progress:
        progress(f"audio bench: audio-offset-finder and syncstart on {len(all_pairs)} pairs")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([py, "-c", _DRIVER], input=lines, capture_output=True, text=True, env=env)
    outs = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    if r.returncode != 0 or len(outs) != len(all_pairs):
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        report.notes.append(f"{condition} sound: audio-offset-finder and syncstart failed ({len(outs)}/{len(all_pairs)} pairs): {tail}")
        return
    aof, sst = [], []
    t_aof = t_sst = 0.0
    errors: dict[str, set] = {"audio-offset-finder": set(), "syncstart": set()}
    for (sc, truth, a, b, true, fps), o in zip(all_pairs, outs):
        base = {"condition": condition, "scene": truth["scene"], "a": os.path.basename(a)[:-4], "b": os.path.basename(b)[:-4],
                "truth_seconds": true}
        t_aof += o["aof_seconds"]
        t_sst += o["syncstart_seconds"]
        # audio-offset-finder: positive time_offset = file2 (b) starts after file1 (a): our offset is its negative.
        if "error" in o["aof"]:
            errors["audio-offset-finder"].add(o["aof"]["error"])
            aof.append({**base, "method": "audio-offset-finder", "found_seconds": None, "error_ms": None,
                        "right": False, "confident": None, "confidence": None})
        else:
            found = -o["aof"]["time_offset"]
            err = (found - true) * 1000.0
            aof.append({**base, "method": "audio-offset-finder", "found_seconds": found, "error_ms": err,
                        "right": abs(err) / 1000.0 * fps <= 1.0, "confidence": o["aof"]["standard_score"],
                        "confident": o["aof"]["standard_score"] >= 10.0})
        # syncstart: "cut `offset` s from the start of `file`": cutting a means a started earlier (b later):
        # our offset is −offset; cutting b means b started earlier: +offset.
        s = o["syncstart"]
        if "error" in s:
            errors["syncstart"].add(s["error"])
            sst.append({**base, "method": "syncstart", "found_seconds": None, "error_ms": None, "right": False,
                        "confident": None, "confidence": None})
        else:
            found = -s["offset"] if s["file"] == a else s["offset"]
            err = (found - true) * 1000.0
            sst.append({**base, "method": "syncstart", "found_seconds": found, "error_ms": err,
                        "right": abs(err) / 1000.0 * fps <= 1.0, "confident": None, "confidence": None})
    for name, rows, secs in (("audio-offset-finder", aof, t_aof), ("syncstart", sst, t_sst)):
        report.rows.append(_summarise(condition, name, rows, secs))
        report.pairs += rows
        for e in sorted(errors[name])[:3]:
            report.notes.append(f"{condition} sound: {name} failed on some pairs: {e}")
    version = subprocess.run([py, "-c", "import importlib.metadata as m; print(m.version('audio-offset-finder'), "
                              "m.version('syncstart'))"], capture_output=True, text=True).stdout.split()
    if len(version) == 2:
        report.notes.append(f"audio-offset-finder {version[0]}, syncstart {version[1]} ({py})")


def entry(data_root: str, cache: str, progress=None):
    """The suite entry: render (cached) and run; a string when rendering is unavailable."""
    from videosync.eval.datasets import synth_unavailable

    why = synth_unavailable()
    if why:
        return why
    worlds = load_audio_worlds(cache, progress=progress)
    report = run_audio_bench(worlds, condition="clean", progress=progress)
    hard = [degrade_world(sc, truth, sc.folder + "-hard", seed=k) for k, (sc, truth) in enumerate(worlds)]
    more = run_audio_bench(hard, condition="hard", progress=progress)
    report.rows += more.rows
    report.pairs += more.pairs
    report.notes += [n for n in more.notes if n not in report.notes]
    report.notes.append(f"hard sound: {HARD}.")
    report.seconds += more.seconds
    return report


if __name__ == "__main__":  # pragma: no cover
    print(entry("", sys.argv[1]).markdown(title=TITLE, command="python -m videosync.eval.audio_suite CACHE"))
