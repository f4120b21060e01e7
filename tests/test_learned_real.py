"""Real single-view clips for the ``learned`` embedder: fetch/extract (offline), CARL-style
single-view batches, and a tiny self-supervised training run on a generated clip."""

import gzip
import io
import os
import shutil
import tarfile
import zipfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # the suite runs on a shared 2-core machine

from videosync.learn import real_clips  # noqa: E402
from videosync.learn.visual import (  # noqa: E402
    NetConfig,
    VisualNet,
    embed_stream,
    fit,
    load_real_clip,
    sample_single_view,
    to_embedding,
)

TINY = NetConfig(size=32, widths=(8, 16), frame_dim=32, dim=16)


def _ar(path, members):
    """A Debian-style ``ar`` archive of (name, bytes)."""
    with open(path, "wb") as f:
        f.write(b"!<arch>\n")
        for name, data in members:
            f.write(f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode())
            f.write(data + (b"\n" if len(data) % 2 else b""))


def _fake_packages(folder, clip):
    """Wheels and a .deb laid out like the real ones, holding ``clip`` (bytes) as their videos."""
    os.makedirs(folder, exist_ok=True)
    for _, wheel, prefixes in real_clips.WHEELS:
        with zipfile.ZipFile(os.path.join(folder, wheel), "w") as z:
            z.writestr(prefixes[0] + "clip.mp4", clip)
            z.writestr(prefixes[0] + "notes.txt", b"not a video")
            z.writestr("elsewhere/other.mp4", clip)  # outside the prefixes: left out
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as t:
        for m in real_clips.DEB_MEMBERS:
            data = gzip.compress(clip) if m.endswith(".gz") else clip
            info = tarfile.TarInfo(m)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    _ar(os.path.join(folder, "opencv-doc_4.6.0+dfsg-12_all.deb"),
        [("debian-binary", b"2.0\n"), ("data.tar.xz", buf.getvalue())])


def test_fetch_extracts_only_the_videos_without_network(rig_factory, tmp_path, monkeypatch):
    clip = open(rig_factory().paths[0], "rb").read()
    packages = tmp_path / "registry"
    _fake_packages(str(packages), clip)
    calls = []

    def fake_run(cmd, cwd=None, check=False):  # stands in for pip download / apt-get download
        calls.append(cmd[:4] if cmd[0] != "apt-get" else cmd)
        dl = cmd[cmd.index("-d") + 1] if "-d" in cmd else cwd
        for f in os.listdir(packages):
            if f.endswith(".deb") == (cmd[0] == "apt-get"):
                shutil.copy(packages / f, dl)

    monkeypatch.setattr(real_clips.subprocess, "run", fake_run)
    dest = str(tmp_path / "real")
    clips = real_clips.ensure_clips(dest)
    assert [c[0] for c in calls] == [real_clips.sys.executable, "apt-get"]
    names = sorted(os.path.relpath(c, dest) for c in clips)
    assert names == sorted([p[0] + "clip.mp4" for _, _, p in real_clips.WHEELS]
                           + ["opencv-doc/" + os.path.basename(m).removesuffix(".gz") for m in real_clips.DEB_MEMBERS])
    assert all(open(c, "rb").read() == clip for c in clips)  # the .gz member was decompressed
    assert not os.path.exists(os.path.join(dest, "_downloads"))
    assert real_clips.ensure_clips(dest) == clips and len(calls) == 2  # already there: no download


def test_single_view_batches_follow_the_clip_timestamps(rig_factory):
    cam = load_real_clip(rig_factory().paths[0], TINY.size)
    assert cam.frames.shape[1:] == (48, 48, 3)  # kept larger than the input, for the crops
    assert abs(cam.fps - 30) < 0.5
    rng = np.random.default_rng(0)
    frames, world, sig = sample_single_view(rng, [cam], pairs=6, length=12, size=TINY.size)
    assert frames.shape == (2, 6, 14, 32, 32, 3) and world.shape == (2, 6, 12) and sig.shape == (6,)
    steps = np.round(np.diff(world, axis=2) * cam.fps).astype(int)  # each view keeps one stride
    assert (steps == steps[:, :, :1]).all() and (steps >= 1).all()
    assert (np.abs(steps[0, :, 0] - steps[1, :, 0]) <= 1).all()
    overlap = np.minimum(world[0, :, -1], world[1, :, -1]) - np.maximum(world[0, :, 0], world[1, :, 0])
    assert (overlap > 0).all()  # the two views show partly the same instants
    assert np.abs(frames[0].astype(int) - frames[1].astype(int)).mean() > 2  # but not the same pixels


def _crop_retrieval(net, cam):
    """Share of frames of one crop of ``cam`` whose nearest frame in another crop (zoomed
    in on a corner) is the same frame, give or take one."""
    h = cam.frames.shape[1]
    a = cam.frames[:, : int(h * 0.8), : int(h * 0.8)]
    b = cam.frames[:, h // 4:, h // 5:]
    za, zb = (to_embedding(cam.world, embed_stream(net, zip(cam.world, v))[1], standardize=True).features
              for v in (a, b))
    za /= np.linalg.norm(za, axis=1, keepdims=True)
    zb /= np.linalg.norm(zb, axis=1, keepdims=True)
    return float(np.mean(np.abs((za @ zb.T).argmax(axis=1) - np.arange(len(za))) <= 1))


def test_tiny_single_view_training_lowers_the_loss(rig_factory):
    cam = load_real_clip(rig_factory().paths[1], TINY.size)
    torch.manual_seed(1)
    net = VisualNet(TINY).eval()
    before = _crop_retrieval(net, cam)
    kinds = []
    losses = fit(net, [], steps=80, pairs=3, length=16, lr=3e-3, seed=1, clips=[cam], real_ratio=1.0, kinds=kinds)
    assert kinds == ["real"] * 80
    assert np.mean(losses[-10:]) < 0.9 * np.mean(losses[:10]), (losses[:10], losses[-10:])
    after = _crop_retrieval(net, cam)  # two fixed crops it never saw as such: ≈0.09 → ≈0.3
    assert after > before + 0.1, (before, after)
