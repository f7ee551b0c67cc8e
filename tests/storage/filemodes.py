"""File-mode helpers of the privacy tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block under the process umask ``mask`` (e.g. 0o000: nothing taken away)."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)
