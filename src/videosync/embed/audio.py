"""Audio embedder: per-band onset strength of the sound track, on the video's timeline.

The audio stream is decoded with PyAV in one streaming pass (memory does not grow with
duration), down-mixed to mono and resampled to ``sample_rate_hz`` (16 kHz by default) by
FFmpeg's resampler, which keeps sample 0 at the first decoded frame's pts. A short-time
Fourier transform (``n_fft`` = 32 ms Hann window, hop ``hop_seconds`` = 10 ms) gives the
energy in ``n_bands`` log-spaced bands between 60 Hz and the Nyquist frequency; the
features are

* ``"onset"`` (default): the half-wave rectified first difference of the log band energy
  (spectral flux in the log domain), so only sound *starting* counts — robust to gain,
  microphone response and steady background noise;
* ``"energy"``: the log band energy envelope itself;
* ``"both"``: the two side by side.

Times are on the **video's** own timeline (:mod:`videosync.timebase`): a row at audio
container time *t* gets ``t − start_pts_seconds`` of the first video frame, so an audio
stream that starts before or after the first video frame is placed correctly. Rows outside
the video's span are dropped. A sound-only file (a recorder's .wav, probed with
``allow_audio_only``) has its own timeline starting at its first audio sample.

Rows are marked invalid (``valid=False``) where nothing usable was heard: quieter than
``silence_dbfs`` (digital or near silence), or where more than 10 % of the samples within
0.5 s are near full scale (≥ 0.95: lossy codecs ripple around a clipped top). That is
sustained clipping, where the envelope no longer follows the sound; a clap that clips for
a few milliseconds keeps its sharp onset and stays valid. A file without
an audio stream gives an embedding whose rows are all invalid, never an exception, and the
lag predictor answers such pairs with confidence 0.

Different microphones weight the bands differently, so the embedding declares that its
channels do not correspond between cameras (``channels_correspond=False``): the ``lag``
predictor then matches each band to its best-correlated band of the other recording and
scores lags by the Fisher significance of that correlation
(:func:`videosync.similarity.matched_lag_profile`), which weights loud transients and makes
short overlaps comparable.

Sound reaches each microphone ``distance / 343 m/s`` after it was made (≈ 2.9 ms per metre;
``docs/audio.md``): audio offsets include the difference of the two cameras' distances to
the source, which a visual offset does not.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

import numpy as np

from videosync._validation import check_choice, check_number
from videosync.embed.base import Embedder, Embedding, Frames, ProgressCallback
from videosync.errors import DecodeError
from videosync.io import VideoInfo, probe

logger = logging.getLogger(__name__)

CLIP_LEVEL = 0.95
"""|sample| at or above this fraction of full scale counts as clipped."""
CLIPPED_ROW_FRACTION = 0.1
CLIP_WINDOW_SECONDS = 0.5
"""A row is invalid when more than CLIPPED_ROW_FRACTION of the samples within
CLIP_WINDOW_SECONDS around it are clipped (sustained clipping)."""
GAP_SECONDS = 0.02
"""A jump in the audio pts larger than this is filled with silence (whole output samples, so
later samples stay within half a sample of their time)."""


@dataclass(frozen=True)
class AudioChunk:
    """Consecutive mono samples of one audio stream."""

    start_seconds: float
    """Time of the first sample on the video's own timeline."""
    samples: np.ndarray
    """(n,) float32 in [-1, 1] (may slightly exceed after resampling)."""


