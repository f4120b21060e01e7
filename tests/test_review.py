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


# ---------------------------------------------------------------- corrections

def test_corrections_move_offsets_by_camera_frames(rig_factory):
    from videosync.corrections import Corrections, apply_corrections
    from videosync.errors import InvalidParameterError
    from videosync.result import CameraResult

    cams = (CameraResult("a.mp4", 0.0, 0.0, 30.0, 1.0, "reference"),
            CameraResult("dir/b.mp4", 1.0, 25.0, 25.0, 0.9, "synced"),
            CameraResult("c.mp4", -0.5, -15.0, 30.0, 0.9, "synced"))
    r = SyncResult(cams, (), 0)
    c = apply_corrections(r, Corrections("a.mp4", {"b.mp4": 2, "c.mp4": -1.5}))  # basename is enough
    assert c.offsets_seconds == pytest.approx([0.0, 1.0 + 2 / 25, -0.5 - 1.5 / 30])
    assert c.videos[1].offset_frames == pytest.approx(27.0)
    assert c.provenance["corrections_frames"] == {"dir/b.mp4": 2.0, "c.mp4": -1.5}
    # nudging the reference = the opposite nudge of every other camera (in reference frames)
    c = apply_corrections(r, Corrections("a.mp4", {"a.mp4": 3}))
    assert c.offsets_seconds == pytest.approx([0.0, 1.0 - 0.1, -0.5 - 0.1])
    with pytest.raises(InvalidParameterError, match="reference"):
        apply_corrections(r, Corrections("c.mp4", {}))
    with pytest.raises(InvalidParameterError, match="zzz.mp4"):
        apply_corrections(r, Corrections("a.mp4", {"zzz.mp4": 1}))
    with pytest.raises(InvalidParameterError, match="number of frames"):
        Corrections.from_dict({"schema_version": 1, "kind": "videosync-corrections", "corrections_frames": {"b": "x"}})
    with pytest.raises(InvalidParameterError, match="kind"):
        Corrections.from_dict({"schema_version": 1, "corrections_frames": {}})


# ---------------------------------------------------------------- the review page in headless Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _range_server(root):
    """A localhost HTTP server for ``root`` that answers byte-range requests (browsers need
    them to seek in <video>; http.server alone does not)."""
    import functools
    import http.server
    import io
    import os
    import re
    import threading

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_head(self):
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            path = self.translate_path(self.path)
            if not m or not os.path.isfile(path):
                return super().send_head()
            size = os.path.getsize(path)
            start, end = int(m.group(1)), min(int(m.group(2) or size - 1), size - 1)
            with open(path, "rb") as f:
                f.seek(start)
                data = f.read(end - start + 1)
            self.send_response(206)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            return io.BytesIO(data)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture(scope="module")
def browser():
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _remux(src, dst):
    import av

    with av.open(src) as inp, av.open(dst, "w") as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        for pkt in inp.demux(ist):
            if pkt.dts is None:
                continue
            pkt.stream = ost
            out.mux(pkt)


@pytest.fixture(scope="module")
def page_files(rig_factory, tmp_path_factory):
    """A synced 3-camera rig whose third camera is in .mkv (the page gets an H.264 proxy for it)."""
    import dataclasses

    from videosync import sync
    from videosync.review import write_review

    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, 1.5, -0.75), fps=(30.0, 25.0, 30.0), duration_seconds=6.0)
    root = tmp_path_factory.mktemp("review")
    result = sync(list(rig.paths))
    mkv = str(root / "cam2.mkv")
    _remux(rig.paths[2], mkv)
    videos = list(result.videos)
    videos[2] = dataclasses.replace(videos[2], path=mkv)
    result = dataclasses.replace(result, videos=tuple(videos))
    (root / "sync.json").write_text(result.to_json())
    page = write_review(result, root / "site" / "review.html")
    return root, result, page


def test_proxy_only_where_needed_with_the_same_frame_times(page_files):
    from videosync.io import VideoReader

    root, result, page = page_files
    assert [m.proxy for m in page.media] == [False, False, True]
    assert ".mkv container" in page.media[2].reason
    assert page.media[0].src.startswith("../")  # relative to the page, no copy of the original
    proxy = root / "site" / page.media[2].src
    with VideoReader(str(proxy)) as r:
        t_proxy = [t for t, _ in r.frames(max_side=32)]
    with VideoReader(result.videos[2].path) as r:
        t_orig = [t for t, _ in r.frames(max_side=32)]
    assert np.allclose(t_proxy, t_orig, atol=1e-4)


