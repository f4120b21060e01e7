"""Fit the constants of the ``lag`` predictor's null-model confidence (a standalone script).

``python -m videosync.eval.null_fit [--cache DIR] [--seeds 30 31] [--check 32 33] [--shipped]``

Mixed pairs (:func:`videosync.eval.confidence.mixed_pairs`: 400 equal-length 6 s crop
pairs, offsets uniform in ±30 frames, plus 30 % negatives whose crops come from two
different worlds) of rendered worlds made for this fit only — the six kinds of the bench
(human, humans, objects, pendulums, pouring, flock) at seeds the bench never uses — embedded
with ``motion``. For every pair ``lag`` reports the null excess and the margin
(``details``); a logistic regression (L2 1e-3 on the weights) fits "the answer is within
one frame" (negatives are never right). Prints the constants for
:mod:`videosync.predict.lag`, the in-sample AUROC and, with ``--check``, the AUROC and the
threshold-0.5 rates of the fitted confidence on other seeds; ``--shipped`` skips the fit and
checks the constants in :mod:`videosync.predict.lag` beside the margin-only confidence.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

KINDS = ("human", "humans", "objects", "pendulums", "pouring", "flock")


def features(seeds, cache: str, *, n_positive: int = 400, pair_seed: int = 7):
    """(X of shape (P, 2): clipped excess and margin, right (P,), positive (P,))."""
    from videosync.eval.benchmark import embed_scenes
    from videosync.eval.confidence import mixed_pairs
    from videosync.eval.datasets import load_synthetic
    from videosync.predict import SearchRange
    from videosync.predict.lag import LagPredictor
    from videosync.similarity import SimilarityMatrix

    scenes = [s for k in KINDS for s in load_synthetic(k, cache, seeds=tuple(seeds))]
    emb = embed_scenes(scenes, "motion")
    pairs = mixed_pairs(scenes, emb, n_positive=n_positive, negative_fraction=0.3, max_offset_frames=30,
                        clip_seconds=6.0, seed=pair_seed)
    pred = LagPredictor(confidence="null")
    x, right, pos = [], [], []
    for a, b, truth, fps, max_off in pairs:
        est = pred.predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=max_off, min_overlap_seconds=2.0))
        e, m = est.details.get("null_excess"), est.details.get("margin")
        x.append([np.clip(np.nan if e is None else e, -5, 30), np.clip(0.0 if m is None else m, 0, 10)])
        pos.append(truth is not None)
        right.append(truth is not None and abs(est.offset_seconds - truth) * fps <= 1.0)
    x = np.nan_to_num(np.array(x), nan=-5.0)
    return x, np.array(right), np.array(pos)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """[bias, weights...] maximising the likelihood of y (bool) given x (P, F)."""
    from scipy.optimize import minimize

    a = np.c_[np.ones(len(x)), x]

    def nll(w):
        t = a @ w
        return float(np.sum(np.logaddexp(0, t) - y * t) + l2 * np.sum(w[1:] ** 2))

    return minimize(nll, np.zeros(a.shape[1]), method="BFGS").x


def main(argv=None) -> None:
    from videosync.eval.metrics import auroc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "videosync"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[30, 31])
    ap.add_argument("--check", type=int, nargs="*", default=[])
    ap.add_argument("--shipped", action="store_true", help="no fit: check the constants in videosync.predict.lag")
    args = ap.parse_args(argv)
    if args.shipped:
        from videosync.predict.lag import NULL_BIAS, NULL_W_EXCESS, NULL_W_MARGIN

        w = np.array([NULL_BIAS, NULL_W_EXCESS, NULL_W_MARGIN])
    else:
        x, right, pos = features(args.seeds, args.cache)
        w = fit_logistic(x, right)
        print(f"pairs {len(x)} (positives {pos.sum()}, right {right.sum()})")
        print(f"NULL_BIAS = {w[0]:.3f}\nNULL_W_EXCESS = {w[1]:.3f}\nNULL_W_MARGIN = {w[2]:.3f}")
        print(f"in-sample AUROC {auroc(np.c_[np.ones(len(x)), x] @ w, right):.3f}")
    if args.check:
        from videosync.predict.lag import MARGIN_FLOOR, MARGIN_SCALE

        xc, rc, pc = features(args.check, args.cache, pair_seed=11)
        null = 1 / (1 + np.exp(-(np.c_[np.ones(len(xc)), xc] @ w)))
        margin = 1 - np.exp(-np.maximum(0, xc[:, 1] - MARGIN_FLOOR) / MARGIN_SCALE)  # margin-only confidence
        for name, conf in (("margin", margin), ("null", null)):
            acc = conf >= 0.5
            print(f"check seeds {args.check}, {name} confidence: pairs {len(conf)}, right {rc.sum()}, "
                  f"AUROC {auroc(conf, rc):.3f}, accepted {acc.mean():.2f}, errors among accepted "
                  f"{(~rc[acc]).mean() if acc.any() else float('nan'):.2f}, negatives accepted {acc[~pc].mean():.2f}")


if __name__ == "__main__":
    main()
