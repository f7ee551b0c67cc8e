"""Session exports for researchers: C3D, OpenSim ``.mot``, CSV, BIDS-Motion, HDF5 and FHIR R4.

Each format is one :class:`~rehabbot.export.base.Exporter` subclass in its own module, found by
name through :mod:`rehabbot.export.registry` (built-in table plus the entry-point group
``rehabbot.exporters``). :func:`export_sessions` (and :func:`export_session` for one) is the
call the CLI and the console use: it exports only sessions of patients who consented to research
use, under their keyed pseudonym, and records every file and export in the store
(:mod:`rehabbot.export.research`). Written files hold health data: they are created with mode
0o600.
"""

from __future__ import annotations

from rehabbot.export.base import Exporter
from rehabbot.export.registry import available_exporters, exporter_class
from rehabbot.export.research import ExportResult, export_session, export_sessions

__all__ = ["ExportResult", "Exporter", "available_exporters", "export_session",
           "export_sessions", "exporter_class"]
