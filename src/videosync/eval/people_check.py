"""Several people: per-person MediaPipe tracks for ``sesyn``, and whether picking the best
pair of tracks per camera pair helps (a standalone check; docs/sesyn.md).

``python -m videosync.eval.people_check [--cache DIR]``

The worlds and pairs are those of the ``sesyn`` suite entry's several-people rows (``humans``
seeds 0–1, 3 people, 4 cameras, 200 equal-length 6 s crop pairs, offsets uniform in ±30
frames, seed 0, ``lag``).

- **Detections**: three MediaPipe trackers per frame, each on the frame with the people the
  earlier ones found blacked out (the ``landmarks`` embedder's ``people=3``).
- **Tracks** (:func:`link_people`): detections are linked frame to frame by the median
  joint distance to each track's last pose, in torso lengths (Hungarian assignment, at most
  ``max_cost``); a track ends after ``max_gap_seconds`` unseen; tracks shorter than
  ``min_seconds`` are dropped. The truth (projected keypoints of every person) says which
  person each detection is, so a track's purity can be measured.
- **Rows**: sesyn on tracker 1 alone (what the suite entry does); on every pair of tracks,
  keeping the ``lag`` estimate with the highest confidence; and two oracles: the most
  confident pair among tracks of the same person, and the pair whose estimate is closest to
  the truth.
"""

from __future__ import annotations

import os

import numpy as np

from videosync.embed.sesyn import BLAZEPOSE_TO_COCO, PoseTrack


