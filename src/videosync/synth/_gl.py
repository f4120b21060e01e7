"""MuJoCo import and a working headless OpenGL backend (EGL or OSMesa), or a clear error."""

from __future__ import annotations

import os
import subprocess
import sys

from videosync.errors import MissingDependencyError

APT_PACKAGES = "libosmesa6 libegl1 libgl1-mesa-dri libgles2"
APT_HINT = f"apt-get install -y {APT_PACKAGES}"

_PROBE = (
    "import mujoco\n"
    "m = mujoco.MjModel.from_xml_string('<mujoco><worldbody><geom size=\".1\"/></worldbody></mujoco>')\n"
    "r = mujoco.Renderer(m, 16, 16)\n"
    "d = mujoco.MjData(m); mujoco.mj_forward(m, d); r.update_scene(d); r.render(); r.close()\n"
)

_backend: str | None = None


class RenderUnavailableError(MissingDependencyError):
    """MuJoCo is installed but no headless OpenGL context can be created."""

    def __init__(self, detail: str) -> None:
        self.extra = "synth"
        msg = (
            "videosync.synth cannot create an offscreen OpenGL context for MuJoCo "
            f"({detail}). Install Mesa's headless libraries: `{APT_HINT}` (Debian/Ubuntu), "
            "then run with MUJOCO_GL=egl or MUJOCO_GL=osmesa."
        )
        ImportError.__init__(self, msg)


def _import_mujoco():
    try:
        import mujoco  # noqa: F401
    except ImportError:
        raise MissingDependencyError("videosync.synth (MuJoCo rendering)", "synth", "mujoco") from None
    return sys.modules["mujoco"]


def _probe(backend: str) -> tuple[bool, str]:
    env = dict(os.environ, MUJOCO_GL=backend)
    if backend == "osmesa":
        env.setdefault("PYOPENGL_PLATFORM", "osmesa")
    try:
        p = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if p.returncode == 0:
        return True, ""
    lines = [ln for ln in (p.stderr or "").strip().splitlines() if ln.strip()]
    return False, lines[-1] if lines else f"exit code {p.returncode}"


def backend() -> str:
    """Choose (once per process) the GL backend and import mujoco; raise a clear error if none works.

    Honours ``MUJOCO_GL`` when it is set. Otherwise tries EGL then OSMesa, each in a
    subprocess (a failed GL initialisation can abort the process), before importing mujoco.
    """
    global _backend
    if _backend is not None:
        return _backend
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    if not chosen:
        if sys.modules.get("mujoco") is not None:
            # imported before we could choose: its backend (GLFW, needs a display) is fixed now
            if not os.environ.get("DISPLAY"):
                raise RenderUnavailableError(
                    "mujoco was imported before videosync.synth with MUJOCO_GL unset, so it uses GLFW, "
                    "which needs a display; set MUJOCO_GL=egl (or osmesa) before importing mujoco")
            chosen = "glfw"
        else:
            _import_mujoco_check_only()
            problems = []
            for cand in ("egl", "osmesa"):
                ok, why = _probe(cand)
                if ok:
                    chosen = cand
                    break
                problems.append(f"{cand}: {why}")
            if not chosen:
                raise RenderUnavailableError("; ".join(problems))
            os.environ["MUJOCO_GL"] = chosen
            if chosen == "osmesa":
                os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    _import_mujoco()
    _backend = chosen
    return chosen


def _import_mujoco_check_only() -> None:
    """Fail early with the pip hint when mujoco is not installed (without importing it)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("mujoco")
    except (ImportError, ValueError):  # e.g. sys.modules["mujoco"] is None
        spec = None
    if spec is None:
        raise MissingDependencyError("videosync.synth (MuJoCo rendering)", "synth", "mujoco")


def make_renderer(model, height: int, width: int):
    """A ``mujoco.Renderer``; GL failures become :class:`RenderUnavailableError`."""
    backend()
    import mujoco

    try:
        return mujoco.Renderer(model, height, width)
    except ValueError:
        raise
    except Exception as exc:  # GL/EGL/OSMesa errors come in many types
        raise RenderUnavailableError(f"MUJOCO_GL={os.environ.get('MUJOCO_GL', '')!r}: {exc}") from None


def require() -> str:
    """Render one tiny frame here; return the backend or raise the clear error."""
    b = backend()
    import mujoco

    m = mujoco.MjModel.from_xml_string('<mujoco><worldbody><geom size=".1"/></worldbody></mujoco>')
    r = make_renderer(m, 16, 16)
    try:
        d = mujoco.MjData(m)
        mujoco.mj_forward(m, d)
        r.update_scene(d)
        r.render()
    finally:
        r.close()
    return b


def available() -> tuple[bool, str]:
    """(True, backend) when offscreen rendering works here, else (False, reason)."""
    try:
        return True, require()
    except Exception as exc:  # noqa: BLE001 - report any reason
        return False, str(exc)
