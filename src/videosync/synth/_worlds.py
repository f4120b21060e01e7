"""Scene kinds: MJCF plus kinematic motion as an exact function of world time.

Each world builds its own MJCF (bodies, assets), sets the model state for a world time w
(``apply``: qpos and mocap poses, then kinematics), says where the action is (``centre``,
``radius``: cameras are placed to see that sphere) and lists sound events (``events``:
impacts, foot contacts, ticks, chirps) as (world time, amplitude, frequency Hz, decay s).

Nothing is simulated: every pose is computed from w, so a frame rendered for world time w
shows exactly w, whichever camera renders it and in whatever order.
"""

from __future__ import annotations

import math

import numpy as np

from videosync.synth._humanoid import Walker, humanoid_xml
from videosync.synth._signals import (
    DT,
    T0,
    Smooth,
    Table,
    chunked_poisson,
    crossings,
    grid,
    integrate_phase,
    integrate_rotation,
    interp_quat,
    quat_axis_angle,
    quat_yaw_pitch_roll,
    rng_for,
)

G = 9.81
HIDDEN = np.array([0.0, 0.0, -5.0])  # below the floor: where unused particles wait


def _rgba(c, a: float = 1.0) -> str:
    return " ".join(f"{x:.3f}" for x in c) + f" {a:g}"


class World:
    name = "base"
    centre = np.array([0.0, 0.0, 0.9])
    radius = 2.0
    elevation_range = (-32.0, -8.0)

    def __init__(self, seed: int, w_end: float):
        self.seed = seed
        self.w_end = float(w_end)

    # MJCF parts
    def assets(self) -> str:
        return ""

    def bodies(self) -> str:
        return ""

    def bind(self, model) -> None:
        pass

    def apply(self, model, data, w: float) -> None:
        import mujoco

        mujoco.mj_kinematics(model, data)

    def events(self, w_lo: float, w_hi: float) -> list[tuple[float, float, float, float]]:
        return []


def build_xml(world: World, width: int, height: int, seed: int, antialias: bool) -> str:
    rng = rng_for(seed, "stage")
    c1 = rng.uniform(0.25, 0.45, 3)
    c2 = np.clip(c1 + rng.uniform(0.08, 0.2), 0, 1)
    wall = rng.uniform(0.35, 0.75, 3)
    wall2 = np.clip(wall * rng.uniform(0.6, 0.85), 0, 1)
    ld = rng.uniform(-0.5, 0.5, 2)
    return f"""<mujoco model="videosync-synth-{world.name}">
  <compiler angle="radian" autolimits="true"/>
  <option><flag contact="disable" gravity="disable" constraint="disable"/></option>
  <visual>
    <global offwidth="{max(width, 16)}" offheight="{max(height, 16)}" fovy="45"/>
    <quality shadowsize="0" offsamples="{4 if antialias else 0}"/>
    <headlight ambient=".38 .38 .38" diffuse=".45 .45 .45" specular=".05 .05 .05"/>
    <map znear=".02" zfar="60"/>
    <rgba haze="0 0 0 1"/>
  </visual>
  <asset>
    <texture name="floor" type="2d" builtin="checker" rgb1="{_rgba(c1)[:-2]}" rgb2="{_rgba(c2)[:-2]}" width="256" height="256" mark="edge" markrgb=".2 .2 .2"/>
    <material name="floor" texture="floor" texrepeat="12 12"/>
    <texture name="wall" type="2d" builtin="gradient" rgb1="{_rgba(wall)[:-2]}" rgb2="{_rgba(wall2)[:-2]}" width="64" height="64"/>
    <material name="wall" texture="wall" texrepeat="1 1"/>
    {world.assets()}
  </asset>
  <worldbody>
    <light directional="true" pos="0 0 6" dir="{ld[0]:.3f} {ld[1]:.3f} -1" diffuse=".55 .55 .55" castshadow="false"/>
    <geom name="floor" type="plane" size="14 14 .1" material="floor"/>
    <geom type="box" pos="0 14 3" size="14 .1 3" material="wall"/>
    <geom type="box" pos="0 -14 3" size="14 .1 3" material="wall"/>
    <geom type="box" pos="14 0 3" size=".1 14 3" material="wall"/>
    <geom type="box" pos="-14 0 3" size=".1 14 3" material="wall"/>
    {world.bodies()}
  </worldbody>
</mujoco>"""


