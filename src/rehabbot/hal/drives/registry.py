"""Drive plug-ins, found the python-can way: a name → (module, class) table plus entry points.

Protocol modules are imported lazily, so that a missing optional dependency of one protocol fails
only when a robot configuration chooses it. Third-party protocols register under the entry-point
group ``rehabbot.drives`` as ``name = "package.module:ClassName"``; a protocol's emulator (for the
simulator) is named by its drive class (:attr:`~rehabbot.hal.drives.base.Drive.emulator`) and
loaded through :func:`load_plugin` as well.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from rehabbot.errors import ConfigurationError
from rehabbot.hal.drives.base import Drive

ENTRY_POINT_GROUP = "rehabbot.drives"

#: Built-in drive protocols: name → (module, class).
BUILTIN_DRIVES: dict[str, tuple[str, str]] = {
    "mit": ("rehabbot.hal.drives.mit", "MitDrive"),
    "cia402": ("rehabbot.hal.drives.cia402", "Cia402Drive"),
}


def available_drives() -> dict[str, tuple[str, str]]:
    """Every known protocol: the built-in table extended by the ``rehabbot.drives`` entry points."""
    table = dict(BUILTIN_DRIVES)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        module, _, attr = ep.value.partition(":")
        table.setdefault(ep.name, (module, attr))
    return table


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


def drive_class(name: str) -> type[Drive]:
    """Import and return the drive class registered as ``name``.

    Raises:
        ConfigurationError: unknown name, or the plug-in cannot be imported (missing dependency).
    """
    table = available_drives()
    if name not in table:
        raise ConfigurationError(
            f"unknown drive protocol {name!r}; available: {', '.join(sorted(table))}"
        )
    cls = load_plugin(":".join(table[name]), f"drive protocol {name!r}")
    if not issubclass(cls, Drive):
        raise ConfigurationError(f"drive protocol {name!r} is not a rehabbot Drive subclass")
    return cls