def _to_float(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        return x.astype(np.float32, copy=False)
    if x.dtype.kind == "u":
        bits = 8 * x.dtype.itemsize
        return ((x.astype(np.float32) - 2 ** (bits - 1)) / 2 ** (bits - 1)).astype(np.float32)
    return (x.astype(np.float32) / float(np.iinfo(x.dtype).max)).astype(np.float32)


class AudioStream:
    """Streaming decode of a video file's first audio stream, resampled to mono.

    Iterate for :class:`AudioChunk` s (contiguous; pts gaps filled with zeros). Times are
    on the video's own timeline (time 0 = first video frame). ``clipped`` collects
    ``(start_seconds, stop_seconds, clipped_fraction)`` of decoded frames with any
    clipped sample (measured before resampling).
    """

    def __init__(self, path: str | os.PathLike, *, sample_rate_hz: int = 16000,
                 video_start_seconds: float | None = None, start_seconds: float | None = None) -> None:
        self.path = os.fspath(path)
        self.sample_rate_hz = int(sample_rate_hz)
        self.video_start_seconds = (probe(self.path, allow_audio_only=True).start_pts_seconds
                                    if video_start_seconds is None else float(video_start_seconds))
        self.start_seconds = start_seconds
        self.clipped: list[tuple[float, float, float]] = []

    def __iter__(self):
        import av

        try:
            container = av.open(self.path)
        except av.error.FFmpegError as exc:  # probe succeeded, so this is unexpected
            raise DecodeError(self.path, f"cannot open the audio: {exc}") from None
        try:
            if not container.streams.audio:
                return
            st = container.streams.audio[0]
            st.thread_type = "AUTO"
            if self.start_seconds is not None and self.start_seconds > 1.0:
                target = self.start_seconds + self.video_start_seconds - 1.0
                try:
                    container.seek(int(target / st.time_base), stream=st, backward=True)
                except av.error.FFmpegError:
                    pass  # decode from the start instead
            rs = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate_hz)
            sr = self.sample_rate_hz
            next_in = None  # expected container time of the next decoded frame
            out_start = None  # video-timeline time of the next output sample
            gap = 0.0  # seconds missing from the stream, not yet filled
            for frame in container.decode(st):
                t_in = frame.time if frame.pts is not None else next_in  # float pts × time_base
                if t_in is None:
                    t_in = 0.0
                raw = frame.to_ndarray()
                if raw.size:
                    x = _to_float(raw)
                    frac = np.count_nonzero(np.abs(x) >= CLIP_LEVEL) / x.size
                    if frac > 0:
                        t0 = t_in - self.video_start_seconds
                        self.clipped.append((t0, t0 + frame.samples / frame.sample_rate, frac))
                if next_in is not None and t_in - next_in > GAP_SECONDS:
                    gap += t_in - next_in
                next_in = t_in + frame.samples / float(frame.sample_rate)
                for g in rs.resample(frame):
                    y = g.to_ndarray().reshape(-1).astype(np.float32)
                    if out_start is None:
                        # The resampler's first output sample is the first input sample's instant
                        # (its own pts is rounded to the output rate: up to half a sample off).
                        out_start = t_in - self.video_start_seconds
                    elif gap > 0:  # a hole in the stream: keep later samples on time
                        n_gap = int(round(gap * sr))
                        yield AudioChunk(out_start, np.zeros(n_gap, np.float32))
                        out_start += n_gap / sr
                        gap = 0.0
                    if y.size:
                        yield AudioChunk(out_start, y)
                        out_start += y.size / sr
            for g in rs.resample(None):
                y = g.to_ndarray().reshape(-1).astype(np.float32)
                if y.size and out_start is not None:
                    yield AudioChunk(out_start, y)
                    out_start += y.size / sr
        except av.error.FFmpegError as exc:
            raise DecodeError(self.path, f"audio decoding failed: {exc}") from None
        finally:
            container.close()


def read_audio(path: str | os.PathLike, start_seconds: float, stop_seconds: float, *,
               sample_rate_hz: int = 16000, video_start_seconds: float | None = None) -> tuple[float, np.ndarray]:
    """Mono samples of ``path`` between two times of the video's timeline.

    Returns ``(t0, samples)``: ``samples[k]`` is the instant ``t0 + k / sample_rate_hz``
    (``t0`` is the first sample at or after ``start_seconds``; fewer samples where the
    audio does not cover the range; an empty array without audio). Seeks, so memory and
    time depend on the window, not on the file's length.
    """
    sr = int(sample_rate_hz)
    stream = AudioStream(path, sample_rate_hz=sr, video_start_seconds=video_start_seconds,
                         start_seconds=start_seconds)
    parts: list[np.ndarray] = []
    t0 = None
    for ch in stream:
        n = ch.samples.size
        t_end = ch.start_seconds + n / sr
        if t_end <= start_seconds:
            continue
        if ch.start_seconds >= stop_seconds:
            break
        i0 = max(0, int(math.ceil((start_seconds - ch.start_seconds) * sr - 1e-6)))
        i1 = min(n, int(math.ceil((stop_seconds - ch.start_seconds) * sr - 1e-6)))
        if i1 <= i0:
            continue
        if t0 is None:
            t0 = ch.start_seconds + i0 / sr
        parts.append(ch.samples[i0:i1])
    if t0 is None:
        return float(start_seconds), np.zeros(0, np.float32)
    return float(t0), np.concatenate(parts)


