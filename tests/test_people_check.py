"""Per-person tracks from multi-person detections (videosync.eval.people_check.link_people)."""

import numpy as np

from videosync.eval.people_check import link_people, track_person


def _person(t, x0, vx):
    """(T, 17, 2) a stick figure (torso 30 px) whose joints all drift at vx px/s."""
    base = np.stack([np.zeros(17), np.linspace(-60, 60, 17)], axis=1)
    base[5:7, 1], base[11:13, 1] = -30.0, 0.0
    return base[None] + np.stack([x0 + vx * t, np.full_like(t, 120.0)], axis=1)[:, None]


def test_linking_follows_people_whose_detector_slots_jump():
    t = np.arange(90) / 30.0
    a, b = _person(t, 60.0, 20.0), _person(t, 260.0, -15.0)
    dets = np.full((90, 3, 17, 2), np.nan)
    rng = np.random.default_rng(0)
    for k in range(90):
        order = rng.permutation(3)  # the trackers report the people in any slot
        dets[k, order[0]], dets[k, order[1]] = a[k], b[k]
    dets[40:45, :, :, :] = np.nan  # nobody seen for 5 frames (0.17 s): the tracks go on
    tracks = link_people(t, dets)
    assert len(tracks) == 2
    truth = np.stack([a, b])
    found = sorted(track_person(tr, truth) for tr in tracks)
    assert [p for p, _ in found] == [0, 1] and all(q == 1.0 for _, q in found)
    for tr in tracks:
        assert tr.present[:, 0].sum() == 85


def test_linking_splits_tracks_after_a_long_gap_and_drops_short_ones():
    t = np.arange(150) / 30.0
    a = _person(t, 60.0, 10.0)
    dets = np.full((150, 1, 17, 2), np.nan)
    dets[:50, 0], dets[80:, 0] = a[:50], a[80:]  # 1 s unseen: two tracks
    dets[60:65, 0] = _person(t, 250.0, 0.0)[60:65]  # a 5-frame ghost: dropped
    tracks = link_people(t, dets)
    assert [int(tr.present[:, 0].sum()) for tr in tracks] == [50, 70]
