"""Audio as a cue: the audio embedder, GCC-PHAT refinement, cue fusion, sync(cues=...)."""

import numpy as np
import pytest

import videosync
from videosync.embed import EMBEDDERS
from videosync.fusion import CueProfile, check_cues, fuse_profiles
from videosync.errors import InvalidParameterError
from videosync.predict import OffsetEstimate
from videosync.refine import REFINERS
from videosync.refine.gcc_phat import gcc_phat
from videosync.testing.audio import event_track, mux_audio
from videosync.testing.rig import write_video

SR = 48000
SECONDS = 6.0
# Camera 1 started 1.0371 s after the reference (negative offset), camera 2 0.4567 s before.
OFFSETS = (0.0, -1.0371, 0.4567)
EVENTS = np.sort(np.random.default_rng(3).uniform(-1.0, 7.5, 16))  # world times, not periodic


@pytest.fixture(scope="module")
def audio_rig(rig_factory, tmp_path_factory):
    """3 cameras with picture and sound; plus one with no audio stream and one silent."""
    rig = rig_factory(n_cameras=3, offsets_seconds=OFFSETS, fps=(30.0, 25.0, 30.0), duration_seconds=SECONDS, seed=3)
    d = tmp_path_factory.mktemp("audio_rig")
    paths = []
    for k, p in enumerate(rig.paths):
        x = event_track(EVENTS, OFFSETS[k], SECONDS, sample_rate_hz=SR, seed=k)
        paths.append(mux_audio(p, d / f"cam{k}.mp4", x, sample_rate_hz=SR))
    silent = mux_audio(rig.paths[1], d / "silent1.mp4", np.zeros(int(SECONDS * SR), np.float32), sample_rate_hz=SR)
    return {"paths": paths, "no_audio": rig.paths[1], "silent": silent, "dir": d, "video": rig.paths}


def _errors_ms(result, offsets):
    return [abs(v.offset_seconds - o) * 1000 for v, o in zip(result.videos, offsets)]


def test_audio_sync_within_a_millisecond_and_sign(audio_rig):
    r = videosync.sync(audio_rig["paths"], cues=("audio",))
    assert max(_errors_ms(r, OFFSETS)) < 1.0
    assert r.offsets_seconds[1] < 0 < r.offsets_seconds[2]  # cam1 started later, cam2 earlier
    assert [v.status for v in r.videos] == ["reference", "synced", "synced"]
    assert all(p.estimate.details.get("refined") for p in r.pairs)
    assert r.provenance["cues"] == ["audio"]
    # The other camera as the reference: cam0 started 1.0371 s before cam1.
    r1 = videosync.sync(audio_rig["paths"][:2], cues="audio", reference=1)
    assert r1.offsets_seconds[0] == pytest.approx(1.0371, abs=1e-3)


def test_fused_cues_sub_millisecond_and_visual_default_unchanged(audio_rig):
    fused = videosync.sync(audio_rig["paths"], cues=("visual", "audio"))
    assert max(_errors_ms(fused, OFFSETS)) < 1.0
    d = fused.pairs[0].estimate.details
    assert d["cues"] == "visual+audio" and d["visual_usable"] and d["audio_usable"]
    visual = videosync.sync(audio_rig["paths"])
    assert visual.provenance["cues"] == ["visual"]
    assert max(_errors_ms(visual, OFFSETS)) < 1000 / 25  # within a frame, but not sample-accurate
    same = videosync.sync(audio_rig["video"])  # sound does not change the default path
    np.testing.assert_array_equal(same.offsets_seconds, visual.offsets_seconds)


def test_audio_embedder_rows_and_timeline(audio_rig):
    emb = EMBEDDERS.create("audio")
    e = emb.embed_video(audio_rig["paths"][0])
    assert e.features.shape[1] == 4 and not e.channels_correspond
    assert np.allclose(np.diff(e.times_seconds), 0.01)
    assert 0 <= e.times_seconds[0] and e.times_seconds[-1] <= SECONDS
    assert e.valid.mean() > 0.95
    # The strongest onset rows sit at the events (within one hop plus the window's half).
    top = e.times_seconds[np.argsort(e.features.sum(axis=1))[-5:]]
    heard = EVENTS[(EVENTS > 0.1) & (EVENTS < SECONDS - 0.1)]
    assert all(np.min(np.abs(heard - t)) < 0.03 for t in top)


