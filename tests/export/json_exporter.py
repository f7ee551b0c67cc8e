"""A third-party export format in one file, installed through the entry point
``rehabbot.exporters: json = json_exporter:JsonExporter`` (see conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from rehabbot.export.base import Exporter, SessionData
from rehabbot.storage.files import write_private_text


class JsonExporter(Exporter):
    """Write ``session_<id>.json``: time (s) and joint angles (rad) by joint name."""

    name = "json"
    suffix = ".json"

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write the JSON file into ``out_dir``."""
        document = {"t_s": data.samples.t_s.tolist(),
                    "angles_rad": {k: v.tolist() for k, v in data.angles_rad.items()}}
        return [write_private_text(out_dir / f"{data.stem}{self.suffix}", json.dumps(document))]