# ---------------------------------------------------------------------------- humans


class HumanWorld(World):
    name = "human"
    n_people = 1
    centre = np.array([0.0, 0.0, 0.85])
    radius = 2.2

    def __init__(self, seed: int, w_end: float):
        super().__init__(seed, w_end)
        rng = rng_for(seed, "people-layout")
        n = self.n_people
        if n == 1:
            centres, region = [np.zeros(2)], 1.6
        else:
            a0 = rng.uniform(0, 2 * np.pi)
            centres = [1.5 * np.array([math.cos(a0 + 2 * np.pi * i / n), math.sin(a0 + 2 * np.pi * i / n)])
                       for i in range(n)]
            region = 1.25
        self.walkers = [Walker(f"p{i}_", seed, i, centres[i], region, w_end) for i in range(n)]
        self._colours = rng_for(seed, "people-colours")

    def bodies(self) -> str:
        return "".join(humanoid_xml(w.p, self._colours) for w in self.walkers)

    def bind(self, model) -> None:
        for w in self.walkers:
            w.bind(model)

    def apply(self, model, data, w: float) -> None:
        import mujoco

        for wk in self.walkers:
            wk.set_qpos(data.qpos, w)
        mujoco.mj_kinematics(model, data)
        for wk in self.walkers:
            wk.ground(model, data, data.qpos)
        mujoco.mj_kinematics(model, data)

    def events(self, w_lo, w_hi):
        return [e for wk in self.walkers for e in wk.events(w_lo, w_hi)]


class HumansWorld(HumanWorld):
    name = "humans"
    n_people = 3
    radius = 3.2


# ---------------------------------------------------------------------------- objects


