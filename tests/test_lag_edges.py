"""lag's edge check: an answer where the two files' starts or ends line up, which does not
survive leaving the files' edges out, gets a low confidence (x264's end-of-stream fall and
the like are the same in every file; docs/geometric.md)."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from videosync.embed import Embedding
from videosync.predict import PREDICTORS, SearchRange
from videosync.predict.lag import EDGE_CONFIDENCE
from videosync.similarity import SimilarityMatrix

FPS = 10.0


def _pair(lag_rows, *, artifact=6.0, seed=0, n=200, cells=12, tail=20):
    """Two 20 s grids of ``cells`` channels (matched across views, shuffled in b) seeing one
    scene, b ``lag_rows`` rows later in the scene (offset −lag_rows / FPS); both files' cells
    fall by ``artifact`` over their last ``tail`` rows, in file time."""
    rng = np.random.default_rng(seed)
    scene = gaussian_filter1d(rng.normal(0, 1, (n + lag_rows + 10, cells)), 2, axis=0)
    a = 2.0 * scene[10:10 + n] + rng.normal(0, 1, (n, cells))
    b = 2.0 * scene[10 + lag_rows:10 + lag_rows + n][:, rng.permutation(cells)] + rng.normal(0, 1, (n, cells))
    fall = artifact * np.clip((np.arange(n) - (n - tail)) / tail, 0, 1)[:, None]
    t = (np.arange(n) + 0.5) / FPS
    return (Embedding(t, a - fall, channels_correspond=False),
            Embedding(t, b - fall, channels_correspond=False))


def _predict(a, b, **kw):
    return PREDICTORS.create("lag", **kw).predict(SimilarityMatrix(a, b), SearchRange(min_overlap_seconds=5.0))


@pytest.mark.parametrize("seed", [0, 3])
def test_answer_resting_on_the_files_ends_is_not_trusted(seed):
    # The scene says -3 s; the shared fall at the files' ends pulls the answer to 0 (where
    # the ends line up), with some confidence. Without the edges the answer moves: capped.
    a, b = _pair(30, seed=seed)
    plain = _predict(a, b, edges=False)
    assert abs(plain.offset_seconds) < 0.1 and plain.confidence > 0.5
    est = _predict(a, b)
    assert est.offset_seconds == pytest.approx(plain.offset_seconds)  # the answer is kept
    assert est.details["edges_lined_up"] == "starts,ends" and est.details["edges_hold"] is False
    assert est.details["edges_trimmed_offset_seconds"] == pytest.approx(-3.0, abs=0.15)
    assert est.confidence <= EDGE_CONFIDENCE
    assert "lines up the two files' starts and ends" in est.details["reason"]


def test_true_offset_where_the_edges_line_up_stays_confident():
    # Same fall, but the scene itself says 0: the answer holds without the edges.
    a, b = _pair(0)
    est = _predict(a, b)
    assert abs(est.offset_seconds) < 0.1
    assert est.details["edges_hold"] is True and est.confidence > 0.9


def test_answers_elsewhere_are_not_checked():
    a, b = _pair(30, artifact=0.0)
    est = _predict(a, b)
    assert est.offset_seconds == pytest.approx(-3.0, abs=0.1)
    assert "edges_hold" not in est.details and est.confidence > 0.9


def test_windows_skip_the_edge_check():
    from videosync.predict.lag import LagPredictor, without_null

    assert LagPredictor().edges is True
    assert without_null(LagPredictor()).edges is False
    margin = LagPredictor(confidence="margin")
    assert without_null(margin).edges is False and margin.edges is True  # a copy
