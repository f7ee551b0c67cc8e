"""Session exports for researchers: C3D, OpenSim ``.mot`` and CSV, behind a plug-in registry.

Each format is one :class:`~rehabbot.export.base.Exporter` subclass in its own module, found by
name through :mod:`rehabbot.export.registry` (built-in table plus the entry-point group
``rehabbot.exporters``). :func:`export_session` is the one call the CLI and the console use.
Written files hold health data: they are created with mode 0o600.
"""

from __future__ import annotations

from rehabbot.export.base import Exporter, export_session
from rehabbot.export.registry import available_exporters, exporter_class

__all__ = ["Exporter", "available_exporters", "export_session", "exporter_class"]
