"""A small capsule humanoid (our own MJCF, licence-clean) and a kinematic walker for it.

The body faces +x, z is up, lengths in metres (about 1.75 m tall). Joint signs are chosen
so that a positive angle is the natural direction: hip/shoulder flexion swings the limb
forward, knee flexion bends the shin back, elbow flexion brings the forearm forward,
ankle dorsiflexion lifts the toes, abduction moves the limb outward.

:class:`Walker` drives the joints as an exact function of world time: a walking gait whose
cadence, stride and "activity" vary smoothly and non-periodically (sums of incommensurate
sinusoids), a path steered towards a wandering target inside a region, arm swing plus
seeded arm gestures (raise, wave), torso and head movements. The feet are put on the
ground by forward kinematics each frame.
"""

from __future__ import annotations

import math

import numpy as np

from videosync.synth._signals import (
    Smooth,
    Table,
    chunked_poisson,
    crossings,
    grid,
    integrate_phase,
    quat_yaw_pitch_roll,
    rng_for,
)

JOINTS = [
    "abd_z", "abd_y", "abd_x", "neck_z", "neck_y",
    "sh_flex_L", "sh_abd_L", "elbow_L", "sh_flex_R", "sh_abd_R", "elbow_R",
    "hip_flex_L", "hip_abd_L", "hip_rot_L", "knee_L", "ankle_L",
    "hip_flex_R", "hip_abd_R", "hip_rot_R", "knee_R", "ankle_R",
]


def _rgba(c) -> str:
    return " ".join(f"{x:.3f}" for x in c) + " 1"


def humanoid_xml(p: str, rng: np.random.Generator) -> str:
    """MJCF for one humanoid; every name is prefixed with ``p``; colours from ``rng``."""
    shirt = rng.uniform(0.1, 0.95, 3)
    pants = rng.uniform(0.05, 0.6, 3)
    skin = np.array([0.55, 0.4, 0.3]) * rng.uniform(0.6, 1.5)
    skin = np.clip(skin, 0, 1)
    shoes = rng.uniform(0.05, 0.3, 3)
    s, t, k, f = _rgba(shirt), _rgba(pants), _rgba(skin), _rgba(shoes)
    hat = _rgba(rng.uniform(0, 1, 3))

    def arm(side: str, y: float, abd_axis: str) -> str:
        return f"""
        <body name="{p}upper_arm_{side}" pos="0 {y} 0.06">
          <joint name="{p}sh_flex_{side}" axis="0 -1 0"/>
          <joint name="{p}sh_abd_{side}" axis="{abd_axis}"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.27" size="0.045" rgba="{s}"/>
          <body name="{p}forearm_{side}" pos="0 0 -0.29">
            <joint name="{p}elbow_{side}" axis="0 -1 0"/>
            <geom type="capsule" fromto="0 0 0 0 0 -0.23" size="0.037" rgba="{k}"/>
            <geom type="sphere" pos="0 0 -0.28" size="0.048" rgba="{k}"/>
          </body>
        </body>"""

    def leg(side: str, y: float, abd_axis: str) -> str:
        return f"""
      <body name="{p}thigh_{side}" pos="0 {y} -0.04">
        <joint name="{p}hip_flex_{side}" axis="0 -1 0"/>
        <joint name="{p}hip_abd_{side}" axis="{abd_axis}"/>
        <joint name="{p}hip_rot_{side}" axis="0 0 1"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.40" size="0.065" rgba="{t}"/>
        <body name="{p}shin_{side}" pos="0 0 -0.42">
          <joint name="{p}knee_{side}" axis="0 1 0"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.37" size="0.05" rgba="{t}"/>
          <body name="{p}foot_{side}" pos="0 0 -0.42">
            <joint name="{p}ankle_{side}" axis="0 -1 0"/>
            <geom name="{p}foot_{side}" type="capsule" fromto="-0.05 0 0 0.15 0 0" size="0.035" rgba="{f}"/>
          </body>
        </body>
      </body>"""

    return f"""
    <body name="{p}pelvis" pos="0 0 0.95">
      <freejoint name="{p}root"/>
      <geom type="capsule" fromto="0 -0.08 0 0 0.08 0" size="0.09" rgba="{t}"/>
      <body name="{p}abdomen" pos="0 0 0.12">
        <joint name="{p}abd_z" axis="0 0 1"/>
        <joint name="{p}abd_y" axis="0 1 0"/>
        <joint name="{p}abd_x" axis="1 0 0"/>
        <geom type="capsule" fromto="0 -0.07 0.04 0 0.07 0.04" size="0.08" rgba="{s}"/>
        <body name="{p}chest" pos="0 0 0.21">
          <geom type="capsule" fromto="0 -0.1 0 0 0.1 0" size="0.09" rgba="{s}"/>
          <body name="{p}head" pos="0 0 0.13">
            <joint name="{p}neck_z" axis="0 0 1"/>
            <joint name="{p}neck_y" axis="0 1 0"/>
            <geom type="capsule" fromto="0 0 0 0 0 0.06" size="0.04" rgba="{k}"/>
            <geom type="sphere" pos="0.01 0 0.15" size="0.095" rgba="{k}"/>
            <geom type="ellipsoid" pos="0.0 0 0.215" size="0.1 0.095 0.045" rgba="{hat}"/>
            <geom type="sphere" pos="0.095 0 0.15" size="0.022" rgba="{k}"/>
          </body>{arm("L", 0.2, "1 0 0")}{arm("R", -0.2, "-1 0 0")}
        </body>
      </body>{leg("L", 0.09, "1 0 0")}{leg("R", -0.09, "-1 0 0")}
    </body>"""


