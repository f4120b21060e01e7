"""Name-addressable plug-in registries.

A registry maps a name to a plug-in class. Built-ins are registered lazily by import
path so that ``import videosync`` stays cheap and optional dependencies are only
imported when the plug-in is used. Third-party plug-ins register through the entry
point group ``videosync.<kind>s`` (for example ``videosync.embedders``); a broken one
is logged and skipped, and ``VIDEOSYNC_DISABLE_PLUGINS=1`` turns them all off.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from typing import Any, ClassVar, Generic, TypeVar

from videosync.errors import InvalidParameterError, UnknownPluginError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Plugin:
    """Shared behaviour of every plug-in (embedder, predictor, exporter).

    Constructor arguments are keyword-only, stored unchanged as attributes of the same
    name and validated in ``__init__``; :meth:`get_params` reads them back from the
    signature, which is what goes into a result's provenance.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments of this instance, by name."""
        return {k: getattr(self, k, d) for k, d in self.param_defaults().items()}

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """The constructor's parameters with their defaults (``inspect.Parameter.empty`` for
        one without a default), in signature order."""
        return {
            p.name: p.default
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    @classmethod
    def param_names(cls) -> list[str]:
        return list(cls.param_defaults())

    @classmethod
    def test_params(cls) -> list[dict[str, Any]]:
        """Cheap parameter sets for the contract tests (at least one)."""
        return [{}]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class Registry(Generic[T]):
    """Plug-ins of one kind, by name."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._classes: dict[str, type] = {}
        self._lazy: dict[str, str] = {}
        self._entry_points_loaded = False

    def add(self, cls: type, name: str | None = None) -> type:
        """Register a class under ``name`` (default: its ``name`` attribute)."""
        key = name or cls.name
        if not key:
            raise ValueError(f"{cls!r} has no name to register under")
        self._classes[key] = cls
        self._lazy.pop(key, None)
        return cls

    def add_lazy(self, name: str, target: str) -> None:
        """Register ``"package.module:ClassName"`` without importing it yet."""
        if name not in self._classes:
            self._lazy[name] = target

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        if not self.entry_point_group or os.environ.get("VIDEOSYNC_DISABLE_PLUGINS") == "1":
            return
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.entry_point_group):
            if ep.name in self._classes or ep.name in self._lazy:
                continue
            self._lazy[ep.name] = ep.value

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._load_entry_points()
        return sorted(set(self._classes) | set(self._lazy))

    def get(self, name: str) -> type:
        """The class registered under ``name``."""
        self._load_entry_points()
        if name in self._classes:
            return self._classes[name]
        if name in self._lazy:
            module_name, _, attr = self._lazy[name].partition(":")
            module = importlib.import_module(module_name)
            cls = getattr(module, attr)
            self._classes[name] = cls
            del self._lazy[name]
            return cls
        raise UnknownPluginError(self.kind, name, self.names())

    def param_defaults(self, name: str) -> dict[str, Any]:
        """:meth:`Plugin.param_defaults` of plug-in ``name`` (empty for a class without it)."""
        cls = self.get(name)
        return cls.param_defaults() if hasattr(cls, "param_defaults") else {}

    def create(self, name: str, **params: Any) -> T:
        """Build the plug-in ``name`` with ``params``; unknown parameters are an error.

        ``name`` may be a spec ``"name:key=value:key=value"`` (see :func:`parse_spec`), e.g.
        ``"learned:weights=my.npz"``; explicit ``params`` win over the spec's."""
        name, spec_params = parse_spec(name)
        params = {**spec_params, **params}
        cls = self.get(name)
        valid = cls.param_names() if hasattr(cls, "param_names") else []
        unknown = [k for k in params if k not in valid]
        if unknown:
            raise InvalidParameterError(
                f"unknown parameter {unknown[0]!r} for {self.kind} {name!r}; "
                f"valid: {', '.join(valid) or '(none)'}"
            )
        return cls(**params)

    def resolve(self, spec: "str | T", **params: Any) -> T:
        """A plug-in instance from a name or an instance."""
        if isinstance(spec, str):
            return self.create(spec, **params)
        if params:
            raise InvalidParameterError(
                f"parameters can only be given with a {self.kind} name, not an instance"
            )
        return spec

    def describe(self) -> list[tuple[str, str, bool]]:
        """(name, summary, importable) for every plug-in; a broken one is logged, not raised."""
        rows = []
        for name in self.names():
            try:
                cls = self.get(name)
                rows.append((name, getattr(cls, "summary", ""), _available(cls)))
            except Exception as exc:  # a broken third-party plug-in must not break listing
                logger.warning("%s plug-in %r cannot be loaded: %s", self.kind, name, exc)
                rows.append((name, f"(cannot be loaded: {exc})", False))
        return rows


def _available(cls: type) -> bool:
    check = getattr(cls, "is_available", None)
    if check is None:
        return True
    try:
        return bool(check())
    except Exception:
        return False


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name:key=value:key=value"`` → (name, params); values are Python literals when they
    parse as one (numbers, tuples, True), else strings (paths). A plain name has no params."""
    import ast

    name, *items = spec.split(":")
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(f"expected key=value after ':' in plug-in spec {spec!r}, got {item!r}")
        try:
            params[key.strip()] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            params[key.strip()] = raw
    return name.strip(), params