def test_review_page_plays_in_sync_and_saves_nudges(browser, page_files, tmp_path):
    import os

    root, result, page = page_files
    served = os.path.commonpath([str(root), *(v.path for v in result.videos)])  # the page and the originals
    srv = _range_server(served)
    try:
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        url_path = os.path.relpath(page.path, served).replace(os.sep, "/")
        pg.goto(f"http://127.0.0.1:{srv.server_address[1]}/{url_path}")
        pg.wait_for_function("window.videosyncReview && videosyncReview.videos.every(v => v.readyState >= 2)",
                             timeout=20000)
        info = pg.evaluate("videosyncReview.videos.map(v => [v.videoWidth, v.duration, v.error === null])")
        assert all(w > 0 and d > 5 and ok for w, d, ok in info)
        assert pg.locator("svg.curve").count() == 3 and pg.locator("img.matrix").count() == 3
        assert pg.locator("circle.runner").count() >= 3
        assert pg.evaluate("Array.from(document.querySelectorAll('img.matrix')).every(i => i.naturalWidth === 128)")

        offsets = result.offsets_seconds
        frame = 1 / 30

        def times():
            return np.array(pg.evaluate("videosyncReview.videos.map(v => v.currentTime)"))

        def settled():
            pg.wait_for_function("videosyncReview.videos.every(v => !v.seeking && v.readyState >= 2)")

        # seek: every camera at t + offset (the reference is 0)
        for t in (1.0, 2.345, 3.9):
            pg.evaluate(f"videosyncReview.seek({t})")
            settled()
            assert times() - times()[0] == pytest.approx(offsets, abs=1e-3)
        # frame stepping moves the timeline by one reference frame
        t0 = pg.evaluate("videosyncReview.state.t")
        pg.click("#fwd")
        settled()
        assert pg.evaluate("videosyncReview.state.t") == pytest.approx(np.floor(t0 * 30 + 1e-6) / 30 + 1.5 / 30)
        # play: while playing, the cameras stay within one frame of the offsets
        pg.evaluate("videosyncReview.seek(0.5)")
        settled()
        pg.click("#play")
        pg.wait_for_timeout(500)  # the cameras start at slightly different moments; let them pull in
        spread = []
        for _ in range(8):
            pg.wait_for_timeout(100)
            now = times()  # one read of every camera at one moment
            spread.append(np.abs(now - now[0] - offsets).max())
        assert pg.evaluate("videosyncReview.state.t") > 1.0  # time went on
        assert np.median(spread) < frame and max(spread) < 2 * frame
        pg.click("#play")  # pause: back exactly on the timeline
        settled()
        assert times() - times()[0] == pytest.approx(offsets, abs=1e-3)

        # nudges: cam1 +2 frames (25 fps), cam2 −1 frame (30 fps)
        tiles = pg.locator(".tile")
        tiles.nth(1).locator("button.p").click()
        tiles.nth(1).locator("button.p").click()
        tiles.nth(2).locator("button.m").click()
        settled()
        moved = offsets + np.array([0.0, 2 / 25, -1 / 30])
        assert times() - times()[0] == pytest.approx(moved, abs=1e-3)
        with pg.expect_download() as dl:
            pg.click("#save")
        saved = tmp_path / "corrections.json"
        dl.value.save_as(saved)
        assert pg.locator(".tile").nth(1).locator(".val").inner_text() == "+2 fr"
        assert not errors
        pg.close()
    finally:
        srv.shutdown()
    d = json.loads(saved.read_text())
    assert d["kind"] == "videosync-corrections" and d["schema_version"] == 1
    assert d["reference"] == result.videos[0].path
    assert d["corrections_frames"] == {result.videos[1].path: 2, result.videos[2].path: -1}
    # the CLI accepts the saved file: the offsets move by the nudges
    from videosync.corrections import apply_corrections, load_corrections

    fixed = apply_corrections(result, load_corrections(saved))
    assert fixed.offsets_seconds == pytest.approx(moved)


def test_cli_review_and_plots(page_files, tmp_path, capsys):
    from videosync.cli import main

    root, result, _ = page_files
    corr = tmp_path / "c.json"
    corr.write_text(json.dumps({"schema_version": 1, "kind": "videosync-corrections",
                                "reference": result.videos[0].path, "corrections_frames": {"cam1.mp4": 3}}))
    out = tmp_path / "r.html"
    code = main(["review", str(root / "sync.json"), "-o", str(out), "--corrections", str(corr),
                 "--plot", str(tmp_path / "figs")])
    _, err = capsys.readouterr()
    assert code == 0, err
    html = out.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html  # offline
    data = json.loads(html.split('<script id="vs-data" type="application/json">')[1].split("</script>")[0])
    assert [c["nudge_frames"] for c in data["cameras"]] == [0.0, 3.0, 0.0]  # saved nudges are the start
    assert data["cameras"][1]["offset_seconds"] == pytest.approx(result.videos[1].offset_seconds)
    pngs = sorted((tmp_path / "figs").iterdir())
    assert len(pngs) == 3 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert main(["review", str(root / "sync.json")]) == 2  # nothing to write: usage error
