"""Exporter plug-ins, found the python-can way: a name → (module, class) table plus entry points.

Format modules are imported lazily, so that a missing optional dependency of one format (ezc3d
for C3D, h5py for HDF5, fhir.resources for FHIR) fails only when that format is asked for.
Third-party formats register under the entry-point group ``rehabbot.exporters`` as
``name = "package.module:ClassName"``, the class being an
:class:`~rehabbot.export.base.Exporter` subclass.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from rehabbot.errors import ConfigurationError
from rehabbot.export.base import Exporter
from rehabbot.hal.drives.registry import load_plugin

ENTRY_POINT_GROUP = "rehabbot.exporters"

#: Built-in export formats: name → (module, class).
BUILTIN_EXPORTERS: dict[str, tuple[str, str]] = {
    "c3d": ("rehabbot.export.c3d", "C3dExporter"),
    "mot": ("rehabbot.export.mot", "MotExporter"),
    "csv": ("rehabbot.export.csv", "CsvExporter"),
    "bids": ("rehabbot.export.bids", "BidsExporter"),
    "hdf5": ("rehabbot.export.hdf5", "Hdf5Exporter"),
    "fhir": ("rehabbot.export.fhir", "FhirExporter"),
}


def available_exporters() -> dict[str, tuple[str, str]]:
    """Every known format: the built-in table extended by the ``rehabbot.exporters`` entry points.

    A built-in name cannot be replaced by an entry point.
    """
    table = dict(BUILTIN_EXPORTERS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        module, _, attr = ep.value.partition(":")
        table.setdefault(ep.name, (module, attr))
    return table


def exporter_class(name: str) -> type[Exporter]:
    """Import and return the exporter class registered as ``name``.

    Raises:
        ConfigurationError: unknown name (the message lists the available formats), or the
            plug-in cannot be imported (missing dependency) or is not an Exporter subclass.

    >>> exporter_class("mot").suffix
    '.mot'
    """
    table = available_exporters()
    if name not in table:
        raise ConfigurationError(
            f"unknown export format {name!r}; available: {', '.join(sorted(table))}"
        )
    cls = load_plugin(":".join(table[name]), f"export format {name!r}")
    if not issubclass(cls, Exporter):
        raise ConfigurationError(f"export format {name!r} is not a rehabbot Exporter subclass")
    return cls