class ObjectsWorld(World):
    """Bouncing balls (irregular hops and rests), rolling balls, spinning boxes."""

    name = "objects"
    centre = np.array([0.0, 0.0, 0.35])
    radius = 1.7
    n_bounce, n_roll, n_box = 3, 3, 2
    ROT_DT = 0.005

    def __init__(self, seed: int, w_end: float):
        super().__init__(seed, w_end)
        rng = rng_for(seed, "objects")
        nb = self.n_bounce + self.n_roll
        self.r = rng.uniform(0.12, 0.22, nb)
        self.colours = [(rng.uniform(0.4, 1, 3), rng.uniform(0, 0.4, 3)) for _ in range(nb + self.n_box)]
        R = 1.3
        self.paths = [Smooth(rng, 0.03, 0.15, 5, dims=2) if i < self.n_bounce else Smooth(rng, 0.06, 0.35, 5, dims=2)
                      for i in range(nb)]
        self.scale = np.array([0.7 * R] * self.n_bounce + [0.85 * R] * self.n_roll)
        # rolling orientation, integrated on a coarse grid from T0
        t = grid(w_end, dt=self.ROT_DT)
        vel = np.stack([self.scale[i] * self.paths[i].derivative(t) for i in range(nb)], axis=1)  # (n, nb, 2)
        spin = np.stack([Smooth(rng, 0.1, 0.5, 3)(t) for _ in range(nb)], axis=1)
        omega = np.zeros((len(t), nb, 3))
        omega[..., 0] = -vel[..., 1] / self.r
        omega[..., 1] = vel[..., 0] / self.r
        omega[..., 2] = 2.0 * spin
        self.rot = integrate_rotation(omega, dt=self.ROT_DT)
        # hop sequences of the bouncing balls: (start, duration, height)
        self.hops = []
        for i in range(self.n_bounce):
            hr = rng_for(seed, "hops", i)
            hops, tt = [], T0
            while tt < w_end + 2:
                u, rest, h = hr.uniform(size=3)
                tt += 0.0 if u < 0.55 else 0.15 + 1.3 * rest
                h = 0.08 + 0.85 * h
                d = 2 * math.sqrt(2 * h / G)
                hops.append((tt, d, h))
                tt += d
            self.hops.append(np.array(hops))
        # boxes: fixed spots, spin angle integrated from a varying rate, occasional hops
        self.box_pos = [np.array([math.cos(a), math.sin(a)]) * rng.uniform(0.6, 1.4)
                        for a in rng.uniform(0, 2 * np.pi, self.n_box)]
        self.box_size = rng.uniform(0.13, 0.2, self.n_box)
        tb = grid(w_end)
        rates = [2.5 * np.clip(Smooth(rng, 0.05, 0.4, 4)(tb) + 0.3, -1.0, 1.5) for _ in range(self.n_box)]
        self.box_yaw = Table(np.stack([np.concatenate([[0.0], np.cumsum(0.5 * (r[1:] + r[:-1]) * DT)]) for r in rates], axis=1))
        self.box_tilt = [Smooth(rng, 0.1, 0.6, 3, dims=2) for _ in range(self.n_box)]

    def assets(self) -> str:
        out = []
        for i, (a, b) in enumerate(self.colours):
            out.append(f'<texture name="obj{i}" type="cube" builtin="checker" rgb1="{_rgba(a)[:-2]}" '
                       f'rgb2="{_rgba(b)[:-2]}" width="64" height="64"/>')
            out.append(f'<material name="obj{i}" texture="obj{i}"/>')
        return "\n    ".join(out)

    def bodies(self) -> str:
        out = []
        nb = self.n_bounce + self.n_roll
        for i in range(nb):
            out.append(f'<body name="ball{i}" mocap="true" pos="0 0 {self.r[i]:.3f}">'
                       f'<geom type="sphere" size="{self.r[i]:.3f}" material="obj{i}"/></body>')
        for j in range(self.n_box):
            s = self.box_size[j]
            out.append(f'<body name="box{j}" mocap="true" pos="0 0 {s:.3f}">'
                       f'<geom type="box" size="{s:.3f} {s:.3f} {s:.3f}" material="obj{nb + j}"/></body>')
        return "\n    ".join(out)

    def bind(self, model) -> None:
        import mujoco

        nb = self.n_bounce + self.n_roll
        self.mocap = [int(model.body_mocapid[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"ball{i}")])
                      for i in range(nb)]
        self.box_mocap = [int(model.body_mocapid[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"box{j}")])
                          for j in range(self.n_box)]

    def _height(self, i: int, w: float) -> float:
        hops = self.hops[i]
        k = np.searchsorted(hops[:, 0], w, side="right") - 1
        if k < 0:
            return 0.0
        s, d, h = hops[k]
        u = w - s
        if u >= d:
            return 0.0
        v0 = G * d / 2
        return v0 * u - 0.5 * G * u * u

    def apply(self, model, data, w: float) -> None:
        import mujoco

        q = interp_quat(self.rot, w, dt=self.ROT_DT)
        for i, mid in enumerate(self.mocap):
            xy = self.scale[i] * self.paths[i](w)
            z = self.r[i] + (self._height(i, w) if i < self.n_bounce else 0.0)
            data.mocap_pos[mid] = (xy[0], xy[1], z)
            data.mocap_quat[mid] = q[i]
        yaw = self.box_yaw(w)
        for j, mid in enumerate(self.box_mocap):
            tilt = 0.25 * self.box_tilt[j](w)
            s = self.box_size[j]
            a = min(abs(tilt[0]) + abs(tilt[1]), math.pi / 4)
            data.mocap_pos[mid] = (self.box_pos[j][0], self.box_pos[j][1], s * (math.cos(a) + math.sin(a)))
            data.mocap_quat[mid] = quat_yaw_pitch_roll(yaw[j], tilt[0], tilt[1])
        mujoco.mj_kinematics(model, data)

    def events(self, w_lo, w_hi):
        out = []
        for i in range(self.n_bounce):
            hops = self.hops[i]
            ends = hops[:, 0] + hops[:, 1]
            sel = (ends >= w_lo) & (ends <= w_hi)
            for e, h in zip(ends[sel], hops[sel, 2]):
                out.append((float(e), 0.3 + 0.7 * math.sqrt(h), 60.0 / self.r[i], 0.02))
        return out


