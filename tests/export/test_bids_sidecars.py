"""BIDS-Motion export: the README, authors, HED version and an events.json for every column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.export.conftest import RecordedSession


def test_bids_dataset_describes_itself_and_every_events_column(recorded: RecordedSession,
                                                               tmp_path: Path) -> None:
    paths = recorded.export("bids", tmp_path)
    assert tmp_path / "README" in paths and tmp_path / "task-gait_events.json" in paths
    assert "pseudonymized" in (tmp_path / "README").read_text(encoding="utf-8")
    description = json.loads((tmp_path / "dataset_description.json").read_text())
    assert description["HEDVersion"] == "8.3.0"
    assert isinstance(description["Authors"], list) and description["Authors"]
    assert description["License"]
    sidecar = json.loads((tmp_path / "task-gait_events.json").read_text())
    (events_tsv,) = tmp_path.rglob("*_events.tsv")
    with events_tsv.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert rows
    for column in rows[0]:
        assert sidecar[column]["Description"], column
    for column in ("trial_type", "side"):  # categorical columns: every value a described level
        assert {row[column] for row in rows} <= set(sidecar[column]["Levels"])
    assert set(sidecar["trial_type"]["HED"]) == set(sidecar["trial_type"]["Levels"])
    (motion_json,) = tmp_path.rglob("*_motion.json")
    motion = json.loads(motion_json.read_text())
    assert motion["POSChannelCount"] == 0 and motion["JNTANGChannelCount"] > 0
    assert 0 < motion["SamplingFrequencyEffective"] <= motion["SamplingFrequency"] * 1.001