def band_edges_hz(n_bands: int, sample_rate_hz: int, low_hz: float = 60.0) -> np.ndarray:
    """(n_bands + 1,) log-spaced band edges from ``low_hz`` to the Nyquist frequency."""
    return np.geomspace(low_hz, sample_rate_hz / 2.0, n_bands + 1)


class _Envelope:
    """Streaming STFT band energies (one row per hop)."""

    def __init__(self, sr: int, n_fft: int, hop: int, n_bands: int) -> None:
        self.n_fft, self.hop = n_fft, hop
        self.window = np.hanning(n_fft + 2)[1:-1].astype(np.float32)  # periodic-like, no zero ends
        freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
        edges = band_edges_hz(n_bands, sr)
        m = np.zeros((freqs.size, n_bands), np.float32)
        for b in range(n_bands):
            m[(freqs >= edges[b]) & (freqs < edges[b + 1] + (b == n_bands - 1)), b] = 1.0
        # Mean square of the windowed signal per band (Parseval), so levels read like dBFS.
        self.bands = m * (2.0 / (n_fft * float(np.sum(self.window**2))))
        self.buf = np.zeros(0, np.float32)
        self.rows: list[np.ndarray] = []

    def feed(self, x: np.ndarray) -> None:
        self.buf = np.concatenate([self.buf, x]) if self.buf.size else x.astype(np.float32)
        n = (self.buf.size - self.n_fft) // self.hop + 1
        if n <= 0:
            return
        idx = np.arange(self.n_fft)[None, :] + self.hop * np.arange(n)[:, None]
        frames = self.buf[idx] * self.window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        self.rows.append((power @ self.bands).astype(np.float32))
        self.buf = self.buf[n * self.hop:]

    def result(self) -> np.ndarray:
        return np.concatenate(self.rows) if self.rows else np.zeros((0, self.bands.shape[1]), np.float32)


