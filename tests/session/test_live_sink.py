"""A session's live sink (a console's data feed) sees exactly the ticks the store records."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rehabbot.hal.types import FloatArray
from rehabbot.storage.samples import Sample
from rehabbot.storage.store import SessionStore
from tests.conftest import simulate


class ListSink:
    """Keeps every pushed sample's tick, time and joint angles."""

    def __init__(self) -> None:
        self.ticks: list[int] = []
        self.t_s: list[float] = []
        self.q: list[FloatArray] = []

    def push(self, sample: Sample) -> None:
        self.ticks.append(sample.tick)
        self.t_s.append(sample.t_s)
        self.q.append(sample.q.copy())


def test_live_sink_gets_every_recorded_tick(tmp_path: Path) -> None:
    live = ListSink()
    store = tmp_path / "store.sqlite"
    session_id = simulate(store, duration_s=1.0, live=live)
    with SessionStore.open(store) as st:
        samples = st.load_samples(session_id)
    assert live.ticks == list(range(len(samples)))
    np.testing.assert_allclose(live.t_s, samples.t_s)
    np.testing.assert_allclose(np.array(live.q), samples.q, atol=1e-6)
