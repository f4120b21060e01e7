"""Does fusing visual cues help on real footage? (a standalone check; docs/geometric.md)

``python -m videosync.eval.fusion_check [--data DIR] [--cues motion:lag,tracks:epilines,learned:lag]``

Every camera pair of every scene under ``DIR`` (default ``../shared/data/visualsync-dev``),
whole clips, as the bench's visualsync-dev entries: each ``embedder:predictor`` cue alone,
then every combination of them fused by :func:`videosync.fusion.fuse_profiles` (the fusion
``sync`` uses for the picture and the sound). Prints, per cue set, the share of pairs
within 1 frame, the median error, and how many answers were accepted (confidence ≥ 0.5)
and how many of those were wrong.
"""

from __future__ import annotations

import argparse
import itertools
import os

import numpy as np


def cue_profiles(scenes, cues, *, min_overlap_seconds: float = 2.0, progress=None):
    """{cue name: {(scene, i, j): (CueProfile, truth_seconds, fps)}} for every pair i < j."""
    from videosync.embed import EMBEDDERS
    from videosync.fusion import CueProfile
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    search = SearchRange(min_overlap_seconds=min_overlap_seconds)
    out = {}
    for emb_name, pred_name in cues:
        key = f"{emb_name}+{pred_name}"
        emb, pred = EMBEDDERS.create(emb_name), PREDICTORS.create(pred_name)
        if progress:
            progress(f"embed {emb_name}")
        embs = {p: emb.embed_video(p) for s in scenes for p in s.paths}
        per = {}
        for s in scenes:
            for i in range(len(s.paths)):
                for j in range(i + 1, len(s.paths)):
                    sim = SimilarityMatrix(embs[s.paths[i]], embs[s.paths[j]])
                    est = pred.predict(sim, search)
                    per[(s.name, i, j)] = (CueProfile.from_estimate(key, est, sim, search), s.relative_offset(i, j),
                                           s.fps or 1.0 / sim.step_seconds)
        out[key] = per
    return out


def fused_rows(profiles, *, accept: float = 0.5) -> list[dict]:
    """One row per non-empty combination of the cues."""
    from videosync.fusion import fuse_profiles

    names = list(profiles)
    pairs = list(profiles[names[0]])
    rows = []
    for k in range(1, len(names) + 1):
        for combo in itertools.combinations(names, k):
            err_frames, err_s, conf = [], [], []
            for p in pairs:
                profs = [profiles[c][p][0] for c in combo]
                truth, fps = profiles[combo[0]][p][1], profiles[combo[0]][p][2]
                est = fuse_profiles(profs) if len(profs) > 1 else profs[0].estimate
                err_s.append(abs(est.offset_seconds - truth))
                err_frames.append(err_s[-1] * fps)
                conf.append(est.confidence)
            e, c = np.array(err_frames), np.array(conf)
            ok = c >= accept
            rows.append({"cues": " + ".join(combo), "pairs": len(pairs), "within_1_frame": float(np.mean(e <= 1)),
                         "median_ms": 1000 * float(np.median(err_s)), "accepted": int(ok.sum()),
                         "wrong_accepted": int((e[ok] > 1).sum())})
    return rows


def main(argv=None) -> None:
    from videosync.eval.datasets import load_folder_scenes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data", "visualsync-dev"))
    ap.add_argument("--cues", default="motion:lag,tracks:epilines,learned:lag",
                    help="comma-separated embedder:predictor")
    args = ap.parse_args(argv)
    cues = [tuple(c.split(":", 1)) for c in args.cues.split(",") if c]
    if any(len(c) != 2 for c in cues):
        ap.error("--cues: each cue is embedder:predictor")
    scenes = load_folder_scenes(args.data)
    rows = fused_rows(cue_profiles(scenes, cues))
    print(f"{len(scenes)} scenes under {args.data}; accepted = confidence >= 0.5\n")
    print("| cues | pairs | within 1 frame | median abs err (ms) | accepted | wrong among accepted |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['cues']} | {r['pairs']} | {100 * r['within_1_frame']:.0f} % | {r['median_ms']:.0f} | "
              f"{r['accepted']} | {r['wrong_accepted']} |")


if __name__ == "__main__":
    main()