# ---------------------------------------------------------------------------- pendulums


class PendulumsWorld(World):
    """Pendulums of different lengths on a bar; amplitude envelopes vary smoothly."""

    name = "pendulums"
    centre = np.array([0.0, 0.0, 1.35])
    radius = 1.9
    elevation_range = (-25.0, -5.0)

    def __init__(self, seed: int, w_end: float):
        super().__init__(seed, w_end)
        rng = rng_for(seed, "pendulums")
        self.n = n = int(rng.integers(5, 8))
        self.L = np.sort(rng.uniform(0.45, 1.6, n))[rng.permutation(n)]
        self.bob = rng.uniform(0.06, 0.1, n)
        self.colour = rng.uniform(0.2, 1.0, (n, 3))
        self.x = (np.arange(n) - (n - 1) / 2) * 0.34
        self.top = 2.3
        t = grid(w_end)
        self.env = [Smooth(rng, 0.02, 0.12, 4) for _ in range(n)]
        self.env2 = [Smooth(rng, 0.03, 0.15, 3) for _ in range(n)]
        self.amp = rng.uniform(0.35, 0.7, n)
        cols = []
        self.ticks = []
        for i in range(n):
            A = self.amp[i] * np.clip(0.6 + 0.45 * self.env[i](t), 0.08, 1.2)
            B = 0.18 * self.amp[i] * self.env2[i](t)
            f = math.sqrt(G / self.L[i]) / (2 * math.pi) * (1 - A ** 2 / 16)
            ph = integrate_phase(f) + rng.uniform(0, 2 * np.pi)
            cols += [A, B, ph]
            self.ticks.append(np.sort(np.concatenate([crossings(ph, t, 0.0), crossings(ph, t, np.pi)])))
        self.table = Table(np.stack(cols, axis=1))
        self.delta = rng.uniform(0, 2 * np.pi, n)

    def bodies(self) -> str:
        half = (self.n - 1) / 2 * 0.34 + 0.3
        out = [
            f'<geom type="capsule" fromto="{-half:.3f} 0 {self.top:.3f} {half:.3f} 0 {self.top:.3f}" size="0.035" rgba=".35 .3 .25 1"/>',
            f'<geom type="capsule" fromto="{-half:.3f} 0 0 {-half:.3f} 0 {self.top:.3f}" size="0.045" rgba=".35 .3 .25 1"/>',
            f'<geom type="capsule" fromto="{half:.3f} 0 0 {half:.3f} 0 {self.top:.3f}" size="0.045" rgba=".35 .3 .25 1"/>',
        ]
        for i in range(self.n):
            L = self.L[i]
            out.append(
                f'<body name="pend{i}" pos="{self.x[i]:.3f} 0 {self.top:.3f}">'
                f'<joint name="pend{i}_x" axis="1 0 0"/><joint name="pend{i}_y" axis="0 1 0"/>'
                f'<geom type="capsule" fromto="0 0 0 0 0 {-L:.3f}" size="0.008" rgba=".8 .8 .8 1"/>'
                f'<geom type="sphere" pos="0 0 {-L:.3f}" size="{self.bob[i]:.3f}" rgba="{_rgba(self.colour[i])}"/>'
                f'<geom type="box" pos="0 0 {-L:.3f}" size="{0.5 * self.bob[i]:.3f} {1.15 * self.bob[i]:.3f} {0.3 * self.bob[i]:.3f}" '
                f'rgba="{_rgba(1 - self.colour[i])}"/></body>')
        return "\n    ".join(out)

    def bind(self, model) -> None:
        import mujoco

        self.adr = [(int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"pend{i}_x")]),
                     int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"pend{i}_y")]))
                    for i in range(self.n)]

    def apply(self, model, data, w: float) -> None:
        import mujoco

        v = self.table(w)
        for i, (ax, ay) in enumerate(self.adr):
            A, B, ph = v[3 * i:3 * i + 3]
            data.qpos[ax] = A * math.sin(ph)
            data.qpos[ay] = B * math.sin(ph + self.delta[i])
        mujoco.mj_kinematics(model, data)

    def events(self, w_lo, w_hi):
        out = []
        for i, tk in enumerate(self.ticks):
            for w in tk[(tk >= w_lo) & (tk <= w_hi)]:
                A = float(self.table(w)[3 * i])
                out.append((float(w), 0.15 + 0.6 * min(A, 1.0), 500.0 + 900.0 / self.L[i], 0.012))
        return out


