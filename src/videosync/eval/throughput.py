"""Throughput against the physical limit: time to sync N long videos / time to only decode them.

``python -m videosync.eval.throughput --cameras 4 --minutes 5 --size 1280x720 --folder DIR``

1. **Footage** (cached in ``--folder``): one master stream of the 2-D world of
   :mod:`videosync.testing.rig` (rendered at 1/8 of the size and scaled up, H.264 ultrafast, one key frame
   per second, no B-frames), cut by stream copy into N cameras that start whole seconds apart
   (every camera sees the same view: this measures speed, not accuracy).
2. **Decode only**: every file decoded and scaled to the working size (longer side 160, grey),
   exactly as the embedder reads it, nothing else.
3. **Sync**: :func:`videosync.sync` on the same files (every pair; pairs longer than
   ``longmatch.LONG_SECONDS`` coarse-to-fine), optionally with ``drift``.

Peak resident memory is sampled during each phase (a thread reading ``/proc/self/statm``).
Wall and CPU time (``time.process_time``, all threads of this process) are both reported: on
a shared machine the CPU-time ratio is the one that measures our work.
The library prints nothing; ``main`` prints the summary.
"""

from __future__ import annotations

import json
import os
import threading
import time
from fractions import Fraction

import numpy as np


class PeakRSS:
    """Peak resident set size (bytes) of this process while the ``with`` block runs."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def current() -> int:
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):  # pragma: no cover - not Linux
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.peak = self.current()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


def make_long_footage(folder: str, *, cameras: int = 4, minutes: float = 5.0, size=(1280, 720), fps: int = 30,
                      spacing_seconds: int = 7, seed: int = 0) -> tuple[list[str], list[float]]:
    """Write (or reuse) N long camera files; returns (paths, true offsets with camera 0 as reference)."""
    import av

    from videosync.testing.rig import World, _camera_grid

    os.makedirs(folder, exist_ok=True)
    seconds = int(round(minutes * 60))
    paths = [os.path.join(folder, f"cam{k}.mp4") for k in range(cameras)]
    # Camera k starts k·spacing s later into the master: the master instant at cam0's t shows at
    # cam k's t − k·spacing, so offset_seconds[k] = −k·spacing.
    offsets = [-float(k * spacing_seconds) for k in range(cameras)]
    tag = os.path.join(folder, "footage.json")
    want = {"cameras": cameras, "seconds": seconds, "size": list(size), "fps": fps, "spacing": spacing_seconds,
            "seed": seed}
    if os.path.exists(tag) and all(os.path.exists(p) for p in paths):
        with open(tag) as f:
            if json.load(f) == want:
                return paths, offsets
    master = os.path.join(folder, "master.mp4")
    w, h = size
    small = (max(2, w // 8), max(2, h // 8))
    world = World(seed)
    x, y = _camera_grid(np.random.default_rng(seed), small, 0)
    bg = world.background(x, y)
    total = (seconds + spacing_seconds * (cameras - 1) + 1) * fps
    with av.open(master, "w") as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        st.options = {"preset": "ultrafast", "crf": "23", "bf": "0", "g": str(fps), "keyint_min": str(fps),
                      "sc_threshold": "0"}
        for n in range(total):
            img = (np.clip(world.render(n / fps, x, y, bg), 0, 1) * 255).astype(np.uint8)
            big = np.ascontiguousarray(np.repeat(np.repeat(img, 8, axis=0), 8, axis=1)[:h, :w])
            frame = av.VideoFrame.from_ndarray(big, format="rgb24")
            frame.pts = n
            frame.time_base = Fraction(1, fps)
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    for k, path in enumerate(paths):
        _cut(master, path, k * spacing_seconds, seconds)
    os.remove(master)
    with open(tag, "w") as f:
        json.dump(want, f)
    return paths, offsets


def _cut(src: str, dst: str, start_seconds: float, seconds: float) -> None:
    """Stream-copy [start, start + seconds) of ``src`` (key frame at start; no B-frames)."""
    import av

    with av.open(src) as inp, av.open(dst, "w") as out:
        vs = inp.streams.video[0]
        os_ = out.add_stream_from_template(vs)
        tb = vs.time_base
        p0 = None
        for pkt in inp.demux(vs):
            if pkt.pts is None:
                continue
            t = float(pkt.pts * tb)
            if t < start_seconds - 1e-6:
                continue
            if t >= start_seconds + seconds - 1e-6:
                break
            if p0 is None:
                if not pkt.is_keyframe:
                    continue
                p0 = pkt.pts
            pkt.pts -= p0
            pkt.dts -= p0
            pkt.stream = os_
            out.mux(pkt)


def decode_only(paths, *, max_side: int = 160) -> int:
    """Decode and scale every file to the working size, as the embedder does; returns frames."""
    from videosync.io import open_video

    n = 0
    for p in paths:
        with open_video(p) as r:
            for _t, _img in r.frames(max_side=max_side, pixel_format="gray"):
                n += 1
    return n


def run_throughput(paths, offsets, *, drift: bool = False) -> dict:
    """Time decode-only and sync on the same files in this process; peak RSS of each phase."""
    from videosync.io import probe
    from videosync.pipeline import sync

    infos = [probe(p) for p in paths]
    with PeakRSS() as mem_d:
        t0, c0 = time.perf_counter(), time.process_time()
        frames = decode_only(paths)
        t_decode, c_decode = time.perf_counter() - t0, time.process_time() - c0
    with PeakRSS() as mem_s:
        t0, c0 = time.perf_counter(), time.process_time()
        result = sync(paths, drift=drift)
        t_sync, c_sync = time.perf_counter() - t0, time.process_time() - c0
    errs = [abs(v.offset_seconds - o) for v, o in zip(result.videos, offsets)]
    return {
        "cameras": len(paths),
        "seconds_each": round(float(np.mean([i.duration_seconds for i in infos])), 1),
        "size": f"{infos[0].width}x{infos[0].height}",
        "frames_decoded": frames,
        "decode_seconds": round(t_decode, 2),
        "sync_seconds": round(t_sync, 2),
        "ratio": round(t_sync / t_decode, 3),
        "decode_cpu_seconds": round(c_decode, 2),
        "sync_cpu_seconds": round(c_sync, 2),
        "cpu_ratio": round(c_sync / c_decode, 3),
        "load_average": os.getloadavg()[0],
        "peak_rss_decode_mb": round(mem_d.peak / 2**20, 1),
        "peak_rss_sync_mb": round(mem_s.peak / 2**20, 1),
        "max_offset_error_seconds": round(max(errs), 4),
        "min_confidence": round(min(v.confidence for v in result.videos), 3),
        "drift": drift,
    }


def main(argv=None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--folder", required=True)
    ap.add_argument("--drift", action="store_true")
    a = ap.parse_args(argv)
    w, h = (int(v) for v in a.size.lower().split("x"))
    t0 = time.perf_counter()
    paths, offsets = make_long_footage(a.folder, cameras=a.cameras, minutes=a.minutes, size=(w, h), fps=a.fps)
    print(f"footage ready in {time.perf_counter() - t0:.0f} s: {', '.join(paths)}", flush=True)
    print(json.dumps(run_throughput(paths, offsets, drift=a.drift), indent=1))


if __name__ == "__main__":
    main()
