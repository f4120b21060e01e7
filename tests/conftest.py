import numpy as np
import pytest

from videosync.testing import make_rig


def _choose_gl_backend_first() -> None:
    """Pick MuJoCo's headless GL backend before any test module imports mujoco: imported
    with MUJOCO_GL unset, mujoco fixes GLFW (needs a display) and every render test skips."""
    try:
        from videosync.synth._gl import backend

        backend()
    except Exception:  # no mujoco or no GL: the render tests skip and say why
        pass


_choose_gl_backend_first()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def rig_factory(tmp_path_factory):
    """make_rig with caching by parameters (rendering is the slow part of the suite)."""
    cache = {}

    def factory(**kwargs):
        key = repr(sorted(kwargs.items()))
        if key not in cache:
            folder = tmp_path_factory.mktemp("rig")
            cache[key] = make_rig(folder, **kwargs)
        return cache[key]

    return factory


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch):
    monkeypatch.delenv("VIDEOSYNC_DEBUG", raising=False)
    monkeypatch.setenv("VIDEOSYNC_DISABLE_PLUGINS", "1")
    yield
