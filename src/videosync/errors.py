"""Every exception videosync raises.

One base class, :class:`VideoSyncError`; each subclass also inherits the matching
built-in so that existing ``except ValueError`` / ``except OSError`` clauses work.
Hard-but-valid input (a static camera, videos that do not overlap) never raises:
it gives a result with low confidence.
"""

from __future__ import annotations

__all__ = [
    "VideoSyncError",
    "InvalidParameterError",
    "ShapeError",
    "UnknownPluginError",
    "MissingDependencyError",
    "VideoOpenError",
    "FrameRateUnavailableError",
    "DecodeError",
    "DatasetError",
    "MissingWeightsError",
]


class VideoSyncError(Exception):
    """Base class of every error raised on purpose by videosync."""


class InvalidParameterError(VideoSyncError, ValueError, TypeError):
    """A parameter is out of range or of the wrong type."""


class ShapeError(VideoSyncError, ValueError):
    """An array does not have the expected shape."""

    def __init__(self, message: str, *, expected: tuple = (), actual: tuple = ()) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class UnknownPluginError(VideoSyncError, LookupError):
    """No plug-in of that name is registered; the message lists the available ones."""

    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.available = list(available)
        super().__init__(
            f"unknown {kind} {name!r}; available: {', '.join(self.available) or '(none)'}"
        )

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return self.args[0]


class MissingDependencyError(VideoSyncError, ImportError):
    """An optional dependency is not installed; the message gives the install line."""

    def __init__(self, what: str, extra: str, package: str | None = None, hint: str | None = None) -> None:
        self.extra = extra
        if hint is None:
            hint = f"pip install 'videosync[{extra}]'"
            if package:
                hint += f" (or: pip install {package})"
        super().__init__(f"{what} needs an optional dependency that is not installed: {hint}")


class VideoOpenError(VideoSyncError, OSError):
    """A path cannot be opened or read as a video."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __str__(self) -> str:  # OSError's own __str__ would print errno fields
        return f"{self.path}: {self.problem}"


class FrameRateUnavailableError(VideoOpenError):
    """Neither the header nor the timestamps give a frame rate."""


class DecodeError(VideoSyncError, RuntimeError):
    """Decoding failed part-way through a file."""

    def __init__(self, path: str, problem: str, frame_index: int | None = None) -> None:
        self.path = str(path)
        self.frame_index = frame_index
        where = f" (after frame {frame_index})" if frame_index is not None else ""
        super().__init__(f"{self.path}: {problem}{where}")


class DatasetError(VideoSyncError, ValueError):
    """A dataset folder is missing files or has malformed truth."""


class MissingWeightsError(VideoSyncError, FileNotFoundError):
    """A learned plug-in was asked to predict without trained weights."""

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        super().__init__(f"{what} has no trained weights; {hint}")

    def __str__(self) -> str:  # FileNotFoundError would otherwise print errno fields
        return self.args[0]
