import math

import pytest

from videosync.eval.metrics import compute_metrics, naive_expected_mae


def test_hand_computed_case():
    found = [0.0, 2.0, -3.0, 10.5]
    truth = [0.0, 1.0, -1.0, 10.0]
    m = compute_metrics(found, truth, fps=10.0, confidence=[0.9, 0.8, 0.2, 0.7])
    # errors 0, 1, 2, 0.5
    assert m["mean_abs_frames"] == pytest.approx(0.875)
    assert m["sem_frames"] == pytest.approx(math.sqrt(((0.875**2) + 0.125**2 + 1.125**2 + 0.375**2) / 3) / 2)
    assert m["median_abs_ms"] == pytest.approx(75.0)  # median(0, 1, 2, 0.5) = 0.75 frames at 10 fps
    assert m["acc_at_1"] == 0.75 and m["acc_at_5"] == 1.0
    assert m["abs_err_seconds"] == pytest.approx(0.0875)
    assert m["rel_err"] == pytest.approx(3.5 / 12.0)
    # relative errors over R != 0: 1/1, 2/1, 0.5/10 -> only 0.05 is <= 0.1, 0.3, 0.5
    assert m["racc_at_10"] == pytest.approx(1 / 3) and m["racc_at_50"] == pytest.approx(1 / 3)
    assert m["low_confidence"] == 0.25
    assert m["accepted_error_rate"] == 0.0  # the 2-frame error had low confidence


def test_fractional_metrics():
    # truth 1.3 frames; found 1.4 (same frame, 1 tenth off), 2.3 (next frame, same tenth), -0.7 (ex -1, in 3)
    m = compute_metrics([1.4, 2.3, -0.7], [1.3, 1.3, 1.3], fps=30.0)
    assert m["acc_ex_at_1"] == pytest.approx(1 / 3)  # only 1.4 has ex = 1
    assert m["acc_ex_at_3"] == pytest.approx(1.0)
    assert m["acc_in_at_1"] == pytest.approx(2 / 3)  # 2.3 and -0.7 keep tenth 3
    assert m["acc_in_at_3"] == pytest.approx(1.0)


def test_naive_expected_mae_matches_paper():
    assert naive_expected_mae(30) == pytest.approx(930 / 61)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        compute_metrics([1, 2], [1], fps=10)


def test_merge_reports_replaces_only_the_sections_run():
    from videosync.eval.suite import merge_reports

    old = "# B\n\nLast run: `old`\n\n## A\n\nold a\n\n## B\n\nold b\n\n## Gone\n\nx\n"
    new = "# B\n\nLast run: `new`\n\n## B\n\nnew b"
    out = merge_reports(old, new, ["A", "B", "C"])
    assert out == "# B\n\nLast run: `new`\n\n## A\n\nold a\n\n## B\n\nnew b\n"
    # A standalone benchmark's section (its own command, not a suite entry) survives updates.
    old += "\n## Standalone: speed\n\ns\n"
    out = merge_reports(old, new, ["A", "B", "C"])
    assert out.endswith("## B\n\nnew b\n\n## Standalone: speed\n\ns\n") and "Gone" not in out


def test_report_to_write_keeps_standalone_sections_after_a_whole_suite_run():
    from videosync.eval.suite import report_to_write

    old = "# B\n\nLast run: `old`\n\n## A\n\nold a\n\n## B\n\nold b\n\n## Standalone: speed\n\ns\n"
    whole = "# B\n\nLast run: `new`\n\n## A\n\nnew a\n\n## B\n\nnew b\n"
    out = report_to_write(old, whole, ["A", "B"], update=False, whole_suite=True)
    assert out == whole + "\n## Standalone: speed\n\ns\n"
    # Some entries without --update: the file holds just what ran; no file yet: the new report.
    part = "# B\n\nLast run: `new`\n\n## B\n\nnew b\n"
    assert report_to_write(old, part, ["A", "B"], update=False, whole_suite=False) == part
    assert report_to_write(None, whole, ["A", "B"], update=False, whole_suite=True) == whole
    assert "old a" in report_to_write(old, part, ["A", "B"], update=True, whole_suite=False)


def test_auroc_and_reliability():
    from videosync.eval.metrics import auroc, reliability

    assert auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5], [True, False]) == 0.5
    assert auroc([0.3], [True]) is None
    rows = reliability([0.1, 0.15, 0.9, 0.95], [False, True, True, True], bins=2)
    assert [r["pairs"] for r in rows] == [2, 2]
    assert rows[0]["fraction_correct"] == 0.5 and rows[1]["fraction_correct"] == 1.0
