"""Lag curves and similarity thumbnails in sync.json, corrections, the review page (headless
Chromium driven by Playwright) and --plot figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from videosync.diagnostics import LagCurve, lag_curve
from videosync.result import SyncResult


def test_lag_curve_keeps_peak_and_runners_up_when_downsampling():
    lags = np.arange(-50000, 50001) / 1000.0  # 100001 candidate offsets, 1 ms apart
    y = 0.1 * np.sin(lags * 3.0)
    y[np.argmin(np.abs(lags - 12.345))] = 2.0  # the answer: one sharp spike
    y[np.argmin(np.abs(lags + 40.0))] = 1.5  # runner-up far away, also a single sample
    y[np.argmin(np.abs(lags - 20.0))] = 1.2
    c = lag_curve(lags, y, 12.3452)
    assert len(c.lags_seconds) <= 2000 and c.n_lags == lags.size
    assert np.all(np.diff(c.lags_seconds) > 0)
    assert c.peak_offset_seconds == 12.3452 and c.peak_score == 2.0  # sub-frame answer kept, not rounded
    assert c.runners_up_seconds[:2] == (pytest.approx(-40.0), pytest.approx(20.0))
    assert c.runners_up_scores[:2] == (1.5, 1.2)
    # the spikes survive downsampling, and the window around the peak is at full resolution
    assert 2.0 in c.scores and 1.5 in c.scores and 1.2 in c.scores
    near = c.lags_seconds[np.abs(c.lags_seconds - 12.345) < 0.05]
    assert np.allclose(np.diff(near), 0.001)
    # no runner-up inside the exclusion zone around the peak or around each other
    taken = [c.peak_offset_seconds, *c.runners_up_seconds]
    assert min(abs(a - b) for k, a in enumerate(taken) for b in taken[k + 1:]) > 0.2


def test_lag_curve_round_trips_with_nan():
    c = lag_curve(np.array([-0.1, 0.0, 0.1, 0.25]), np.array([np.nan, 1.0, 0.5, 0.7]), 0.01)
    d = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    assert d["scores"][0] is None
    back = LagCurve.from_dict(d)
    assert np.isnan(back.scores[0]) and back.peak_score == 1.0 and back.runners_up_seconds == (0.25,)


def test_sync_json_carries_curves_and_thumbnails(rig_factory):
    from videosync import sync

    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, 1.5, -0.75), fps=(30.0, 25.0, 30.0), duration_seconds=6.0)
    result = sync(list(rig.paths))
    d = json.loads(result.to_json())
    assert d["schema_version"] == 1
    for p, pr in zip(d["pairs"], result.pairs):
        curve = p["lag_curve"]
        assert len(curve["lags_seconds"]) == len(curve["scores"]) <= 2000
        assert curve["peak"]["offset_seconds"] == pytest.approx(pr.offset_seconds, abs=1e-6)
        best = int(np.nanargmax([np.nan if s is None else s for s in curve["scores"]]))
        assert curve["lags_seconds"][best] == pytest.approx(pr.offset_seconds, abs=0.05)
        assert 1 <= len(curve["runners_up"]) <= 3
        assert p["similarity_thumbnail"]["png_base64"]
    back = SyncResult.from_dict(d)
    assert back.to_dict() == d  # lossless through JSON
    assert back.pairs[0].similarity_thumbnail.image.shape == (128, 128)
    # files written before these fields existed still read (absent -> None)
    for p in d["pairs"]:
        del p["lag_curve"], p["similarity_thumbnail"]
    old = SyncResult.from_dict(d)
    assert old.pairs[0].lag_curve is None and old.pairs[0].similarity_thumbnail is None
    assert old.pairs[0].curve() is None
