"""Drive plug-ins, found the python-can way: a name → (module, class) table plus entry points.

Protocol modules are imported lazily, so that a missing optional dependency of one protocol fails
only when a robot configuration chooses it. Third-party protocols register under the entry-point
group ``rehabbot.drives`` as ``name = "package.module:ClassName"``.
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
}


def available_drives() -> dict[str, tuple[str, str]]:
    """Every known protocol: the built-in table extended by the ``rehabbot.drives`` entry points."""
    table = dict(BUILTIN_DRIVES)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        module, _, attr = ep.value.partition(":")
        table.setdefault(ep.name, (module, attr))
    return table


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
    module_name, class_name = table[name]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"drive protocol {name!r} ({module_name}:{class_name}) cannot be loaded: {exc}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, Drive)):
        raise ConfigurationError(f"drive protocol {name!r} is not a rehabbot Drive subclass")
    return cls
