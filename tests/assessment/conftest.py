"""Fixtures of the assessment tests: the shared reference gait data."""

from __future__ import annotations

from pathlib import Path

import pytest

GAIT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "gait"


@pytest.fixture(scope="session")
def gait_data() -> Path:
    """``../shared/data/gait`` beside the checkout; its absence fails the test (CI provides it)."""
    if not (GAIT_DATA / "events.json").is_file():
        pytest.fail(f"reference gait data missing: expected {GAIT_DATA} with events.json "
                    f"(the shared/ folder beside the project checkout, which CI provides)")
    return GAIT_DATA
