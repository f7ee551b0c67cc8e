"""The tee of the recorder and a live sink: its ``error`` is the primary's, read every tick."""

from __future__ import annotations

from rehabbot.runtime.loop import FallibleSink, TeeSink
from rehabbot.storage.samples import Sample


class Failing:
    """A sink whose storing fails at some point (as the recorder's writer can)."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def push(self, sample: Sample) -> None:
        """Take nothing."""


class Plain:
    """A sink that cannot fail."""

    def push(self, sample: Sample) -> None:
        """Take nothing."""


def test_a_tee_reports_its_primary_s_error_from_the_moment_it_appears() -> None:
    primary = Failing()
    tee = TeeSink(primary, Plain())
    assert isinstance(tee, FallibleSink)
    assert tee.error is None
    primary.error = OSError("disk full")  # after the tee was made: the loop must still see it
    assert tee.error is primary.error


def test_a_tee_whose_primary_cannot_fail_has_no_error() -> None:
    assert TeeSink(Plain(), Failing()).error is None  # the live sink's failures are its own
