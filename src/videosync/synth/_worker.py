"""Render worker process: ``python -m videosync.synth._worker``.

Protocol over stdin/stdout with pickle: the parent sends the scene parameters, then tasks
``(camera, start, stop)`` and finally ``None``; for each task the worker answers
``("ok", [frames])`` or ``("err", traceback_text)``. Workers are plain subprocesses (not
``multiprocessing``), so a caller's script needs no ``if __name__ == "__main__"`` guard.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback


def main() -> int:
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by libraries goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    params = pickle.load(inp)
    try:
        from videosync.synth.render import _FrameRenderer

        renderer = _FrameRenderer(params)
    except Exception:  # noqa: BLE001 - reported to the parent
        pickle.dump(("err", traceback.format_exc()), proto_out, protocol=pickle.HIGHEST_PROTOCOL)
        proto_out.flush()
        return 1
    try:
        while True:
            task = pickle.load(inp)
            if task is None:
                break
            try:
                msg = ("ok", renderer.frames(*task))
            except Exception:  # noqa: BLE001
                msg = ("err", traceback.format_exc())
            pickle.dump(msg, proto_out, protocol=pickle.HIGHEST_PROTOCOL)
            proto_out.flush()
            if msg[0] == "err":
                return 1
    finally:
        renderer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
