"""Sinks around the loop's one :class:`Sample`: a shifted sink continues ticks, a tee feeds two."""

from __future__ import annotations

import numpy as np

from rehabbot.runtime.loop import TeeSink
from rehabbot.session.battery import ShiftedSink
from rehabbot.storage.samples import Sample


class Keep:
    """Keeps (tick, t_s, q copy) of every pushed sample."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, float, list[float]]] = []

    def push(self, sample: Sample) -> None:
        self.rows.append((sample.tick, sample.t_s, sample.q.tolist()))


def test_a_shifted_sink_moves_the_ticks_on_and_leaves_the_loops_sample_alone() -> None:
    kept = Keep()
    sink = ShiftedSink(kept, offset=500)
    sample = Sample.zeros(2)
    for tick in range(3):  # the loop repoints one sample every tick
        sample.tick, sample.t_s, sample.q = tick, tick * 0.001, np.full(2, float(tick))
        sink.push(sample)
        assert sample.tick == tick
    assert kept.rows == [(500, 0.0, [0.0, 0.0]), (501, 0.001, [1.0, 1.0]),
                         (502, 0.002, [2.0, 2.0])]


def test_a_tee_pushes_each_sample_to_both_sinks() -> None:
    first, second = Keep(), Keep()
    tee = TeeSink(first, ShiftedSink(second, offset=10))
    sample = Sample.zeros(1)
    sample.tick, sample.q = 4, np.array([0.25])
    tee.push(sample)
    assert first.rows == [(4, 0.0, [0.25])]
    assert second.rows == [(14, 0.0, [0.25])]