def test_video_start_pts_and_audio_start_pts(tmp_path):
    """The video timeline starts at the first video frame, whatever the audio's start."""
    fps, n = 25.0, 150
    frames = lambda: (np.full((32, 48, 3), 40 + (k % 50), np.uint8) for k in range(n))  # noqa: E731
    # A: video and audio both start at container time 0.
    write_video(str(tmp_path / "a_v.mp4"), frames(), np.arange(n) / fps, fps)
    a = mux_audio(tmp_path / "a_v.mp4", tmp_path / "a.mp4", event_track(EVENTS, 0.0, 6.0, seed=1))
    # B: offset 0.3141 s; its first video frame is at container time 0.5, its audio starts at 0,
    # so an event at world time w is at container time 0.5 + w + offset.
    write_video(str(tmp_path / "b_v.mp4"), frames(), 0.5 + np.arange(n) / fps, fps)
    b = mux_audio(tmp_path / "b_v.mp4", tmp_path / "b.mp4", event_track(EVENTS, 0.3141 + 0.5, 6.5, seed=2))
    # C: offset -0.2718 s; video at 0, PCM audio whose first sample is at container time 0.25.
    write_video(str(tmp_path / "c_v.mp4"), frames(), np.arange(n) / fps, fps)
    c = mux_audio(tmp_path / "c_v.mp4", tmp_path / "c.mov",
                  event_track(EVENTS, -0.2718, 5.75, seed=3, audio_start_seconds=0.25),
                  start_pts=int(0.25 * SR), codec="pcm_s16le")
    e = EMBEDDERS.create("audio").embed_video(c)
    assert e.times_seconds[0] >= 0.25  # no rows before the sound starts
    r = videosync.sync([a, b, c], cues=("audio",))
    assert _errors_ms(r, (0.0, 0.3141, -0.2718))[1:] == [pytest.approx(0, abs=1.0)] * 2


def test_read_audio_window_after_a_seek_is_on_time(audio_rig):
    from videosync.embed.audio import read_audio

    p = audio_rig["paths"][1]
    t0, full = read_audio(p, 0.0, 100.0)
    assert t0 == 0.0 and full.size == pytest.approx(SECONDS * 16000, abs=1100)
    ts, x = read_audio(p, 4.0013, 5.0)  # seeks (the window starts after 1 s)
    assert ts >= 4.0013 and x.size == pytest.approx(0.9987 * 16000, abs=2)
    i = int(np.floor(ts * 16000)) - 5
    r = gcc_phat(full[i:i + x.size + 10], x, 16000, min_lag_seconds=-0.002, max_lag_seconds=0.002)
    assert abs(r.lag_seconds - (i / 16000 - ts)) < 5e-6  # the same samples, placed within 5 µs


def test_a_hole_in_the_audio_stream_keeps_later_samples_on_time(audio_rig):
    from videosync.embed.audio import read_audio

    d = audio_rig["dir"]
    x = event_track(EVENTS, OFFSETS[1], SECONDS, seed=1)
    ref = mux_audio(audio_rig["video"][1], d / "nohole.mp4", x)
    holed = mux_audio(audio_rig["video"][1], d / "hole.mp4", x, hole_seconds=(2.0, 2.6))
    _, a = read_audio(ref, 3.0, 5.0)
    t, b = read_audio(holed, 3.0, 5.0)
    assert t == pytest.approx(3.0, abs=1 / 16000) and b.size == a.size
    # The hole is filled with whole output samples: later samples are within half a sample.
    assert abs(gcc_phat(a, b, 16000, min_lag_seconds=-0.01, max_lag_seconds=0.01).lag_seconds) <= 0.5 / 16000
    r = videosync.sync([audio_rig["paths"][0], holed], cues=("audio",))
    assert abs(r.offsets_seconds[1] - OFFSETS[1]) < 1e-3


def test_different_sample_rates(audio_rig):
    """A recorder at 44.1 kHz beside cameras at 48 kHz: both resampled on their own clocks."""
    x = event_track(EVENTS, OFFSETS[1], SECONDS, sample_rate_hz=44100, seed=5)
    p = mux_audio(audio_rig["video"][1], audio_rig["dir"] / "rate44k.mp4", x, sample_rate_hz=44100)
    r = videosync.sync([audio_rig["paths"][0], p], cues=("audio",))
    assert abs(r.offsets_seconds[1] - OFFSETS[1]) < 1e-3


def test_gcc_phat_sub_sample_and_sign(rng):
    sr, true = 16000, 0.0123456  # 197.53 samples: b is a delayed by true
    x = rng.normal(size=sr * 3)
    f = np.fft.rfftfreq(x.size, 1 / sr)
    y = np.fft.irfft(np.fft.rfft(x) * np.exp(-2j * np.pi * f * true), x.size) + rng.normal(0, 0.5, x.size)
    res = gcc_phat(x, y, sr, min_lag_seconds=-0.05, max_lag_seconds=0.05)
    assert abs(res.lag_seconds - true) * sr < 0.05  # a twentieth of a sample
    assert res.psr > 20
    assert gcc_phat(y, x, sr).lag_seconds == pytest.approx(-true, abs=0.05 / sr)
    from scipy.signal import correlate, correlation_lags

    c = correlate(y, x)
    assert correlation_lags(y.size, x.size)[np.argmax(c)] == round(true * sr)  # scipy's sign


