"""Plug-ins found the python-can way: a name → (module, class) table extended by entry points.

Every plug-in kind (drive protocols, exporters, controllers, phase sources) is one
:class:`Registry`: a table of the built-in names, each ``(module, class)``, extended by the
entry points of the kind's group (``name = "package.module:ClassName"`` in another distribution's
metadata). Modules are imported lazily, when a name is chosen, so that a missing optional
dependency of one plug-in fails only when that plug-in is asked for. A built-in name cannot be
replaced by an entry point.

>>> from rehabbot.export.base import Exporter
>>> formats = Registry("export format", "rehabbot.exporters",
...                    {"csv": ("rehabbot.export.csv", "CsvExporter")}, Exporter)
>>> formats.load("csv").suffix
'.csv'
>>> formats.load("xls")
Traceback (most recent call last):
...
rehabbot.errors.ConfigurationError: unknown export format 'xls'; available: csv
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from importlib.metadata import entry_points
from typing import Generic, TypeVar, cast

from rehabbot.errors import ConfigurationError

T = TypeVar("T")


def load_plugin(path: str, what: str) -> type:
    """Import the class at ``path`` (``"package.module:ClassName"``).

    Args:
        path: where the class lives.
        what: what it is, for the error message (e.g. ``"drive protocol 'mit'"``).

    Raises:
        ConfigurationError: the module or class cannot be loaded (e.g. a missing dependency).
    """
    module_name, _, class_name = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(f"{what} ({path}) cannot be loaded: {exc}") from None
    if not isinstance(cls, type):
        raise ConfigurationError(f"{what} ({path}) is not a class")
    return cls


class Registry(Generic[T]):
    """The plug-ins of one kind: built-in table plus the entry points of ``group``.

    Args:
        kind: what one plug-in is, for messages (``"drive protocol"``, ``"controller"``).
        group: the entry-point group third-party distributions register under.
        builtins: the built-in plug-ins, name → (module, class). The registry keeps this very
            table (not a copy): a line added to it is a plug-in.
        base: the class every plug-in of this kind derives from.
    """

    def __init__(self, kind: str, group: str, builtins: MutableMapping[str, tuple[str, str]],
                 base: type) -> None:
        self.kind = kind
        self.group = group
        self.builtins = builtins
        self.base = base

    def available(self) -> dict[str, tuple[str, str]]:
        """Every known plug-in, name → (module, class): the built-ins, then the entry points."""
        table = dict(self.builtins)
        for ep in entry_points(group=self.group):
            module, _, attr = ep.value.partition(":")
            table.setdefault(ep.name, (module, attr.strip()))
        return table

    def names(self) -> list[str]:
        """The names of every known plug-in, sorted."""
        return sorted(self.available())

    def __iter__(self) -> Iterator[str]:
        """The names, sorted."""
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a known plug-in (nothing is imported)."""
        return name in self.available()

    def check(self, name: str) -> str:
        """``name`` if it is known (nothing is imported).

        Raises:
            ConfigurationError: unknown name; the message lists the known ones.
        """
        if name not in self.available():
            raise ConfigurationError(
                f"unknown {self.kind} {name!r}; available: {', '.join(self.names())}")
        return name

    def load(self, name: str) -> type[T]:
        """Import and return the class registered as ``name``.

        Raises:
            ConfigurationError: unknown name (the message lists the known ones), or the plug-in
                cannot be imported (missing dependency) or is not a subclass of :attr:`base`.
        """
        table = self.available()
        if name not in table:
            raise ConfigurationError(
                f"unknown {self.kind} {name!r}; available: {', '.join(sorted(table))}")
        what = f"{self.kind} {name!r}"
        cls = load_plugin(":".join(table[name]), what)
        if not issubclass(cls, self.base):
            raise ConfigurationError(f"{what} is not a rehabbot {self.base.__name__} subclass")
        return cast(type[T], cls)
