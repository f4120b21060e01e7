"""Smooth, non-periodic, seed-determined signals of continuous world time.

Everything that moves in a synthetic world is a deterministic function of world time *w*
(seconds). Two building blocks:

* :class:`Smooth`: a sum of sinusoids with random real (hence incommensurate) frequencies,
  amplitudes falling as 1/f, random phases; values roughly in [-1, 1]. Defined for every w,
  independent of any clip span.
* :class:`Table`: a quantity obtained by integrating an ODE (positions, headings, rolling
  orientations) on a fixed grid that starts at :data:`T0` (−60 s), evaluated by linear
  interpolation. Starting at a fixed instant, not at the clip's first frame, keeps the world
  a function of the seed alone: re-rendering with other offsets or durations shows the same
  motion at the same world instants.

Event sequences (bounces, pours, arm gestures) are drawn in fixed-size chunks from their
own random stream starting at T0, so that their prefix does not depend on how far the
sequence is drawn.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

T0 = -60.0
"""World time at which integrated quantities and event sequences start."""

DT = 0.002
"""Grid step of integrated tables (s)."""


def rng_for(seed: int, *key: int | str) -> np.random.Generator:
    """An independent random stream for (seed, key...): the same on every machine and run."""
    blob = repr((int(seed),) + tuple(key)).encode()
    digest = hashlib.sha256(blob).digest()
    return np.random.default_rng([int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)])


class Smooth:
    """A smooth random signal: ``sum_i a_i sin(2π f_i w + p_i)``, normalised to about [-1, 1].

    Frequencies are drawn log-uniformly in [fmin, fmax]; with real-valued random frequencies
    no two components share a period, so the sum never repeats exactly.
    """

    def __init__(self, rng: np.random.Generator, fmin: float = 0.05, fmax: float = 0.5, n: int = 6, dims: int = 1):
        self.dims = dims
        self.f = np.exp(rng.uniform(np.log(fmin), np.log(fmax), size=(dims, n)))
        self.p = rng.uniform(0, 2 * np.pi, size=(dims, n))
        a = rng.uniform(0.5, 1.0, size=(dims, n)) / self.f
        # sum of |a| bounds the signal; divide by ~RMS·2.2 so most values fall in [-1, 1]
        self.a = a / (np.sqrt(0.5 * (a ** 2).sum(axis=1, keepdims=True)) * 2.2)

    def __call__(self, w):
        """Value(s) at world time w: shape (dims,) for scalar w (or a float when dims=1)."""
        w_arr = np.asarray(w, dtype=float)
        v = (self.a[..., None] * np.sin(2 * np.pi * self.f[..., None] * w_arr.reshape(-1) + self.p[..., None])).sum(axis=1)
        if w_arr.ndim == 0:
            v = v[:, 0]
            return float(v[0]) if self.dims == 1 else v
        return v[0] if self.dims == 1 else v.T

    def derivative(self, w):
        w_arr = np.asarray(w, dtype=float)
        v = (self.a[..., None] * 2 * np.pi * self.f[..., None]
             * np.cos(2 * np.pi * self.f[..., None] * w_arr.reshape(-1) + self.p[..., None])).sum(axis=1)
        if w_arr.ndim == 0:
            v = v[:, 0]
            return float(v[0]) if self.dims == 1 else v
        return v[0] if self.dims == 1 else v.T


class Table:
    """Values sampled on a grid from T0 with step DT, linearly interpolated (per column)."""

    def __init__(self, values: np.ndarray, t0: float = T0, dt: float = DT):
        self.values = np.asarray(values, dtype=float)
        if self.values.ndim == 1:
            self.values = self.values[:, None]
        self.t0 = t0
        self.dt = dt

    @property
    def t_end(self) -> float:
        return self.t0 + (len(self.values) - 1) * self.dt

    def __call__(self, w: float) -> np.ndarray:
        x = (w - self.t0) / self.dt
        i = int(math.floor(x))
        i = min(max(i, 0), len(self.values) - 2)
        f = x - i
        return (1 - f) * self.values[i] + f * self.values[i + 1]


def grid(w_end: float, t0: float = T0, dt: float = DT) -> np.ndarray:
    """Grid times from t0 to at least w_end (inclusive), step dt."""
    n = int(math.ceil((w_end - t0) / dt)) + 2
    return t0 + dt * np.arange(n)


def integrate_phase(rate_hz: np.ndarray, dt: float = DT) -> np.ndarray:
    """Phase (radians) from a rate in Hz sampled on the grid (trapezoid rule, 0 at grid start)."""
    r = np.asarray(rate_hz, dtype=float)
    inc = 0.5 * (r[1:] + r[:-1]) * dt * 2 * np.pi
    return np.concatenate([[0.0], np.cumsum(inc)])


def crossings(phase: np.ndarray, t: np.ndarray, at: float) -> np.ndarray:
    """Times where an increasing phase passes ``at + 2πk`` (linear interpolation on the grid)."""
    k = np.floor((phase - at) / (2 * np.pi))
    idx = np.nonzero(np.diff(k) > 0)[0]
    target = at + 2 * np.pi * k[idx + 1]
    f = (target - phase[idx]) / np.maximum(phase[idx + 1] - phase[idx], 1e-12)
    return t[idx] + f * (t[idx + 1] - t[idx])


def chunked_poisson(rng: np.random.Generator, rate: float, w_end: float, t0: float = T0, chunk: int = 256) -> np.ndarray:
    """Event times of a homogeneous Poisson process from t0 to w_end (prefix-stable)."""
    out = []
    t = t0
    while t <= w_end:
        gaps = rng.exponential(1.0 / rate, size=chunk)
        times = t + np.cumsum(gaps)
        out.append(times)
        t = times[-1]
    times = np.concatenate(out) if out else np.zeros(0)
    return times[times <= w_end]


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions (w, x, y, z), broadcasting over leading axes."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def quat_axis_angle(axis, angle) -> np.ndarray:
    axis = np.asarray(axis, dtype=float)
    angle = np.asarray(angle, dtype=float)
    h = 0.5 * angle
    return np.concatenate([np.cos(h)[..., None], np.sin(h)[..., None] * axis], axis=-1)


def quat_from_rotvec(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    ang = np.linalg.norm(v, axis=-1)
    safe = np.where(ang > 1e-12, ang, 1.0)
    axis = v / safe[..., None]
    q = quat_axis_angle(axis, ang)
    q[ang <= 1e-12] = [1.0, 0.0, 0.0, 0.0]
    return q


def quat_yaw_pitch_roll(yaw: float, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Rotation R = Rz(yaw)·Ry(pitch)·Rx(roll) as a quaternion."""
    qz = quat_axis_angle([0, 0, 1], yaw)
    qy = quat_axis_angle([0, 1, 0], pitch)
    qx = quat_axis_angle([1, 0, 0], roll)
    return quat_mul(quat_mul(qz, qy), qx)


