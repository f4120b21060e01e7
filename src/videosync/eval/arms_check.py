"""How far MediaPipe's joints are from the truth on the rendered one-person worlds, and how
``sesyn`` weights compare on the sesyn entry's pairs (a standalone check; docs/sesyn.md).

``python -m videosync.eval.arms_check [--cache DIR] [--weights shipped,PATH,...]``

The worlds, tracks and pairs are those of the ``sesyn`` suite entry (``human`` seeds 0–2,
4 cameras, MediaPipe as :class:`~videosync.embed.sesyn.SeSynEmbedder` runs it, 300
equal-length 6 s crop pairs, offsets uniform in ±30 frames, seed 0, ``lag``).

- **Joint errors**: per video, with each frame's left/right labels assigned by the truth
  (:func:`videosync.eval.sides_check.oracle_labels`, so swaps do not count), the median
  distance of MediaPipe's shoulders and hips ("core"), elbows and wrists ("arms"), knees
  and ankles ("legs") from the projected truth, in torso lengths, and the share of frames
  where an elbow or wrist is more than half a torso length off; and the torso length of the
  trainer's random views, for scale.
- **Weights**: for each ``--weights`` entry (``shipped`` = the package's), ``sesyn`` + ``lag``
  on the pairs, clean and with 3 / 6 px of landmark noise: mean and median absolute error
  (frames) and Acc@1.
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def joint_errors(scenes, tracks) -> list[dict]:
    """One row per video (see the module docstring)."""
    from videosync.eval.sides_check import oracle_labels, projected_truth, torso_lengths

    rows = []
    for s in scenes:
        seed = int(s.name.split("-s")[1].split("-")[0])
        truth = projected_truth(os.path.dirname(s.paths[0]), "human", seed)
        for cam, path in zip(s.cameras, s.paths):
            tr = truth[cam][0]
            o = oracle_labels(tracks[path], tr)
            seen = o.present[:, 5] & o.present[:, 11]
            torso = torso_lengths(tr)
            err = (np.linalg.norm(o.points - tr, axis=-1) / torso[:, None])[seen]
            rows.append({"video": f"{s.name} {cam}", "frames": int(seen.sum()), "torso_px": float(np.median(torso)),
                         "core": float(np.median(err[:, [5, 6, 11, 12]])), "arms": float(np.median(err[:, 7:11])),
                         "legs": float(np.median(err[:, 13:17])),
                         "arm_off_share": float(np.mean(err[:, 7:11].max(axis=1) > 0.5))})
    return rows


def training_torso_px(n_views: int = 40, seeds=(100, 101)) -> np.ndarray:
    """Median torso length (px) of each of ``n_views`` random training views (the trainer's
    skeletons and random cameras, no augmentation), to compare with the renders' people."""
    from videosync.embed import sesyn_train as st
    from videosync.eval.sides_check import torso_lengths

    bank = st.make_bank([("human", s) for s in seeds], seconds=10)
    rng = np.random.default_rng(0)
    out = []
    for k in range(n_views):
        i = k % len(bank.people)
        cam = st.random_cameras(rng, 1, bank.centre[i], bank.radius[i])[0]
        p = st.synth_view(bank.people[i], cam, 1.0, 6.0, rng, None).points
        out.append(np.median(torso_lengths(p)))
    return np.array(out)


def weights_rows(scenes, tracks, weights: list[str]) -> list[dict]:
    from videosync.embed.sesyn import SeSynEmbedder
    from videosync.eval.sides_check import sync_errors

    rows = []
    for w in weights:
        for cond, params in (("clean", {}), ("3 px noise", {"noise_px": 3.0}), ("6 px noise", {"noise_px": 6.0})):
            emb = SeSynEmbedder(weights=None if w == "shipped" else w, seed=0, **params)
            e = sync_errors(scenes, {p: emb.embed_track(t) for p, t in tracks.items()})
            rows.append({"weights": w, "condition": cond, "mean": float(e.mean()), "median": float(np.median(e)),
                         "acc1": float(np.mean(e <= 1))})
    return rows


def main(argv=None) -> None:
    from videosync.eval.datasets import load_synthetic

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/videosync"))
    ap.add_argument("--weights", default="shipped", help="comma-separated: shipped or .npz paths")
    args = ap.parse_args(argv)
    scenes = load_synthetic("human", args.cache, seeds=(0, 1, 2), seconds=10.0)
    from videosync.embed.sesyn import SeSynEmbedder
    from videosync.eval.sesyn_suite import mediapipe_tracks

    tracks = mediapipe_tracks(scenes, SeSynEmbedder().max_side)
    print("| video | frames | torso (px) | core | arms | legs | frames with an arm joint > 0.5 torso off |")
    print("|---|---|---|---|---|---|---|")
    for r in joint_errors(scenes, tracks):
        print(f"| {r['video']} | {r['frames']} | {r['torso_px']:.0f} | {r['core']:.3f} | {r['arms']:.3f} | "
              f"{r['legs']:.3f} | {100 * r['arm_off_share']:.0f} % |")
    tt = training_torso_px()
    print(f"\ntraining views' torso: median {np.median(tt):.0f} px (range {tt.min():.0f}-{tt.max():.0f}, "
          f"{len(tt)} random views)")
    print("\n| weights | condition | mean abs err (frames) | median | Acc@1 |")
    print("|---|---|---|---|---|")
    for r in weights_rows(scenes, tracks, [w for w in args.weights.split(",") if w]):
        print(f"| {r['weights']} | {r['condition']} | {r['mean']:.2f} | {r['median']:.2f} | {100 * r['acc1']:.0f} % |")


if __name__ == "__main__":
    main()