def mediapipe_people(path: str, people: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(T,) frame times and (T, people, 17, 2) COCO pixels (NaN where a tracker found nobody)."""
    from videosync.embed.landmarks import _people_results
    from videosync.io import open_video

    times, dets = [], []
    with open_video(path) as reader:
        w, h = reader.info.width, reader.info.height
        for t, _, results in _people_results(reader.frames(max_side=512, pixel_format="rgb24"), people):
            row = np.full((people, 17, 2), np.nan)
            for k, res in enumerate(results):
                if res is not None and res.pose_landmarks is not None:
                    lm = res.pose_landmarks.landmark
                    row[k] = [(lm[i].x * w, lm[i].y * h) for i in BLAZEPOSE_TO_COCO]
            times.append(t)
            dets.append(row)
    return np.array(times), np.array(dets)


def link_people(times, detections, *, max_cost: float = 0.6, max_gap_seconds: float = 0.3,
                min_seconds: float = 1.5) -> list[PoseTrack]:
    """Per-person tracks from per-frame detections (T, S, 17, 2) (NaN = none); each track is
    a :class:`PoseTrack` over all T frames, present only where it was seen."""
    from scipy.optimize import linear_sum_assignment

    from videosync.eval.sides_check import torso_lengths

    t = np.asarray(times, float)
    n = len(t)
    pts, seen, last = [], [], []
    for k in range(n):
        found = [d for d in detections[k] if np.isfinite(d).all()]
        active = [i for i in range(len(pts)) if t[k] - t[last[i]] <= max_gap_seconds]
        taken = set()
        if found and active:
            cost = np.empty((len(active), len(found)))
            for a, i in enumerate(active):
                prev = pts[i][last[i]]
                torso = max(float(torso_lengths(prev)), 1.0)
                for b, d in enumerate(found):
                    cost[a, b] = np.median(np.linalg.norm(d - prev, axis=1)) / torso
            for a, b in zip(*linear_sum_assignment(cost)):
                if cost[a, b] < max_cost:
                    i = active[a]
                    pts[i][k], seen[i][k], last[i] = found[b], True, k
                    taken.add(b)
        for b, d in enumerate(found):
            if b not in taken:
                pts.append(np.zeros((n, 17, 2)))
                seen.append(np.zeros(n, bool))
                pts[-1][k], seen[-1][k] = d, True
                last.append(k)
    out = []
    for p, m in zip(pts, seen):
        idx = np.flatnonzero(m)
        if len(idx) >= 10 and t[idx[-1]] - t[idx[0]] >= min_seconds:
            out.append(PoseTrack(t, p, np.repeat(m[:, None], 17, axis=1)))
    return out


def track_person(track: PoseTrack, truth: np.ndarray) -> tuple[int, float]:
    """(person, purity): the truth person (of (P, T, 17, 2)) nearest the track in most of its
    frames, and the share of its frames where that person is the nearest."""
    m = track.present[:, 0]
    d = np.linalg.norm(track.points[m][None] - truth[:, m], axis=-1).mean(-1)  # (P, seen frames)
    who = np.argmin(d, axis=0)
    counts = np.bincount(who, minlength=len(truth))
    return int(np.argmax(counts)), float(counts.max() / max(counts.sum(), 1))


def run(cache_dir: str, *, seeds=(0, 1), n_pairs: int = 200) -> str:
    """The check's Markdown report."""
    from videosync.embed.sesyn import SeSynEmbedder
    from videosync.eval.datasets import load_synthetic
    from videosync.eval.pairs import make_pairs
    from videosync.eval.sides_check import error_row, projected_truth
    from videosync.io import probe
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    scenes = load_synthetic("humans", cache_dir, seeds=list(seeds), seconds=10.0)
    emb = SeSynEmbedder()
    slot0, tracks, persons = {}, {}, {}
    lines = ["| video | tracks (person: purity) |", "|---|---|"]
    for seed, s in zip(seeds, scenes):
        proj = projected_truth(os.path.dirname(s.paths[0]), "humans", seed)
        for cam, path in zip(s.cameras, s.paths):
            t, dets = mediapipe_people(path)
            first = np.isfinite(dets[:, 0]).all(axis=(1, 2))
            slot0[path] = emb.embed_track(PoseTrack(t, np.nan_to_num(dets[:, 0]), np.repeat(first[:, None], 17, 1)))
            linked = link_people(t, dets)
            tracks[path] = [emb.embed_track(tr) for tr in linked]
            persons[path] = [track_person(tr, proj[cam]) for tr in linked]
            desc = ", ".join(f"{p}: {q:.0%}" for p, q in persons[path])
            lines.append(f"| {os.path.basename(os.path.dirname(path))}/{cam} | {desc} |")
    durations = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    pairs = make_pairs(scenes, durations, n_pairs=n_pairs, max_offset_frames=30, clip_seconds=6.0, seed=0)
    by_name = {s.name: s for s in scenes}
    lag = PREDICTORS.create("lag")
    rows = {k: [] for k in ("tracker 1 only (the suite entry)", "best of all track pairs (confidence)",
                            "oracle: best same-person pair (confidence)", "oracle: estimate closest to the truth")}

    def estimate(ea, eb, p):
        a, b = p.apply(ea, eb)
        if a.valid.sum() < 60 or b.valid.sum() < 60:  # under 2 s of the person in a crop
            return None
        return lag.predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=31 / p.fps, min_overlap_seconds=2.0))

    for p in pairs:
        s = by_name[p.scene]
        pa, pb = s.paths[p.a], s.paths[p.b]

        def err(est):
            return abs((est.offset_seconds if est is not None else 0.0) - p.truth_seconds) * p.fps

        rows["tracker 1 only (the suite entry)"].append(err(estimate(slot0[pa], slot0[pb], p)))
        cands = []
        for ia, ea in enumerate(tracks[pa]):
            for ib, eb in enumerate(tracks[pb]):
                est = estimate(ea, eb, p)
                if est is not None:
                    cands.append((est.confidence, err(est), persons[pa][ia][0] == persons[pb][ib][0]))
        naive = abs(p.truth_seconds) * p.fps
        same = [c for c in cands if c[2]]
        rows["best of all track pairs (confidence)"].append(max(cands)[1] if cands else naive)
        rows["oracle: best same-person pair (confidence)"].append(max(same)[1] if same else naive)
        rows["oracle: estimate closest to the truth"].append(min(c[1] for c in cands) if cands else naive)
    lines += ["", f"| sesyn + lag, {len(pairs)} pairs | mean abs err (frames) | median (frames) | Acc@1 | Acc@5 |",
              "|---|---|---|---|---|"]
    lines += [error_row(label, e) for label, e in rows.items()]
    return "\n".join(lines)


def main(argv=None) -> None:
    from videosync.eval.sides_check import script_main

    script_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
