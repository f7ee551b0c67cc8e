"""CAN traffic logs: every frame of both directions, read back with python-can's readers."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import can
import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.hal.bus import Frame
from rehabbot.hal.config import BusConfig
from rehabbot.hal.traffic import TrafficLog


@pytest.mark.parametrize("suffix", [".blf", ".asc", ".trc.gz"])
def test_frames_of_both_directions_are_logged_and_read_back(tmp_path: Path, suffix: str) -> None:
    channel = f"log-{uuid.uuid4().int}"  # digits in a channel name once broke the BLF writer
    config = BusConfig(interface="virtual", channel=channel)
    path = tmp_path / f"traffic{suffix}"
    sent = [Frame(arbitration_id=1 + i % 2, data=bytes([i, 255 - i, 7]), is_extended_id=False)
            for i in range(50)]
    host = can.Bus(interface="virtual", channel=channel)
    drive = can.Bus(interface="virtual", channel=channel)
    with TrafficLog(config, path) as log:
        for i, frame in enumerate(sent):
            (host if i % 2 == 0 else drive).send(frame)
        deadline = time.monotonic() + 10.0
        while log.frames_logged < len(sent) and time.monotonic() < deadline:
            time.sleep(0.01)
    host.shutdown()
    drive.shutdown()
    logged = list(can.LogReader(path))
    assert [(m.arbitration_id, bytes(m.data)) for m in logged] == [
        (f.arbitration_id, bytes(f.data)) for f in sent
    ]


def test_an_unknown_format_is_refused_with_the_formats_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown format '.xyz'.*\.blf"):
        TrafficLog(BusConfig(interface="virtual", channel="x"), tmp_path / "t.xyz")