def integrate_rotation(omega: np.ndarray, dt: float = DT) -> np.ndarray:
    """Orientation quaternions on the grid from world-frame angular velocity (n, k, 3) → (n, k, 4)."""
    n, k, _ = omega.shape
    out = np.empty((n, k, 4))
    q = np.tile([1.0, 0.0, 0.0, 0.0], (k, 1))
    out[0] = q
    steps = quat_from_rotvec(0.5 * (omega[1:] + omega[:-1]) * dt)
    for i in range(1, n):
        q = quat_mul(steps[i - 1], q)
        if i % 64 == 0:
            q /= np.linalg.norm(q, axis=-1, keepdims=True)
        out[i] = q
    return out


def interp_quat(table: np.ndarray, w: float, t0: float = T0, dt: float = DT) -> np.ndarray:
    """Normalised linear interpolation of a quaternion table (n, k, 4) at w → (k, 4)."""
    x = (w - t0) / dt
    i = min(max(int(math.floor(x)), 0), len(table) - 2)
    f = x - i
    a, b = table[i], table[i + 1]
    sign = np.where((a * b).sum(-1, keepdims=True) < 0, -1.0, 1.0)
    q = (1 - f) * a + f * sign * b
    return q / np.linalg.norm(q, axis=-1, keepdims=True)
