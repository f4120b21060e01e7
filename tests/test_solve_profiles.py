"""The profile-aware N-camera solve: other peaks of a pair's profile can win by consistency."""

import numpy as np

from videosync.multiview import PairMeasurement, solve_offsets
from videosync.multiview.profiles import profile_candidates, solve_with_profiles

LAGS = np.arange(-60, 61) * 0.1


def _profile(peaks):
    """A lag-score profile with Gaussian bumps at the given (offset, height) peaks plus ripple."""
    y = 0.05 * np.sin(7.3 * LAGS)
    for o, h in peaks:
        y = y + h * np.exp(-0.5 * ((LAGS - o) / 0.15) ** 2)
    return LAGS, y


def test_candidates_own_answer_first():
    c = profile_candidates(1.0, *_profile([(1.0, 1.0), (-2.0, 0.8), (3.0, 0.5)]))
    assert c[0][0] == 1.0 and c[0][1] > c[1][1] > c[2][1] > 0
    assert {round(o, 1) for o, _ in c[1:3]} == {-2.0, 3.0}


def test_consistent_second_peak_overrules_a_confident_wrong_pair():
    truth = np.array([0.0, 1.0, 2.5])
    pairs = [
        PairMeasurement(0, 1, 1.0, 0.3),
        PairMeasurement(0, 2, -3.0, 0.9),  # confident, but its true peak is only the second
        PairMeasurement(1, 2, 1.5, 0.3),
    ]
    profiles = [_profile([(1.0, 1.0), (4.0, 0.7)]), _profile([(-3.0, 1.0), (2.5, 0.8)]),
                _profile([(1.5, 1.0), (-2.0, 0.9)])]
    plain = solve_offsets(3, pairs)
    assert abs(plain.offsets_seconds[2] - truth[2]) > 1.0  # the peaks alone go wrong
    res = solve_with_profiles(3, pairs, profiles)
    np.testing.assert_allclose(res.solution.offsets_seconds, truth, atol=0.05)
    assert res.overruled.tolist() == [False, True, False]
    assert res.chosen_offsets_seconds[1] == 2.5 and res.hypotheses > 0


def test_agreeing_peaks_give_the_plain_solve():
    pairs = [PairMeasurement(0, 1, 1.0, 0.8), PairMeasurement(0, 2, 2.5, 0.8), PairMeasurement(1, 2, 1.5, 0.8)]
    profiles = [_profile([(o, 1.0), (o - 3, 0.6)]) for o in (1.0, 2.5, 1.5)]
    res = solve_with_profiles(3, pairs, profiles)
    np.testing.assert_allclose(res.solution.offsets_seconds, solve_offsets(3, pairs).offsets_seconds)
    assert not res.overruled.any()


def test_two_cameras_or_missing_profiles_fall_back():
    pairs = [PairMeasurement(0, 1, 1.0, 0.8)]
    res = solve_with_profiles(2, pairs, [_profile([(1.0, 1.0)])])
    assert res.hypotheses == 0 and abs(res.solution.offsets_seconds[1] - 1.0) < 1e-9


def test_sync_solve_option_is_checked_before_any_decoding():
    import pytest

    from videosync import sync
    from videosync.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="solve"):
        sync(["missing-a.mp4", "missing-b.mp4"], solve="best")
