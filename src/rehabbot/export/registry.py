"""Exporter plug-ins: the built-in formats and the ``rehabbot.exporters`` entry points.

A :class:`~rehabbot.plugins.Registry` (the python-can way): format modules are imported lazily,
so that a missing optional dependency of one format (ezc3d for C3D, h5py for HDF5,
fhir.resources for FHIR) fails only when that format is asked for. Third-party formats register
under the entry-point group ``rehabbot.exporters`` as ``name = "package.module:ClassName"``, the
class being an :class:`~rehabbot.export.base.Exporter` subclass.
"""

from __future__ import annotations

from rehabbot.export.base import Exporter
from rehabbot.plugins import Registry

#: Built-in export formats: name → (module, class).
BUILTIN_EXPORTERS: dict[str, tuple[str, str]] = {
    "c3d": ("rehabbot.export.c3d", "C3dExporter"),
    "mot": ("rehabbot.export.mot", "MotExporter"),
    "csv": ("rehabbot.export.csv", "CsvExporter"),
    "bids": ("rehabbot.export.bids", "BidsExporter"),
    "hdf5": ("rehabbot.export.hdf5", "Hdf5Exporter"),
    "fhir": ("rehabbot.export.fhir", "FhirExporter"),
}
#: Every export format: the built-ins and the ``rehabbot.exporters`` entry points.
EXPORTERS = Registry[Exporter]("export format", "rehabbot.exporters", BUILTIN_EXPORTERS, Exporter)


def available_exporters() -> dict[str, tuple[str, str]]:
    """Every known format, name → (module, class)."""
    return EXPORTERS.available()


def exporter_class(name: str) -> type[Exporter]:
    """Import and return the exporter class registered as ``name``.

    Raises:
        ConfigurationError: unknown name (the message lists the available formats), or the
            plug-in cannot be imported (missing dependency) or is not an Exporter subclass.

    >>> exporter_class("mot").suffix
    '.mot'
    """
    return EXPORTERS.load(name)