def test_no_audio_stream_and_silence_give_low_confidence(audio_rig):
    emb = EMBEDDERS.create("audio")
    for p in (audio_rig["no_audio"], audio_rig["silent"]):
        e = emb.embed_video(p)
        assert e.num_frames >= 2 and not e.valid.any()
        r = videosync.sync([audio_rig["paths"][0], p], cues=("audio",))
        assert r.videos[1].confidence < 0.5 and r.videos[1].status == "low_confidence"
        # Fused with the picture, the missing sound leaves the visual answer untouched.
        fused = videosync.sync([audio_rig["paths"][0], p], cues=("visual", "audio"))
        visual = videosync.sync([audio_rig["paths"][0], p])
        assert fused.offsets_seconds[1] == visual.offsets_seconds[1]
        assert fused.pairs[0].estimate.details["audio_usable"] is False
    est = OffsetEstimate(OFFSETS[1], 0.9)
    out = REFINERS.create("gcc-phat").refine(audio_rig["paths"][0], audio_rig["no_audio"], est)
    assert out.offset_seconds == est.offset_seconds and out.details["refined"] is False
    out = REFINERS.create("gcc-phat").refine(audio_rig["paths"][0], audio_rig["silent"], est)
    assert out.details["refined"] is False and "silent" in out.details["refine_reason"]


def test_clipped_audio(audio_rig):
    d = audio_rig["dir"]
    # Claps that clip for a few ms still sync; sustained clipping is no evidence, not an error.
    claps = np.clip(event_track(EVENTS, OFFSETS[1], SECONDS, seed=7, gain=20.0), -1, 1)
    loud = np.clip(np.random.default_rng(0).normal(0, 3.0, int(SECONDS * SR)), -1, 1).astype(np.float32)
    p_claps = mux_audio(audio_rig["video"][1], d / "claps.mp4", claps)
    p_loud = mux_audio(audio_rig["video"][1], d / "loud.mp4", loud)
    r = videosync.sync([audio_rig["paths"][0], p_claps], cues=("audio",))
    assert abs(r.offsets_seconds[1] - OFFSETS[1]) < 1e-3
    e = EMBEDDERS.create("audio").embed_video(p_loud)
    assert e.valid.mean() < 0.1
    r = videosync.sync([audio_rig["paths"][0], p_loud], cues=("audio",))
    assert r.videos[1].status == "low_confidence"


def _profile(name, lags, peaks, width, conf, rng, noise=0.02):
    s = sum(h * np.exp(-0.5 * ((lags - c) / width) ** 2) for c, h in peaks) + rng.normal(0, noise, lags.size)
    best = lags[np.argmax(s)]
    return CueProfile(name, lags, s, conf, OffsetEstimate(best, conf))


def test_fusion_breaks_a_tie_and_keeps_precision(rng):
    audio_lags = np.arange(-300, 301) * 0.01
    visual_lags = np.arange(-90, 91) / 30
    # Periodic sound: two equal sharp peaks (the sound alone cannot choose), confidence ~0.
    audio = _profile("audio", audio_lags, [(0.734, 1.0), (-0.466, 1.0)], 0.01, 0.0, rng)
    # Picture: a broad peak near the right answer, modest confidence.
    visual = _profile("visual", visual_lags, [(0.70, 1.0)], 0.15, 0.6, rng)
    est = fuse_profiles([audio, visual])
    assert abs(est.offset_seconds - 0.734) < 0.01  # the sound's precision, the picture's choice
    # Swap the roles: an ambiguous picture, a clear sound.
    visual2 = _profile("visual", visual_lags, [(0.70, 1.0), (-1.5, 1.0)], 0.1, 0.0, rng)
    audio2 = _profile("audio", audio_lags, [(0.734, 1.0)], 0.01, 0.95, rng)
    assert abs(fuse_profiles([visual2, audio2]).offset_seconds - 0.734) < 0.01
    # Cues that agree are more confident than either; cues that disagree are less.
    agree = fuse_profiles([_profile("visual", visual_lags, [(0.7, 1.0)], 0.1, 0.6, rng),
                           _profile("audio", audio_lags, [(0.71, 1.0)], 0.02, 0.6, rng)])
    clash = fuse_profiles([_profile("visual", visual_lags, [(0.7, 1.0)], 0.1, 0.6, rng),
                           _profile("audio", audio_lags, [(-1.2, 1.0)], 0.02, 0.6, rng)])
    assert agree.confidence > 0.6 > clash.confidence