# ---------------------------------------------------------------------------- pouring


class PouringWorld(World):
    """A jug tilts in irregular pours; a stream of droplets falls into a cup that fills and drains."""

    name = "pouring"
    centre = np.array([0.0, 0.0, 0.95])
    radius = 0.75
    elevation_range = (-30.0, -5.0)
    POOL = 180
    LAMBDA = 240.0
    TABLE_Z = 0.75
    CUP_R = 0.095
    CUP_H = 0.17
    PIVOT = np.array([-0.21, 0.0, 1.2])
    A_REST, A_ON, A_MAX = 0.25, 0.95, 2.0

    def __init__(self, seed: int, w_end: float):
        super().__init__(seed, w_end)
        rng = rng_for(seed, "pouring")
        self.wobble = Smooth(rng, 0.3, 1.5, 4)
        self.slide = Smooth(rng, 0.05, 0.3, 4, dims=2)
        self.liquid = rng.uniform(0.1, 0.9, 3)
        self.jug_colour = rng.uniform(0.3, 0.9, 3)
        pr = rng_for(seed, "pours")
        pours, tt = [], T0
        while tt < w_end + 5:
            g, d, p = pr.uniform(size=3)
            tt += 0.5 + 2.5 * g
            pours.append((tt, 1.2 + 3.0 * d, self.A_ON + 0.1 + (self.A_MAX - self.A_ON - 0.1) * p))
            tt += pours[-1][1]
        self.pours = np.array(pours)
        # cup level: leaky integrator of the expected inflow, on the grid from T0
        t = grid(w_end + 1)
        lam = np.array([self._rate(self._tilt(w)) for w in t[::5]])
        lam = np.interp(t, t[::5], lam)
        level = np.empty_like(t)
        lv = 0.0
        for i in range(len(t)):
            level[i] = lv
            lv += (lam[i] * 0.11 / (self.LAMBDA * 2.5) - 0.012 * lv) * DT
            lv = min(max(lv, 0.0), self.CUP_H - 0.03)
        self.level = Table(level)
        # droplets: thinned Poisson process, ballistic from the spout to the liquid surface
        drng = rng_for(seed, "droplets")
        cand = chunked_poisson(drng, self.LAMBDA, w_end + 1)
        urng = rng_for(seed, "droplet-accept")
        keep = urng.uniform(size=len(cand)) * self.LAMBDA < np.array([self._rate(self._tilt(w)) for w in cand])
        spawn = cand[keep]
        jit = rng_for(seed, "droplet-jitter").normal(size=(len(spawn), 3))
        P, V, land, z_land = [], [], [], []
        for w, j in zip(spawn, jit):
            a = self._tilt(w)
            p0, d = self._spout(w, a)
            flow = self._rate(a) / self.LAMBDA
            v0 = d * (0.25 + 0.45 * flow) + 0.04 * j
            zl = self.TABLE_Z + 0.012 + float(self.level(w)[0])
            # z(u) = p0z + v0z u - g u²/2 = zl
            disc = v0[2] ** 2 + 2 * G * (p0[2] - zl)
            u = (v0[2] + math.sqrt(max(disc, 0.0))) / G
            xy = p0[:2] + v0[:2] * u
            if math.hypot(xy[0], xy[1]) > self.CUP_R - 0.01:
                zl = self.TABLE_Z + 0.01  # missed the cup: lands on the table
                disc = v0[2] ** 2 + 2 * G * (p0[2] - zl)
                u = (v0[2] + math.sqrt(max(disc, 0.0))) / G
            P.append(p0)
            V.append(v0)
            land.append(w + u)
            z_land.append(zl)
        self.spawn = spawn
        self.P = np.array(P).reshape(-1, 3)
        self.V = np.array(V).reshape(-1, 3)
        self.land = np.array(land)
        # pool slots: droplet i uses slot i mod POOL unless that slot is still busy (then dropped)
        self.slot = np.full(len(spawn), -1)
        busy = np.full(self.POOL, -np.inf)
        for i in range(len(spawn)):
            s = i % self.POOL
            if busy[s] <= spawn[i]:
                self.slot[i] = s
                busy[s] = self.land[i]
        self.max_life = float(np.max(self.land - self.spawn)) if len(spawn) else 1.0

    def _tilt(self, w: float) -> float:
        k = np.searchsorted(self.pours[:, 0], w, side="right") - 1
        a = self.A_REST
        if k >= 0:
            s, d, peak = self.pours[k]
            u = w - s
            if u < d:
                ramp = 0.45
                e = min(1.0, u / ramp, (d - u) / ramp)
                e = e * e * (3 - 2 * e)
                a = self.A_REST + (peak - self.A_REST) * e + 0.06 * e * self.wobble(w)
        return a

    def _rate(self, a: float) -> float:
        return self.LAMBDA * min(max((a - self.A_ON) / (self.A_MAX - self.A_ON), 0.0), 1.0)

    def _pivot(self, w: float) -> np.ndarray:
        s = self.slide(w)
        return self.PIVOT + np.array([0.025 * s[0], 0.02 * s[1], 0.0])

    def _spout(self, w: float, a: float):
        c, s = math.cos(a), math.sin(a)
        rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        p = self._pivot(w) + rot @ np.array([0.075, 0.0, 0.11])
        d = rot @ np.array([1.0, 0.0, 0.0])
        return p, d

    def assets(self) -> str:
        return ('<texture name="wood" type="2d" builtin="flat" rgb1=".45 .3 .18" rgb2=".3 .2 .1" '
                'mark="random" random=".15" markrgb=".55 .4 .25" width="128" height="128"/>'
                '<material name="wood" texture="wood"/>')

    def bodies(self) -> str:
        tz = self.TABLE_Z
        out = [
            f'<geom type="box" pos="0 0 {tz - 0.025}" size="0.55 0.4 0.025" material="wood"/>',
            *[f'<geom type="capsule" fromto="{sx * 0.5} {sy * 0.35} 0 {sx * 0.5} {sy * 0.35} {tz - 0.05}" '
              f'size="0.03" material="wood"/>' for sx in (-1, 1) for sy in (-1, 1)],
            f'<geom type="cylinder" pos="0 0 {tz + 0.005}" size="{self.CUP_R} 0.005" rgba=".9 .9 .95 1"/>',
        ]
        nw = 14
        for k in range(nw):
            a = 2 * np.pi * k / nw
            out.append(f'<geom type="box" pos="{self.CUP_R * math.cos(a):.4f} {self.CUP_R * math.sin(a):.4f} '
                       f'{tz + self.CUP_H / 2:.4f}" euler="0 0 {a:.4f}" size="0.006 {self.CUP_R * 0.25:.4f} '
                       f'{self.CUP_H / 2:.4f}" rgba=".92 .92 .97 .55"/>')
        lq = _rgba(self.liquid)
        out.append(f'<body name="level" mocap="true" pos="0 0 {tz}"><geom type="cylinder" size="{self.CUP_R - 0.008:.3f} 0.004" '
                   f'rgba="{lq}"/></body>')
        jc = _rgba(self.jug_colour)
        out.append(
            f'<body name="jug" mocap="true" pos="{self.PIVOT[0]} {self.PIVOT[1]} {self.PIVOT[2]}">'
            f'<geom type="cylinder" size="0.07 0.11" rgba="{jc}"/>'
            f'<geom type="box" pos="0.075 0 0.1" size="0.02 0.02 0.012" rgba="{jc}"/>'
            f'<geom type="capsule" fromto="-0.075 0 0.06 -0.11 0 0.0" size="0.012" rgba="{jc}"/>'
            f'<geom type="capsule" fromto="-0.11 0 0.0 -0.075 0 -0.06" size="0.012" rgba="{jc}"/>'
            f'<geom type="cylinder" pos="0 0 0.106" size="0.062 0.006" rgba="{lq}"/></body>')
        for i in range(self.POOL):
            out.append(f'<body name="drop{i}" mocap="true" pos="0 0 -5"><geom type="sphere" size="0.011" rgba="{lq}"/></body>')
        return "\n    ".join(out)

    def bind(self, model) -> None:
        import mujoco

        def mid(name):
            return int(model.body_mocapid[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)])

        self.m_jug, self.m_level = mid("jug"), mid("level")
        self.m_drop = np.array([mid(f"drop{i}") for i in range(self.POOL)])

    def apply(self, model, data, w: float) -> None:
        import mujoco

        a = self._tilt(w)
        data.mocap_pos[self.m_jug] = self._pivot(w)
        data.mocap_quat[self.m_jug] = quat_axis_angle([0.0, 1.0, 0.0], a)
        data.mocap_pos[self.m_level] = (0.0, 0.0, self.TABLE_Z + 0.012 + float(self.level(w)[0]))
        data.mocap_pos[self.m_drop] = HIDDEN
        i0 = np.searchsorted(self.spawn, w - self.max_life)
        i1 = np.searchsorted(self.spawn, w, side="right")
        idx = np.arange(i0, i1)
        idx = idx[(self.land[idx] > w) & (self.slot[idx] >= 0)]
        if len(idx):
            u = (w - self.spawn[idx])[:, None]
            pos = self.P[idx] + self.V[idx] * u
            pos[:, 2] -= 0.5 * G * u[:, 0] ** 2
            data.mocap_pos[self.m_drop[self.slot[idx]]] = pos
        mujoco.mj_kinematics(model, data)

    def events(self, w_lo, w_hi):
        sel = (self.land >= w_lo) & (self.land <= w_hi) & (self.slot >= 0)
        out = []
        for w in self.land[sel]:
            fill = float(self.level(w)[0]) / (self.CUP_H - 0.03)
            out.append((float(w), 0.12, 350.0 + 1400.0 * fill, 0.006))
        return out


