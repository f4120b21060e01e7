"""End to end on generated rigs: the library facade and the offset convention."""

import numpy as np
import pytest

import videosync
from videosync import SyncResult

FRAME_TOL = 0.1  # frames


def _frame_errors(result, rig):
    return [abs(v.offset_seconds - t) * v.fps for v, t in zip(result.videos, rig.offsets_seconds)]


@pytest.mark.parametrize("embedder", ["motion", "appearance"])
def test_fractional_offsets_both_signs_two_frame_rates(rig_factory, embedder):
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, 1.2345, -0.8123), fps=(30.0, 25.0, 30.0),
                      duration_seconds=6.0, views="same", seed=1)
    res = videosync.sync(rig.paths, embedder=embedder, predictor="lag")
    assert res.videos[0].status == "reference" and res.videos[0].offset_seconds == 0.0
    errs = _frame_errors(res, rig)
    assert max(errs) < FRAME_TOL, errs
    assert all(v.status == "synced" for v in res.videos[1:])


def test_variable_frame_rate_camera(rig_factory):
    rig = rig_factory(n_cameras=2, offsets_seconds=(0.0, -0.6789), fps=(30.0, 30.0), duration_seconds=6.0,
                      vfr=[False, True], views="same", seed=2)
    assert videosync.probe(rig.paths[1]).is_variable_frame_rate
    res = videosync.sync(rig.paths, embedder="motion", predictor="lag")
    assert max(_frame_errors(res, rig)) < FRAME_TOL


def test_sign_convention_end_to_end(rig_factory):
    # cam1 started 1 s after the reference -> -1; cam2 started 1 s before -> +1.
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, -1.0, 1.0), fps=30.0, duration_seconds=5.0,
                      views="same", seed=3)
    res = videosync.sync(rig.paths)
    assert res.videos[1].offset_seconds == pytest.approx(-1.0, abs=0.02)
    assert res.videos[2].offset_seconds == pytest.approx(1.0, abs=0.02)
    # offset_frames is the same in that camera's frames
    assert res.videos[1].offset_frames == pytest.approx(res.videos[1].offset_seconds * 30.0)
    # choosing another reference moves the zero
    res2 = videosync.sync(rig.paths, reference=1)
    assert res2.videos[0].offset_seconds == pytest.approx(1.0, abs=0.02)
    assert res2.videos[2].offset_seconds == pytest.approx(2.0, abs=0.02)


def test_different_viewpoints_within_a_frame(rig_factory):
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, 1.5, -0.75), fps=(30.0, 25.0, 30.0),
                      duration_seconds=8.0, views="different", seed=0)
    res = videosync.sync(rig.paths)
    assert max(_frame_errors(res, rig)) < 1.0


def test_static_camera_is_low_confidence_not_an_error(rig_factory):
    rig = rig_factory(n_cameras=2, offsets_seconds=(0.0, 0.5), fps=30.0, duration_seconds=5.0,
                      static=[False, True], seed=4)
    res = videosync.sync(rig.paths)
    assert res.videos[1].status == "low_confidence"
    assert res.videos[1].confidence < 0.5


def test_unrelated_videos_are_low_confidence(rig_factory):
    a = rig_factory(n_cameras=1, offsets_seconds=(0.0,), fps=30.0, duration_seconds=6.0, seed=10)
    b = rig_factory(n_cameras=1, offsets_seconds=(0.0,), fps=30.0, duration_seconds=6.0, seed=11)
    res = videosync.sync([a.paths[0], b.paths[0]])
    assert res.videos[1].status == "low_confidence"


def test_result_round_trip_and_provenance(rig_factory):
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, -1.0, 1.0), fps=30.0, duration_seconds=5.0,
                      views="same", seed=3)
    res = videosync.sync(rig.paths, max_offset_seconds=2.0)
    d = res.to_dict()
    assert d["schema_version"] == 1 and d["reference"] == rig.paths[0]
    assert [v["path"] for v in d["videos"]] == list(rig.paths)
    assert len(d["pairs"]) == 3 and {"a", "b", "offset_seconds", "confidence", "used"} <= set(d["pairs"][0])
    prov = d["provenance"]
    assert prov["embedder"]["name"] == "motion" and prov["predictor"]["name"] == "lag"
    assert prov["search"]["max_offset_seconds"] == 2.0 and prov["elapsed_seconds"] >= 0
    back = SyncResult.from_dict(d)
    np.testing.assert_allclose(back.offsets_seconds, res.offsets_seconds, atol=1e-6)
    assert [v.status for v in back.videos] == [v.status for v in res.videos]


