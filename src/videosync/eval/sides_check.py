"""MediaPipe's left/right swaps on the rendered one-person worlds, and what undoing them does
to ``sesyn`` (a standalone check; docs/sesyn.md).

``python -m videosync.eval.sides_check [--cache DIR]``

The worlds and pairs are those of the ``sesyn`` suite entry (``human`` seeds 0–2, 4
cameras, 300 equal-length 6 s crop pairs, offsets uniform in ±30 frames, seed 0, ``lag``).
The truth is the humanoid's COCO keypoints (:func:`videosync.embed.sesyn_train.world_keypoints`)
projected through each render's camera at each frame's world time.

- **Swapped frames**: a frame's arms (COCO 5–10) or legs (11–16) count as swapped when
  MediaPipe's points are closer to the truth with left and right exchanged, by more than
  0.15 torso lengths summed over the group's joints (frames where the two readings are
  closer than that, e.g. legs crossing in a side view, are not counted either way).
- **pose rows**: the ``pose`` embedder (symmetric features, its default, and
  ``symmetric=False`` with MediaPipe's labels or ``sides="facing"``).
- **sesyn rows**: MediaPipe's labels; labels resolved by :mod:`videosync.embed.sides`;
  labels assigned by the truth (an oracle: the best any swap resolver can do); and the
  oracle with the arms replaced by the truth, and exact keypoints (diagnostics).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from videosync.embed.sesyn import COCO_LR_SWAP, PoseTrack

_GROUPS = {"arms": np.arange(5, 11), "legs": np.arange(11, 17)}
_SWAP = np.array(COCO_LR_SWAP)


def projected_truth(folder: str, kind: str, seed: int) -> dict[str, np.ndarray]:
    """Per camera of a rendered world: (P, T, 17, 2) true COCO keypoints in pixels of its P
    people at its frames."""
    from videosync.embed.sesyn_train import STORE_HZ, Camera, _interp, world_keypoints

    with open(os.path.join(folder, "truth.json")) as f:
        truth = json.load(f)
    seconds = max(max(w) for w in truth["world_times_seconds"].values()) + 1.0
    kp = world_keypoints(kind, seed, seconds)
    out = {}
    for cam, c in truth["cameras"].items():
        width, height = truth["generator"]["size"]
        camera = Camera(np.array(c["lookat_m"]), c["distance_m"], c["azimuth_deg"], c["elevation_deg"],
                        c["fovy_deg"], width, height)
        w = np.array(truth["world_times_seconds"][cam])
        out[cam] = np.stack([camera.project(_interp(person, w, STORE_HZ))[0] for person in kp])
    return out


def torso_lengths(points: np.ndarray) -> np.ndarray:
    """Shoulder-centre to hip-centre distance of COCO keypoints (..., 17, 2) → (...)."""
    p = np.asarray(points, dtype=np.float64)
    return np.linalg.norm(0.5 * (p[..., 5, :] + p[..., 6, :]) - 0.5 * (p[..., 11, :] + p[..., 12, :]), axis=-1)


def _group_costs(points: np.ndarray, truth: np.ndarray, joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    same = np.linalg.norm(points[:, joints] - truth[:, joints], axis=-1).sum(1)
    swap = np.linalg.norm(points[:, joints] - truth[:, _SWAP[joints]], axis=-1).sum(1)
    return same, swap


def swapped_frames(track: PoseTrack, truth: np.ndarray, joints, margin: float = 0.15):
    """(swapped, decided): bool per frame with a person; see the module docstring."""
    seen = track.present[:, 5] & track.present[:, 11]
    p, tr = track.points[seen], truth[seen]
    torso = torso_lengths(tr)
    same, swap = _group_costs(p, tr, np.asarray(joints))
    return swap + margin * torso < same, np.abs(swap - same) > margin * torso


def oracle_labels(track: PoseTrack, truth: np.ndarray, *, truth_joints=()) -> PoseTrack:
    """``track`` with each frame's arms and legs labelled as the truth says (and the points of
    ``truth_joints`` replaced by the truth)."""
    perm = np.tile(np.arange(17), (len(track), 1))
    for joints in _GROUPS.values():
        same, swap = _group_costs(track.points, truth, joints)
        perm[np.ix_(swap < same, joints)] = _SWAP[joints]
    rows = np.arange(len(track))[:, None]
    points, present = track.points[rows, perm].copy(), track.present[rows, perm]
    points[:, list(truth_joints)] = truth[:, list(truth_joints)]
    return PoseTrack(track.times_seconds, points, present)


def sync_errors(scenes, emb: dict, *, n_pairs: int = 300, failures: dict | None = None) -> np.ndarray:
    """|error| in frames of ``lag`` on the sesyn entry's pairs, from embeddings by video path.
    ``failures``, if given, counts per video the pairs off by more than a frame."""
    from videosync.eval.pairs import make_pairs
    from videosync.io import probe
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    durations = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    pairs = make_pairs(scenes, durations, n_pairs=n_pairs, max_offset_frames=30, clip_seconds=6.0, seed=0)
    by_name = {s.name: s for s in scenes}
    lag = PREDICTORS.create("lag")
    errs = []
    for p in pairs:
        s = by_name[p.scene]
        a, b = p.apply(emb[s.paths[p.a]], emb[s.paths[p.b]])
        est = lag.predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=31 / p.fps, min_overlap_seconds=2.0))
        errs.append(abs(est.offset_seconds - p.truth_seconds) * p.fps)
        if failures is not None and errs[-1] > 1.0:
            for path in (s.paths[p.a], s.paths[p.b]):
                failures[path] = failures.get(path, 0) + 1
    return np.array(errs)


def run(cache_dir: str, *, seeds=(0, 1, 2)) -> str:
    """The check's Markdown report."""
    from videosync.embed.sesyn import SeSynEmbedder, mediapipe_track
    from videosync.embed.sides import resolve_sides
    from videosync.eval.datasets import load_synthetic
    from videosync.io import open_video

    scenes = load_synthetic("human", cache_dir, seeds=list(seeds), seconds=10.0)
    tracks, truths = {}, {}
    for seed, s in zip(seeds, scenes):
        folder = os.path.dirname(s.paths[0])
        proj = projected_truth(folder, "human", seed)
        for cam, path in zip(s.cameras, s.paths):
            with open_video(path) as reader:
                tracks[path] = mediapipe_track(reader.frames(max_side=512, pixel_format="rgb24"), reader.info)
            truths[path] = proj[cam][0]
    lines = ["| video | arms swapped (MediaPipe → resolved) | legs swapped (MediaPipe → resolved) |", "|---|---|---|"]
    totals = np.zeros((2, 2, 2))
    for path, track in tracks.items():
        resolved = resolve_sides(track)
        cells = []
        for g, joints in enumerate(_GROUPS.values()):
            shares = []
            for k, tr in enumerate((track, resolved)):
                sw, decided = swapped_frames(tr, truths[path], joints)
                totals[g, k] += (sw.sum(), decided.sum())
                shares.append(f"{sw.sum() / max(decided.sum(), 1):.0%}")
            cells.append(" → ".join(shares))
        name = os.path.basename(os.path.dirname(path)) + "/" + os.path.basename(path)
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    share = totals[..., 0] / np.maximum(totals[..., 1], 1)
    lines.append(f"| **all** | **{share[0, 0]:.1%} → {share[0, 1]:.1%}** | **{share[1, 0]:.1%} → {share[1, 1]:.1%}** |")
    conditions = [
        ("MediaPipe's labels", SeSynEmbedder(sides="detector"), tracks),
        ("labels resolved from the walking direction (default)", SeSynEmbedder(), tracks),
        ("labels assigned by the truth (oracle)", SeSynEmbedder(sides="detector"),
         {p: oracle_labels(t, truths[p]) for p, t in tracks.items()}),
        ("oracle labels, arms (5–10) from the truth", SeSynEmbedder(sides="detector"),
         {p: oracle_labels(t, truths[p], truth_joints=range(5, 11)) for p, t in tracks.items()}),
        ("oracle labels, legs (11–16) from the truth", SeSynEmbedder(sides="detector"),
         {p: oracle_labels(t, truths[p], truth_joints=range(11, 17)) for p, t in tracks.items()}),
        ("exact keypoints at MediaPipe's frames", SeSynEmbedder(sides="detector"),
         {p: PoseTrack(t.times_seconds, truths[p], t.present) for p, t in tracks.items()}),
    ]
    lines += ["", "| embedder + lag, 300 pairs | mean abs err (frames) | median (frames) | Acc@1 | Acc@5 |",
              "|---|---|---|---|---|"]
    failed: dict[str, int] = {}
    for label, emb, trk in conditions:
        fails = failed if emb.sides == "facing" else None
        lines.append(error_row(label, sync_errors(scenes, {p: emb.embed_track(t) for p, t in trk.items()},
                                                  failures=fails)))
    # the pose embedder (its own MediaPipe landmarks: 12 joints, world and image)
    from videosync.embed.pose import PoseEmbedder, mediapipe_arrays

    arrays = {}
    for path in tracks:
        with open_video(path) as reader:
            arrays[path] = mediapipe_arrays(reader.frames(max_side=512, pixel_format="rgb24"))
    for label, params in (("pose (default: symmetric features)", {}),
                          ("pose, symmetric=False, MediaPipe's labels", {"symmetric": False}),
                          ("pose, symmetric=False, sides='facing'", {"symmetric": False, "sides": "facing"}),
                          ("pose, symmetric features, sides='facing'", {"sides": "facing"})):
        pose = PoseEmbedder(**params)
        lines.append(error_row(label, sync_errors(scenes, {p: pose.embed_arrays(*a) for p, a in arrays.items()})))
    named = {os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p): n for p, n in failed.items()}
    lines += ["", "Pairs off by more than a frame with the default (resolved labels), per video: "
              + (", ".join(f"{k} {v}" for k, v in sorted(named.items(), key=lambda kv: -kv[1])) or "none") + "."]
    return "\n".join(lines)


def error_row(label: str, errors) -> str:
    """A Markdown row: label, mean and median |error| (frames), Acc@1, Acc@5."""
    e = np.asarray(errors, float)
    return f"| {label} | {e.mean():.2f} | {np.median(e):.2f} | {np.mean(e <= 1):.0%} | {np.mean(e <= 5):.0%} |"


def script_main(run_fn, description: str, argv=None) -> None:
    """``python -m`` entry of a check: ``--cache DIR`` (default ~/.cache/videosync), then the report."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "videosync"))
    args = ap.parse_args(argv)
    print(run_fn(args.cache))  # noqa: T201 (a script, not the library)


def main(argv=None) -> None:
    script_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