class AudioEmbedder(Embedder):
    name = "audio"
    summary = "sound track: per-band onset strength (log spectral flux) at 100 Hz; no weights"
    pixel_format = "gray"
    default_metric = "cosine"

    def __init__(self, *, sample_rate_hz: int = 16000, hop_seconds: float = 0.01, n_bands: int = 4,
                 features: str = "onset", silence_dbfs: float = -70.0) -> None:
        super().__init__()
        self.sample_rate_hz = check_number("AudioEmbedder", "sample_rate_hz", sample_rate_hz, low=2000,
                                           high=192000, integer=True)
        self.hop_seconds = check_number("AudioEmbedder", "hop_seconds", hop_seconds, low=0.001, high=0.1)
        self.n_bands = check_number("AudioEmbedder", "n_bands", n_bands, low=1, high=16, integer=True)
        self.features = check_choice("AudioEmbedder", "features", features, ("onset", "energy", "both"))
        self.silence_dbfs = check_number("AudioEmbedder", "silence_dbfs", silence_dbfs, low=-160, high=0)

    @classmethod
    def test_params(cls):
        return [{}, {"sample_rate_hz": 8000, "hop_seconds": 0.02, "n_bands": 2, "features": "both"}]

    @property
    def n_fft(self) -> int:
        """Window length in samples: 32 ms rounded to a power of two, at least two hops."""
        want = max(0.032 * self.sample_rate_hz, 2 * self.hop_seconds * self.sample_rate_hz)
        return int(2 ** math.ceil(math.log2(want)))

    @property
    def dim(self) -> int:
        return self.n_bands * (2 if self.features == "both" else 1)

    # Video frames are not needed: read the sound of the file the frames came from.
    def embed_video(self, path: str | os.PathLike, *, progress: ProgressCallback | None = None) -> Embedding:
        info = probe(path, allow_audio_only=True)
        return self.embed_audio(info, progress=progress)

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        return self.embed_audio(info)

    def _empty(self, info: VideoInfo) -> Embedding:
        """All rows invalid over the video's span (no audio, or too little of it)."""
        n = max(2, int(info.duration_seconds / self.hop_seconds))
        t = np.arange(n) * self.hop_seconds
        return Embedding(t, np.zeros((n, self.dim), np.float32), valid=np.zeros(n, bool),
                         channels_correspond=False)

    def embed_audio(self, info: VideoInfo, *, progress: ProgressCallback | None = None) -> Embedding:
        """The embedding of ``info.path``'s first audio stream (all invalid without one)."""
        if not info.has_audio:
            return self._empty(info)
        sr = self.sample_rate_hz
        hop = max(1, int(round(self.hop_seconds * sr)))
        n_fft = self.n_fft
        env = _Envelope(sr, n_fft, hop, self.n_bands)
        stream = AudioStream(info.path, sample_rate_hz=sr, video_start_seconds=info.start_pts_seconds)
        t_first = None
        last = -1.0
        pending: list[np.ndarray] = []  # fed in blocks of ≥ 0.5 s: fewer, larger FFT batches
        n_pending = 0
        try:
            for ch in stream:
                if t_first is None:
                    t_first = ch.start_seconds
                pending.append(ch.samples)
                n_pending += ch.samples.size
                if n_pending >= sr // 2:
                    env.feed(np.concatenate(pending))
                    pending, n_pending = [], 0
                if progress is not None and info.duration_seconds > 0:
                    frac = min(1.0, max(0.0, (ch.start_seconds + ch.samples.size / sr) / info.duration_seconds))
                    if frac - last >= 0.01:
                        progress(frac)
                        last = frac
        except DecodeError as exc:  # a damaged sound track is no evidence, not a failed sync
            logger.warning("%s: audio kept up to the damage only (%s)", info.path, exc)
        if pending:
            env.feed(np.concatenate(pending))
        if progress is not None:
            progress(1.0)
        energy = env.result().astype(np.float64)
        if t_first is None or energy.shape[0] < 3:
            return self._empty(info)
        t = t_first + (np.arange(energy.shape[0]) * hop + n_fft / 2.0) / sr
        floor = 10.0 ** (self.silence_dbfs / 10.0)
        log_e = np.log10(energy + floor)
        onset = np.maximum(0.0, np.diff(log_e, axis=0, prepend=log_e[:1]))
        feats = onset if self.features == "onset" else log_e if self.features == "energy" else np.concatenate(
            [onset, log_e], axis=1)
        valid = energy.sum(axis=1) > floor
        valid[0] = False  # no previous frame for the onset
        if stream.clipped:
            clip = np.zeros(t.size)
            for c0, c1, frac in stream.clipped:
                i0, i1 = np.searchsorted(t, [c0 - n_fft / (2.0 * sr), c1 + n_fft / (2.0 * sr)])
                clip[i0:i1] = np.maximum(clip[i0:i1], frac)
            # Sustained clipping only: a clap that clips for a few ms still has a sharp onset.
            k = max(1, int(round(CLIP_WINDOW_SECONDS / (hop / sr))))
            sustained = np.convolve(clip, np.ones(k), mode="same") / np.convolve(np.ones_like(clip), np.ones(k),
                                                                                 mode="same")
            valid &= sustained <= CLIPPED_ROW_FRACTION
        keep = (t >= -1e-9) & (t <= info.duration_seconds + 1e-9)
        if keep.sum() < 2:
            return self._empty(info)
        return Embedding(t[keep], feats[keep].astype(np.float32), valid=valid[keep], channels_correspond=False)