def test_pairs_subset_and_bad_parameters(rig_factory):
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, -1.0, 1.0), fps=30.0, duration_seconds=5.0,
                      views="same", seed=3)
    res = videosync.sync(rig.paths, pairs=[(0, 1), (1, 2)])
    assert [(p.a, p.b) for p in res.pairs] == [(0, 1), (1, 2)]
    assert res.videos[2].offset_seconds == pytest.approx(1.0, abs=0.02)
    with pytest.raises(videosync.InvalidParameterError):
        videosync.sync(rig.paths, pairs=[(0, 0)])
    with pytest.raises(videosync.UnknownPluginError, match="available: .*lag"):
        videosync.sync(rig.paths, predictor="nope")
    with pytest.raises(videosync.InvalidParameterError, match="valid: grid"):
        videosync.sync(rig.paths, embedder_params={"gird": 3})
    with pytest.raises(videosync.InvalidParameterError):
        videosync.sync(rig.paths[:1])


def test_no_overlap_is_low_confidence(rig_factory):
    # cam1 started 8 s after the reference; both record 4 s: they never overlap.
    rig = rig_factory(n_cameras=2, offsets_seconds=(0.0, -8.0), fps=30.0, duration_seconds=4.0, seed=12)
    res = videosync.sync(rig.paths)
    assert res.videos[1].status == "low_confidence"


def test_geometry_cue_fused_with_the_picture(rig_factory):
    """`cues="visual,geometry"` runs the tracks + epilines cue beside the picture; where it finds
    no background geometry (this flat 2-D rig) it has no vote, so the answer is the picture's
    and the pair's cues say so."""
    rig = rig_factory(n_cameras=2, offsets_seconds=(0.0, 0.7321), fps=(30.0, 25.0), duration_seconds=6.0,
                      views="same", seed=1)
    plain = videosync.sync(rig.paths)
    fused = videosync.sync(rig.paths, cues="visual,geometry")
    assert fused.videos[1].offset_seconds == pytest.approx(plain.videos[1].offset_seconds, abs=1e-9)
    assert max(_frame_errors(fused, rig)) < FRAME_TOL
    details = fused.pairs[0].estimate.details
    assert details["cues"] == "visual+geometry" and details["cues_used"] == ["visual"]
    assert details["geometry_usable"] is False


def test_many_cameras_screen_pairs_before_the_null_confidence(rig_factory, monkeypatch):
    """With many cameras every pair gets the cheap margin confidence first; only each camera's
    most promising pairs get the null profiles, the rest stay out of the solve (confidence 0)."""
    import videosync.pipeline as pipeline

    rig = rig_factory(n_cameras=4, offsets_seconds=(0.0, 0.9, -0.6, 1.3), fps=30.0, duration_seconds=6.0,
                      views="same", seed=4)
    full = videosync.sync(rig.paths)
    assert "screening" not in full.provenance
    monkeypatch.setattr(pipeline, "SCREEN_MIN_CAMERAS", 4)
    monkeypatch.setattr(pipeline, "SCREEN_PER_CAMERA", 1)
    res = videosync.sync(rig.paths)
    scr = res.provenance["screening"]
    assert scr["pairs"] == 6 and 2 <= scr["pairs_confirmed"] < 6
    out = [p for p in res.pairs if p.estimate.details.get("screened_out")]
    kept = [p for p in res.pairs if not p.estimate.details.get("screened_out")]
    assert len(out) == 6 - scr["pairs_confirmed"]
    assert all(p.confidence == 0.0 and not p.used and p.estimate.details["margin_confidence"] >= 0 for p in out)
    assert all("null_profiles" in p.estimate.details for p in kept)
    # confirmed pairs carry the same answer and confidence as without screening
    by = {(p.a, p.b): p for p in full.pairs}
    for p in kept:
        assert p.confidence == pytest.approx(by[(p.a, p.b)].confidence)
    assert max(_frame_errors(res, rig)) < FRAME_TOL
    assert pipeline.screen_pairs(3, [(0, 1, 0.9), (0, 2, 0.1), (1, 2, 0.5)], 1) == {0, 2}
