"""The on-disk cache of expensive embedders (videosync.embed._cache; used by landmarks and tracks)."""

import os

import numpy as np

from media import write_plain
from videosync.embed import EMBEDDERS
from videosync.embed._cache import cache_file, load_arrays, save_arrays


def test_round_trip_broken_entry_and_key(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOSYNC_CACHE", str(tmp_path / "cache"))
    video = tmp_path / "a.mp4"
    write_plain(video, n=12)
    f = cache_file("kind", video, 1, [{"k": 1}])
    assert f.startswith(str(tmp_path / "cache" / "kind"))
    assert cache_file("kind", video, 1, [{"k": 2}]) != f and cache_file("kind", video, 2, [{"k": 1}]) != f
    assert cache_file("kind", tmp_path / "missing.mp4", 1, []) is None
    assert load_arrays(f, ("x",)) is None
    save_arrays(f, x=np.arange(5.0), y=np.ones((2, 3), np.float32))
    z = load_arrays(f, ("x", "y"))
    assert np.array_equal(z["x"], np.arange(5.0)) and z["y"].dtype == np.float32
    assert load_arrays(f, ("x", "nope")) is None  # an entry missing an array is recomputed
    with open(f, "wb") as fh:
        fh.write(b"broken")
    assert load_arrays(f, ("x",)) is None
    os.utime(video, ns=(1, 1))  # a changed file gets another key
    assert cache_file("kind", video, 1, [{"k": 1}]) != f


def test_tracks_embedder_reuses_its_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOSYNC_CACHE", str(tmp_path / "cache"))
    video = tmp_path / "a.mp4"
    write_plain(video, n=20)
    emb = EMBEDDERS.create("tracks")
    first = emb.embed_video(video)
    files = os.listdir(tmp_path / "cache" / "tracks")
    assert len(files) == 1
    def no_work(*a, **k):
        raise AssertionError("recomputed instead of read from the cache")

    monkeypatch.setattr(type(emb), "_compute", no_work)
    again = emb.embed_video(video)
    assert np.array_equal(first.times_seconds, again.times_seconds)
    assert np.array_equal(np.nan_to_num(first.features), np.nan_to_num(again.features))