# ---------------------------------------------------------------------------- flock


class FlockWorld(World):
    """A flock of flapping birds following a smooth random 3-D path; chirps as sound events."""

    name = "flock"
    centre = np.array([0.0, 0.0, 1.7])
    radius = 2.9
    elevation_range = (-22.0, 2.0)
    N = 20

    def __init__(self, seed: int, w_end: float):
        super().__init__(seed, w_end)
        rng = rng_for(seed, "flock")
        n = self.N
        self.path = Smooth(rng, 0.04, 0.18, 5, dims=3)
        self.path_scale = np.array([1.7, 1.7, 0.5])
        b = rng.normal(size=(n, 3))
        self.base = b / np.linalg.norm(b, axis=1, keepdims=True) * rng.uniform(0.25, 1.0, (n, 1)) ** (1 / 3)
        self.base *= np.array([0.9, 0.9, 0.4])
        self.wander = [Smooth(rng, 0.1, 0.6, 3, dims=3) for _ in range(n)]
        self.colour = rng.uniform(0.05, 0.95, (n, 3))
        t = grid(w_end)
        cols = []
        for i in range(n):
            f = rng.uniform(3.0, 5.5) * (1 + 0.15 * Smooth(rng, 0.1, 0.5, 3)(t))
            A = 0.95 * np.clip(0.55 + 0.8 * Smooth(rng, 0.05, 0.4, 3)(t), 0.0, 1.0)
            cols += [integrate_phase(f) + rng.uniform(0, 2 * np.pi), A]
        self.table = Table(np.stack(cols, axis=1))
        self.chirps = [chunked_poisson(rng_for(seed, "chirp", i), 0.2, w_end + 1) for i in range(n)]
        self.chirp_f = rng.uniform(1800, 4200, n)

    def bodies(self) -> str:
        out = []
        for i in range(self.n_birds):
            c = _rgba(self.colour[i])
            c2 = _rgba(np.clip(self.colour[i] * 0.6 + 0.2, 0, 1))
            out.append(
                f'<body name="bird{i}" mocap="true" pos="0 0 1.5">'
                f'<geom type="ellipsoid" size="0.14 0.05 0.05" rgba="{c}"/>'
                f'<geom type="sphere" pos="0.13 0 0.02" size="0.04" rgba="{c}"/>'
                f'<body name="wingL{i}" pos="0 0.03 0.015"><joint name="flapL{i}" axis="1 0 0"/>'
                f'<geom type="box" pos="0 0.17 0" size="0.07 0.17 0.005" rgba="{c2}"/></body>'
                f'<body name="wingR{i}" pos="0 -0.03 0.015"><joint name="flapR{i}" axis="-1 0 0"/>'
                f'<geom type="box" pos="0 -0.17 0" size="0.07 0.17 0.005" rgba="{c2}"/></body>'
                f'</body>')
        return "\n    ".join(out)

    @property
    def n_birds(self) -> int:
        return self.N

    def bind(self, model) -> None:
        import mujoco

        self.m_bird = [int(model.body_mocapid[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"bird{i}")])
                       for i in range(self.N)]
        self.adr = [(int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"flapL{i}")]),
                     int(model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"flapR{i}")]))
                    for i in range(self.N)]

    def _pos_vel(self, i: int, w: float):
        c = self.path_scale * self.path(w) + np.array([0.0, 0.0, 1.7])
        cv = self.path_scale * self.path.derivative(w)
        p = c + self.base[i] + 0.35 * self.wander[i](w)
        v = cv + 0.35 * self.wander[i].derivative(w)
        return p, v

    def apply(self, model, data, w: float) -> None:
        import mujoco

        v_all = self.table(w)
        for i in range(self.N):
            p, v = self._pos_vel(i, w)
            yaw = math.atan2(v[1], v[0])
            pitch = -math.atan2(v[2], math.hypot(v[0], v[1]))
            data.mocap_pos[self.m_bird[i]] = p
            data.mocap_quat[self.m_bird[i]] = quat_yaw_pitch_roll(yaw, pitch, 0.0)
            ph, A = v_all[2 * i], v_all[2 * i + 1]
            flap = A * math.sin(ph) + 0.15
            data.qpos[self.adr[i][0]] = flap
            data.qpos[self.adr[i][1]] = flap
        mujoco.mj_kinematics(model, data)

    def events(self, w_lo, w_hi):
        out = []
        for i, ch in enumerate(self.chirps):
            for w in ch[(ch >= w_lo) & (ch <= w_hi)]:
                out.append((float(w), 0.35, float(self.chirp_f[i]), 0.035))
        return out


WORLDS: dict[str, type[World]] = {
    "human": HumanWorld,
    "humans": HumansWorld,
    "objects": ObjectsWorld,
    "pendulums": PendulumsWorld,
    "pouring": PouringWorld,
    "flock": FlockWorld,
}

__all__ = ["WORLDS", "World", "build_xml"]