class Walker:
    """Kinematic walking motion of one humanoid as a function of world time."""

    def __init__(self, prefix: str, seed: int, index: int, centre, radius: float, w_end: float):
        self.p = prefix
        rng = rng_for(seed, "walker", index)
        self.centre = np.asarray(centre, float)
        self.radius = float(radius)
        t = grid(w_end)
        self.t = t
        act = Smooth(rng, 0.02, 0.15, 5)
        cad = Smooth(rng, 0.05, 0.4, 4)
        tgt = Smooth(rng, 0.03, 0.15, 4, dims=2)
        turn = Smooth(rng, 0.1, 0.6, 4)
        g = np.clip(0.72 + 0.5 * act(t), 0.15, 1.0)
        f0 = rng.uniform(0.82, 1.0)
        f = f0 * (0.8 + 0.2 * g) * (1 + 0.06 * cad(t))
        phase = integrate_phase(f) + rng.uniform(0, 2 * np.pi)
        stride = rng.uniform(1.15, 1.4)
        v = stride * f * g ** 1.5
        target = self.centre + 0.75 * self.radius * np.clip(tgt(t), -1.2, 1.2)
        turn_t = 0.35 * turn(t)
        th = rng.uniform(-np.pi, np.pi)
        pos = self.centre + rng.uniform(-0.3, 0.3, 2) * self.radius
        n = len(t)
        xs, ys, ths = np.empty(n), np.empty(n), np.empty(n)
        x, y = float(pos[0]), float(pos[1])
        dt = t[1] - t[0]
        tx, ty = target[:, 0], target[:, 1]
        for i in range(n):
            xs[i], ys[i], ths[i] = x, y, th
            des = math.atan2(ty[i] - y, tx[i] - x)
            err = (des - th + math.pi) % (2 * math.pi) - math.pi
            far = math.hypot(x - self.centre[0], y - self.centre[1]) / self.radius
            gain = 0.6 + 2.5 * max(0.0, far - 0.6)
            rate = max(-1.3, min(1.3, gain * err)) + turn_t[i]
            th += rate * dt
            x += v[i] * dt * math.cos(th)
            y += v[i] * dt * math.sin(th)
        self.table = Table(np.stack([xs, ys, ths, phase, g, v], axis=1))
        # events: heel strikes (left at phase pi/2, right at 3pi/2)
        self.steps_L = crossings(phase, t, 0.5 * np.pi)
        self.steps_R = crossings(phase, t, 1.5 * np.pi)
        self._g = g
        # gestures per arm: (centre, width, flex, abd, elbow, wave_hz, wave_amp)
        self.gestures = []
        for side in ("L", "R"):
            grng = rng_for(seed, "gesture", index, side)
            c = chunked_poisson(grng, 0.22, w_end + 5.0)
            prm = rng_for(seed, "gesture-params", index, side).uniform(size=(len(c), 6))
            self.gestures.append(np.column_stack([
                c,
                0.35 + 0.7 * prm[:, 0],          # width (s)
                0.4 + 2.3 * prm[:, 1],           # shoulder flexion
                1.3 * prm[:, 2] ** 2,            # abduction
                0.2 + 1.5 * prm[:, 3],           # elbow
                1.5 + 2.0 * prm[:, 4],           # wave frequency
                np.where(prm[:, 5] > 0.5, 0.5 * prm[:, 5], 0.0),  # wave amplitude (half the gestures wave)
            ]))
        self.head = Smooth(rng, 0.05, 0.5, 5, dims=2)
        self.torso = Smooth(rng, 0.05, 0.4, 5, dims=2)
        self.qadr: dict[str, int] = {}
        self.root_adr = 0
        self.foot_geoms: list[int] = []

    def bind(self, model) -> None:
        import mujoco

        for j in JOINTS:
            self.qadr[j] = int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, self.p + j)])
        self.root_adr = int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, self.p + "root")])
        self.foot_geoms = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, self.p + f"foot_{s}") for s in "LR"]

    def _gesture(self, side: int, w: float) -> tuple[float, float, float]:
        gs = self.gestures[side]
        if len(gs) == 0:
            return 0.0, 0.0, 0.0
        i0 = np.searchsorted(gs[:, 0], w - 4.0)
        i1 = np.searchsorted(gs[:, 0], w + 4.0)
        fl = ab = el = 0.0
        for c, wd, a_fl, a_ab, a_el, wf, wa in gs[i0:i1]:
            b = math.exp(-0.5 * ((w - c) / wd) ** 2)
            fl += a_fl * b
            ab += a_ab * b
            el += a_el * b + wa * b * math.sin(2 * math.pi * wf * (w - c))
        return min(fl, 2.8), min(ab, 1.4), el

    def set_qpos(self, qpos: np.ndarray, w: float) -> None:
        x, y, th, ph, g, v = self.table(w)
        q = self.qadr
        A = 0.48 * g
        for side, sh in (("L", 0.0), ("R", math.pi)):
            phs = ph + sh
            qpos[q["hip_flex_" + side]] = A * math.sin(phs) + 0.06
            qpos[q["hip_abd_" + side]] = 0.04 + 0.03 * g * math.sin(phs)
            qpos[q["hip_rot_" + side]] = 0.05
            qpos[q["knee_" + side]] = 0.08 + 1.15 * g * (0.5 + 0.5 * math.cos(phs + 0.45)) ** 3
            qpos[q["ankle_" + side]] = 0.25 * g * math.sin(phs + 0.9)
        for i, (side, sh) in enumerate((("L", math.pi), ("R", 0.0))):
            fl, ab, el = self._gesture(i, w)
            swing = 0.6 * A * math.sin(ph + sh)
            qpos[q["sh_flex_" + side]] = swing * (1 - min(fl, 1.0)) + fl
            qpos[q["sh_abd_" + side]] = 0.12 + ab
            qpos[q["elbow_" + side]] = 0.25 + 0.25 * A * (1 + math.sin(ph + sh)) + max(el, -0.2)
        hd = self.head(w)
        tr = self.torso(w)
        qpos[q["neck_z"]] = 0.7 * hd[0]
        qpos[q["neck_y"]] = 0.1 + 0.2 * hd[1]
        qpos[q["abd_z"]] = 0.12 * g * math.sin(ph) + 0.2 * tr[0]
        qpos[q["abd_y"]] = 0.05 + 0.1 * abs(tr[1])
        qpos[q["abd_x"]] = 0.04 * g * math.sin(ph)
        r = self.root_adr
        qpos[r:r + 3] = (x, y, 0.95)
        qpos[r + 3:r + 7] = quat_yaw_pitch_roll(th, 0.06 * g, 0.025 * math.sin(ph))

    def ground(self, model, data, qpos: np.ndarray) -> None:
        """Shift the root so the lower foot touches z = 0 (after a kinematics pass)."""
        low = np.inf
        for gid in self.foot_geoms:
            c = data.geom_xpos[gid]
            ax = data.geom_xmat[gid].reshape(3, 3)[:, 2] * model.geom_size[gid, 1]
            low = min(low, c[2] - abs(ax[2]) - model.geom_size[gid, 0])
        qpos[self.root_adr + 2] -= low

    def events(self, w_lo: float, w_hi: float) -> list[tuple[float, float, float, float]]:
        out = []
        for st in (self.steps_L, self.steps_R):
            for w in st[(st >= w_lo) & (st <= w_hi)]:
                g = float(self.table(w)[4])
                out.append((float(w), 0.25 + 0.55 * g, 140.0, 0.03))
        return out


__all__ = ["JOINTS", "humanoid_xml", "Walker"]