def test_a_cue_that_heard_nothing_does_not_move_the_answer(rng):
    visual_lags = np.arange(-90, 91) / 30
    audio_lags = np.arange(-300, 301) * 0.01
    for seed in range(20):
        r = np.random.default_rng(seed)
        v = _profile("visual", visual_lags, [(0.7, 1.0)], 0.12, 0.8, r)
        noise = CueProfile("audio", audio_lags, r.normal(0, 1, audio_lags.size), 0.0)
        est = fuse_profiles([v, noise])
        assert abs(est.offset_seconds - v.estimate.offset_seconds) < 0.002, seed


def test_fusion_of_one_usable_cue_is_that_cue(rng):
    lags = np.arange(-100, 101) / 30
    v = _profile("visual", lags, [(0.5, 1.0)], 0.1, 0.8, rng)
    silent = CueProfile("audio", np.arange(-10, 11) * 0.01, np.full(21, np.nan), 0.0)
    est = fuse_profiles([v, silent])
    assert est.offset_seconds == v.estimate.offset_seconds and est.confidence == 0.8
    none = fuse_profiles([silent])
    assert none.confidence == 0.0 and "no cue" in none.details["reason"]


def test_cue_names():
    assert check_cues("visual, audio") == ("visual", "audio")
    with pytest.raises(InvalidParameterError, match="unknown cue 'sound'; valid: visual, audio"):
        check_cues(("visual", "sound"))
    with pytest.raises(InvalidParameterError, match="at least one"):
        check_cues("")


def test_cli_cues(audio_rig, capsys):
    import json

    from videosync.cli import main

    assert main(["sync", *audio_rig["paths"][:2], "--cues", "visual,audio", "-q"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["videos"][1]["offset_seconds"] == pytest.approx(OFFSETS[1], abs=1e-3)
    assert main(["sync", *audio_rig["paths"][:2], "--cues", "smell", "-q"]) == 1
    err = capsys.readouterr().err
    assert "unknown cue 'smell'" in err and len(err.strip().splitlines()) == 1


def test_cues_that_found_nothing_do_not_add_up_to_a_confident_answer():
    """Averaging two broad, unrelated profiles sharpens the fused margin; the fused confidence
    is capped by what the cues that gave the answer claim themselves (1 - prod(1 - c))."""
    from videosync.predict.lag import margin_confidence

    lags = np.arange(-100, 101) / 10
    margin_accepts = 0
    for seed in range(50):
        r = np.random.default_rng(seed)
        profs = []
        for name in ("motion", "geometry"):
            s = np.convolve(r.normal(0, 1, lags.size + 60), np.hanning(30), mode="same")[30:-30]
            profs.append(CueProfile(name, lags, s, 0.1, OffsetEstimate(float(lags[np.argmax(s)]), 0.1)))
        est = fuse_profiles(profs)
        margin_accepts += margin_confidence(est.details["margin"]) >= 0.5
        assert est.confidence <= 1 - 0.9 ** len(est.details["agreeing_cues"]) + 1e-12
        assert est.confidence < 0.5
    assert margin_accepts >= 1  # the margin alone would have accepted some of these


def test_fused_answer_that_no_cue_gave_has_no_confidence(rng):
    lags = np.arange(-90, 91) / 30
    # each cue's own best peak is elsewhere; both have a secondary peak at 0.5
    a = _profile("visual", lags, [(-2.0, 1.0), (0.5, 0.9)], 0.1, 0.7, rng, noise=0.0)
    b = _profile("audio", lags, [(2.0, 1.0), (0.5, 0.9)], 0.1, 0.7, rng, noise=0.0)
    est = fuse_profiles([a, b])
    assert abs(est.offset_seconds - 0.5) < 0.05
    assert est.details["agreeing_cues"] == [] and est.confidence == 0.0


def test_an_answer_without_scores_or_confidence_is_no_evidence(rng):
    """A predictor that found nothing (no scores, confidence 0, answer 0) must not vote for 0."""
    lags = np.arange(-90, 91) / 30
    v = _profile("visual", lags, [(1.2, 1.0), (-1.0, 0.97)], 0.1, 0.05, rng, noise=0.0)
    nothing = CueProfile.from_estimate("geometry", OffsetEstimate(0.0, 0.0, details={"reason": "no geometry"}))
    assert not nothing.usable
    est = fuse_profiles([v, nothing])
    assert est.offset_seconds == v.estimate.offset_seconds and est.details["fused_from"] == "visual"
    bump = CueProfile.from_estimate("geometry", OffsetEstimate(-1.0, 0.4))  # an answer with confidence
    assert bump.usable and abs(fuse_profiles([v, bump]).offset_seconds + 1.0) < 0.05
