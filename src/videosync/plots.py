"""PNG figures of a sync result for those who prefer files: per pair, the lag-score curve
(answer and runners-up marked) and the similarity thumbnail. Needs matplotlib
(``pip install 'videosync[plot]'``)."""

from __future__ import annotations

import os

from videosync.errors import MissingDependencyError
from videosync.export import atomic_write
from videosync.result import SyncResult


def write_plots(result: SyncResult, out_dir: str | os.PathLike) -> list[str]:
    """One PNG per pair (``pair_<a>_<b>.png``) in ``out_dir``; returns the paths written.

    Pairs without a stored lag curve or thumbnail get the panels they have (a pair with
    neither is skipped).
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("--plot", "plot", "matplotlib") from None
    import io

    os.makedirs(out_dir, exist_ok=True)
    names = [os.path.splitext(os.path.basename(v.path))[0] for v in result.videos]
    written = []
    for p in result.pairs:
        curve, thumb = p.curve(), p.similarity_thumbnail
        if curve is None and thumb is None:
            continue
        fig = Figure(figsize=(10, 3.6), dpi=100, layout="constrained")
        axes = fig.subplots(1, 2, width_ratios=[2.2, 1]) if thumb is not None and curve is not None else [fig.subplots()]
        title = f"{names[p.a]} → {names[p.b]}: {p.offset_seconds:+.4f} s, confidence {p.confidence:.2f}"
        if curve is not None:
            ax = axes[0]
            ax.plot(curve.lags_seconds, curve.scores, color="0.25", lw=1)
            ax.axvline(curve.peak_offset_seconds, color="#d1242f", lw=1, label="answer")
            if curve.runners_up_seconds:
                ax.plot(curve.runners_up_seconds, curve.runners_up_scores, "o", color="#e36209", label="runners-up")
            ax.set_xlabel(f"offset of {names[p.b]} relative to {names[p.a]} (s)")
            ax.set_ylabel("score")
            ax.legend(loc="upper right", fontsize=8)
            ax.set_title(title, fontsize=10)
        if thumb is not None:
            ax = axes[-1]
            (a0, a1), (b0, b1) = thumb.a_seconds, thumb.b_seconds
            ax.imshow(thumb.image, cmap="gray", extent=(b0, b1, a1, a0), aspect="auto", interpolation="nearest")
            ax.plot([a0 + p.offset_seconds, a1 + p.offset_seconds], [a0, a1], "--", color="#0969da", lw=1)
            ax.set_xlim(b0, b1)
            ax.set_ylim(a1, a0)
            ax.set_xlabel(f"{names[p.b]} time (s)")
            ax.set_ylabel(f"{names[p.a]} time (s)")
            if curve is None:
                ax.set_title(title, fontsize=10)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        path = os.path.join(os.fspath(out_dir), f"pair_{p.a:02d}_{p.b:02d}_{names[p.a]}_{names[p.b]}.png")
        atomic_write(path, buf.getvalue())
        written.append(path)
    return written
