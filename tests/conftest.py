import numpy as np
import pytest

from videosync.testing import make_rig


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
