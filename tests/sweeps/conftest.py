"""A 2-worker Dask LocalCluster bound to 127.0.0.1, shared by the sweep and batch tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from distributed import Client

from rehabbot.sweeps.engine import dask_client


@pytest.fixture(scope="session")
def two_workers() -> Iterator[Client]:
    """A client of a new LocalCluster of two worker processes (what ``rehabbot sweep
    --workers 2`` starts)."""
    with dask_client(workers=2) as client:
        yield client
