"""Drive plug-ins: the built-in protocols and the ``rehabbot.drives`` entry points.

A :class:`~rehabbot.plugins.Registry` (the python-can way): protocol modules are imported lazily,
so that a missing optional dependency of one protocol fails only when a robot configuration
chooses it. Third-party protocols register under the entry-point group ``rehabbot.drives`` as
``name = "package.module:ClassName"``; a protocol's emulator (for the simulator) is named by its
drive class (:attr:`~rehabbot.hal.drives.base.Drive.emulator`) and loaded through
:func:`~rehabbot.plugins.load_plugin` as well.
"""

from __future__ import annotations

from rehabbot.hal.drives.base import Drive
from rehabbot.plugins import Registry, load_plugin

__all__ = ["BUILTIN_DRIVES", "DRIVES", "available_drives", "drive_class", "load_plugin"]

#: Built-in drive protocols: name → (module, class).
BUILTIN_DRIVES: dict[str, tuple[str, str]] = {
    "mit": ("rehabbot.hal.drives.mit", "MitDrive"),
    "cia402": ("rehabbot.hal.drives.cia402", "Cia402Drive"),
}
#: Every drive protocol: the built-ins and the ``rehabbot.drives`` entry points.
DRIVES = Registry[Drive]("drive protocol", "rehabbot.drives", BUILTIN_DRIVES, Drive)


def available_drives() -> dict[str, tuple[str, str]]:
    """Every known protocol, name → (module, class)."""
    return DRIVES.available()


def drive_class(name: str) -> type[Drive]:
    """Import and return the drive class registered as ``name``.

    Raises:
        ConfigurationError: unknown name, or the plug-in cannot be imported (missing dependency).
    """
    return DRIVES.load(name)
