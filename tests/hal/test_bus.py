"""Opening the bus a configuration names: what python-can is asked for."""

from __future__ import annotations

from typing import Any

import pytest

from rehabbot.hal import bus as hal_bus
from rehabbot.hal.config import BusConfig


@pytest.mark.parametrize(("config", "expected"), [
    (BusConfig(interface="socketcan", channel="can0"),
     {"interface": "socketcan", "channel": "can0", "bitrate": 1_000_000}),
    (BusConfig(interface="pcan", channel="PCAN_USBBUS1", bitrate=500_000, data_bitrate=2_000_000),
     {"interface": "pcan", "channel": "PCAN_USBBUS1", "bitrate": 500_000, "fd": True,
      "data_bitrate": 2_000_000}),
    (BusConfig(interface="virtual", channel="sim", data_bitrate=5_000_000),
     {"interface": "virtual", "channel": "sim-x"}),  # virtual: no bitrates; the override
])
def test_the_interface_is_opened_classic_or_fd_as_configured(
    config: BusConfig, expected: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[dict[str, Any]] = []
    monkeypatch.setattr(hal_bus.can, "Bus", lambda **kwargs: opened.append(kwargs))
    hal_bus.open_bus(config, "sim-x" if config.virtual else None)
    assert opened == [expected]
