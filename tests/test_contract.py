"""Every registered plug-in honours its contract with each of its test_params()."""

import numpy as np
import pytest

from videosync.embed import EMBEDDERS, Embedding
from videosync.errors import InvalidParameterError, UnknownPluginError
from videosync.export import EXPORTERS
from videosync.predict import PREDICTORS, OffsetEstimate
from videosync.similarity import SimilarityMatrix


def _available(reg, name):
    cls = reg.get(name)
    return cls.is_available() if hasattr(cls, "is_available") else True


@pytest.mark.parametrize("name", EMBEDDERS.names())
def test_embedder_contract(name, rig_factory):
    if not _available(EMBEDDERS, name):
        pytest.skip(f"embedder {name!r}: optional dependency not installed")
    rig = rig_factory(n_cameras=2, offsets_seconds=(0.0, 0.5), fps=(30.0, 25.0), duration_seconds=3.0, seed=5)
    cls = EMBEDDERS.get(name)
    for params in cls.test_params():
        emb = EMBEDDERS.create(name, **params)
        assert emb.get_params().keys() == set(cls.param_names())
        e = emb.embed_video(rig.paths[1])
        assert isinstance(e, Embedding) and e.features.ndim == 2 and e.num_frames >= 2
        assert e.times_seconds[0] >= 0 and e.times_seconds[-1] <= 3.0
        assert np.isfinite(e.features).all()
        again = emb.embed_video(rig.paths[1])
        np.testing.assert_array_equal(again.features, e.features)  # deterministic


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_predictor_contract(name, rng):
    if not _available(PREDICTORS, name):
        pytest.skip(f"predictor {name!r}: optional dependency not installed")
    t = np.arange(80) / 10
    a = Embedding(t, rng.normal(size=(80, 4)))
    b = Embedding(t, rng.normal(size=(80, 4)))
    if not PREDICTORS.get(name).test_params():
        pytest.skip(f"predictor {name!r} needs trained weights (tested in its own module)")
    for params in PREDICTORS.get(name).test_params():
        est = PREDICTORS.create(name, **params).predict(SimilarityMatrix(a, b))
        assert isinstance(est, OffsetEstimate)
        assert 0.0 <= est.confidence <= 1.0 and np.isfinite(est.offset_seconds)


def test_unknown_names_and_parameters():
    with pytest.raises(UnknownPluginError) as info:
        EMBEDDERS.create("nope")
    assert "motion" in str(info.value) and isinstance(info.value, LookupError)
    with pytest.raises(InvalidParameterError, match="valid: grid, multiscale, max_side"):
        EMBEDDERS.create("motion", gird=3)
    with pytest.raises(InvalidParameterError, match="'grid' parameter of MotionEmbedder"):
        EMBEDDERS.create("motion", grid=0)
    assert "json" in EXPORTERS.names()


def test_third_party_plugin_via_registry():
    from videosync.predict.naive import NaivePredictor

    class Always(NaivePredictor):
        name = "always-one"

    PREDICTORS.add(Always)
    try:
        assert "always-one" in PREDICTORS.names()
        assert isinstance(PREDICTORS.create("always-one"), Always)
    finally:
        PREDICTORS._classes.pop("always-one")
