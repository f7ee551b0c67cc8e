"""Where tests leave files for people to look at (screenshots, report pages).

``$REHABBOT_ARTIFACTS`` if set, else ``artifacts/`` in the checkout (gitignored); CI keeps that
folder of its clone as the run's artifacts.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def artifacts_dir() -> Path:
    """The artifacts folder, created if missing."""
    folder = Path(os.environ.get("REHABBOT_ARTIFACTS", ROOT / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
