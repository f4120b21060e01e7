"""Clock drift and long inputs: the robust offset + rate fit, drift recovered on generated
footage with a known ppm, exact handling of 29.97 vs 30 fps, coarse-to-fine matching."""

import json

import numpy as np
import pytest

from videosync.cli import main
from videosync.embed import EMBEDDERS
from videosync.io import probe
from videosync.longmatch import box_average, fit_drift, match_pair
from videosync.pipeline import sync
from videosync.predict import PREDICTORS
from videosync.session import sync_session
from videosync.testing.shoot import CameraSpec, ClipSpec, make_shoot


def test_fit_drift_known_answer_with_outliers():
    t = np.linspace(10, 600, 25)
    o = 1.25 + 300e-6 * t
    o[[3, 11, 17]] += [4.0, -2.5, 0.7]  # wrong windows (e.g. a repeated motion)
    fit = fit_drift(t, o, np.ones_like(t))
    assert fit.drift_ppm == pytest.approx(300.0, abs=1e-6)
    assert fit.offset_seconds == pytest.approx(1.25, abs=1e-9)
    assert fit.n_inliers == 22 and not fit.inliers[[3, 11, 17]].any()
    flat = fit_drift(t, o, np.ones_like(t), fit_rate=False)
    assert flat.drift_ppm == 0.0 and not flat.fitted_rate


def test_fit_drift_degenerate_inputs():
    assert fit_drift([], []).n_windows == 0
    one = fit_drift([5.0], [0.5])
    assert one.offset_seconds == 0.5 and one.drift_ppm == 0.0


@pytest.fixture(scope="module")
def drifting(tmp_path_factory):
    """B's clock runs 300 ppm fast (3 min overlap at 15 fps, 48 × 32 pixels: 54 ms of drift in all; the
    windows' offsets scatter by ~10 ms at this size, so the rate is good to ~±60 ppm)."""
    cams = [CameraSpec("A", (ClipSpec(0, 190),), fps=15),
            CameraSpec("B", (ClipSpec(4, 180),), fps=15, clock_offset_seconds=1.5, drift_ppm=300.0)]
    return make_shoot(tmp_path_factory.mktemp("drift"), cams, size=(48, 32), seed=11)


def test_sync_drift_recovers_ppm(drifting):
    a, b = drifting.clips
    res = sync([a.path, b.path], drift=True)
    cam = res.videos[1]
    # B's clock: τ_B = 1.5 + (1 + 300e-6)·w − 4, and A shows w at τ_A = w.
    assert cam.drift_ppm == pytest.approx(300.0, abs=60.0)
    assert cam.offset_seconds == pytest.approx(-2.5, abs=1.0 / 15 / 2)
    fits = res.provenance["drift"]["fits"]
    (fit,) = fits.values()
    assert fit["inliers"] >= 6 and fit["residual_seconds"] < 0.02
    plain = sync([a.path, b.path])
    assert plain.videos[1].drift_ppm == 0.0


def test_session_drift_recovers_rate(drifting):
    res = sync_session(drifting.folder, drift=True)
    a, b = res.clips
    truth = drifting.clips[1]
    assert a.status == b.status == "synced"
    assert a.rate == 1.0
    assert b.drift_ppm == pytest.approx(truth.drift_ppm, abs=60.0)  # ≈ −299.9: B's seconds are shorter
    assert b.start_seconds == pytest.approx(truth.start_seconds, abs=1.0 / 15 / 2)
    # The end of the overlap lands right too (where a constant offset would be 54 ms off).
    tau = 170.0
    assert b.session_time(tau) == pytest.approx(truth.start_seconds + truth.rate * tau, abs=1.0 / 15 / 2)


@pytest.fixture(scope="module")
def ntsc(tmp_path_factory):
    """30 fps and 29.97 fps cameras with no drift: 90 s, so 1000 ppm would show as 90 ms."""
    cams = [CameraSpec("A", (ClipSpec(0, 95),), fps=30.0),
            CameraSpec("B", (ClipSpec(2.0, 90),), fps=30000 / 1001, clock_offset_seconds=0.7)]
    return make_shoot(tmp_path_factory.mktemp("ntsc"), cams, size=(48, 32), seed=4)


def test_2997_vs_30_is_exact(ntsc):
    a, b = ntsc.clips
    info = probe(b.path)
    assert info.fps_from_content == pytest.approx(30000 / 1001, rel=1e-6)
    res = sync([a.path, b.path], drift=True)
    cam = res.videos[1]
    assert cam.offset_seconds == pytest.approx(0.7 - 2.0, abs=0.25 / 30)
    # Frame indices would say 1000 ppm; times from pts say none.
    assert abs(cam.drift_ppm) < 100.0


def test_25_vs_30_coarse_to_fine_matches_single_pass(tmp_path):
    cams = [CameraSpec("A", (ClipSpec(0, 70),), fps=30.0),
            CameraSpec("B", (ClipSpec(10.0, 50),), fps=25.0, clock_offset_seconds=-3.3)]
    sh = make_shoot(tmp_path, cams, size=(48, 32), seed=6)
    emb = EMBEDDERS.create("motion")
    a, b = (emb.embed_video(c.path) for c in sh.clips)
    lag = PREDICTORS.create("lag")
    single = match_pair(a, b, lag)
    c2f = match_pair(a, b, lag, coarse=True)
    assert c2f.mode == "coarse-to-fine" and single.mode == "single"
    truth = -3.3 - 10.0
    assert single.offset_seconds == pytest.approx(truth, abs=1 / 60)
    assert c2f.offset_seconds == pytest.approx(truth, abs=1 / 60)
    assert c2f.confidence > 0.5


def test_box_average_keeps_time():
    from videosync.embed import Embedding

    t = np.arange(0, 10, 1 / 30)
    e = Embedding(t, np.stack([np.sin(t), t], axis=1))
    c = box_average(e, 0.5)
    assert len(c.times_seconds) == 20
    assert c.times_seconds[0] == pytest.approx(0.25)
    assert c.features[0, 1] == pytest.approx(t[:15].mean(), rel=1e-5)


def test_cli_sync_drift(drifting, tmp_path, capsys):
    out = tmp_path / "d.json"
    a, b = drifting.clips
    assert main(["sync", a.path, b.path, "--drift", "-o", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["schema_version"] == 1
    assert d["videos"][1]["drift_ppm"] == pytest.approx(300.0, abs=60.0)
    assert "ppm" in capsys.readouterr().err


def test_no_overlap_pair_is_low_confidence(tmp_path):
    """Same world, but B records after A stopped: nothing to match, in sync and in a session."""
    cams = [CameraSpec("A", (ClipSpec(0, 20),)), CameraSpec("B", (ClipSpec(40, 20),), fps=25)]
    sh = make_shoot(tmp_path, cams, size=(48, 32), seed=9)
    res = sync([c.path for c in sh.clips], drift=True)
    assert res.videos[1].status == "low_confidence" and res.videos[1].confidence < 0.5
    assert res.videos[1].drift_ppm == 0.0
    assert all(c.status == "unsynced" for c in sync_session(sh.folder).clips)
