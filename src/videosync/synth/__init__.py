"""Synthetic multi-camera worlds with exact timing truth, rendered offscreen with MuJoCo.

>>> from videosync.synth import render_scene                        # doctest: +SKIP
>>> s = render_scene("out/human", scene="human", cameras=4, seconds=10)  # doctest: +SKIP
>>> s.paths, s.truth["offsets_seconds"]                              # doctest: +SKIP

Needs ``pip install 'videosync[synth]'`` (mujoco) and headless Mesa
(``apt-get install -y libosmesa6 libegl1 libgl1-mesa-dri libgles2``). See ``docs/synth.md``
for the timing model, the scenes and the truth.json fields.
"""

from videosync.synth._gl import APT_HINT, RenderUnavailableError, available
from videosync.synth.render import (
    GENERATOR_VERSION,
    SCENES,
    SynthScene,
    frame_plan,
    params_hash,
    render_scene,
    render_suite,
)

__all__ = [
    "APT_HINT",
    "GENERATOR_VERSION",
    "RenderUnavailableError",
    "SCENES",
    "SynthScene",
    "available",
    "frame_plan",
    "params_hash",
    "render_scene",
    "render_suite",
]
