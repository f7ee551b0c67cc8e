"""The shared-memory ring: order, wrap-around, overrun detection, reading from another process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import numpy as np
import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.runtime.ring import LiveRing, RingReader, RingSpec, RingWriter
from rehabbot.storage.samples import Sample

N_JOINTS = 4


def push(writer: RingWriter, tick: int) -> None:
    """A sample whose every value is derived from its tick, so a torn row would show."""
    q = tick + np.arange(N_JOINTS) * 0.25
    writer.push(Sample(tick, tick * 0.001, (tick % 1000) / 1000, tick % 2 == 0, tick % 3 == 0,
                       q, q + 1, q + 2, q + 3, q + 4))


def check_rows(rows: np.ndarray) -> np.ndarray:
    """Every row is the sample ``push`` wrote for its tick; returns the ticks."""
    ticks = rows[:, 0]
    q = ticks[:, None] + np.arange(N_JOINTS)[None, :] * 0.25
    np.testing.assert_array_equal(rows[:, 1], ticks * 0.001)
    np.testing.assert_array_equal(rows[:, 3], ticks % 2 == 0)
    np.testing.assert_array_equal(rows[:, 4], ticks % 3 == 0)
    for k in range(5):
        np.testing.assert_array_equal(rows[:, 5 + k * N_JOINTS: 5 + (k + 1) * N_JOINTS], q + k)
    return ticks.astype(int)


@pytest.fixture
def ring() -> Iterator[LiveRing]:
    owner = LiveRing(N_JOINTS, capacity=8)
    yield owner
    owner.close()


def test_rows_come_back_in_order_and_each_only_once(ring: LiveRing) -> None:
    writer, reader = RingWriter(ring.spec), RingReader(ring.spec)
    for tick in range(5):
        push(writer, tick)
    block = reader.read()
    assert check_rows(block.rows).tolist() == [0, 1, 2, 3, 4] and block.lost == 0
    assert len(reader.read()) == 0
    push(writer, 5)
    assert check_rows(reader.read().rows).tolist() == [5]
    writer.close()
    reader.close()


def test_a_full_ring_overwrites_the_oldest_rows_and_the_reader_counts_them(ring: LiveRing) -> None:
    writer, reader = RingWriter(ring.spec), RingReader(ring.spec)
    for tick in range(20):  # 8 rows of room: 12 overwritten before the first read
        push(writer, tick)
    block = reader.read()
    assert check_rows(block.rows).tolist() == list(range(12, 20))
    assert block.lost == 12
    for tick in range(20, 23):  # wrapped around: rows 20..22 sit at indices 4..6
        push(writer, tick)
    block = reader.read()
    assert check_rows(block.rows).tolist() == [20, 21, 22] and block.lost == 0
    assert reader.lost_total == 12
    writer.close()
    reader.close()


def test_a_reader_may_ask_for_the_newest_rows_only(ring: LiveRing) -> None:
    writer, reader = RingWriter(ring.spec), RingReader(ring.spec)
    for tick in range(6):
        push(writer, tick)
    block = reader.read(max_rows=2)
    assert check_rows(block.rows).tolist() == [4, 5] and block.lost == 4
    writer.close()
    reader.close()


def test_a_ring_needs_a_joint_and_two_rows() -> None:
    with pytest.raises(ConfigurationError, match="at least 1 joint and 2 rows"):
        LiveRing(0, capacity=8)


def test_attaching_to_a_removed_ring_is_one_clear_error() -> None:
    owner = LiveRing(N_JOINTS, capacity=4)
    spec = owner.spec
    owner.close()
    with pytest.raises(ConfigurationError, match="no live ring"):
        RingReader(spec)


def write_ticks(spec: RingSpec, n: int) -> None:
    """Another process's writer (the session process's role)."""
    writer = RingWriter(spec)
    for tick in range(n):
        push(writer, tick)
    writer.close()


def test_a_reader_in_another_process_gets_every_row_or_counts_it_lost() -> None:
    n = 200_000
    owner = LiveRing(N_JOINTS, capacity=256)  # small: the writer laps the reader often
    reader = RingReader(owner.spec)
    process = multiprocessing.get_context("spawn").Process(target=write_ticks,
                                                           args=(owner.spec, n))
    process.start()
    received: list[np.ndarray] = []
    lost = 0
    while process.is_alive() or reader.written > reader.position:
        block = reader.read()
        if len(block):
            received.append(check_rows(block.rows))  # no torn row, ever
        lost += block.lost
    process.join()
    block = reader.read()
    lost += block.lost
    ticks = np.concatenate(received)
    assert np.all(np.diff(ticks) > 0)  # in order, no duplicates
    assert len(ticks) + lost == n  # every row was read or counted as lost
    assert ticks[-1] == n - 1
    reader.close()
    owner.close()
