"""The Dask engine shared by sweeps and batch analysis: a cluster, and tasks with a progress bar.

By default :func:`dask_client` starts a ``distributed.LocalCluster`` on this machine: one worker
*process* per core with one thread each (a simulated session holds the GIL, so processes are what
runs sessions in parallel), scheduler and workers bound to 127.0.0.1, no dashboard. Given a
scheduler address it connects to an existing cluster instead (whose workers must have rehabbot
installed and see the same files).

:func:`run_tasks` submits one task per item and yields results as they finish, with a rich
progress bar. A task that raises, or whose worker dies, yields what ``on_error`` makes of the
exception, so one bad item never stops the others.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from distributed import Client, LocalCluster, as_completed
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rehabbot.errors import ConfigurationError, RehabbotError

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

#: Address every local cluster binds to.
LOCAL_HOST = "127.0.0.1"


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A Dask client: on a new local cluster of ``workers`` processes (default: one per core),
    or on the existing cluster at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``).

    Raises:
        ConfigurationError: both or a bad number of workers given.
        RehabbotError: the scheduler cannot be reached.
    """
    if scheduler is not None:
        if workers is not None:
            raise ConfigurationError("give --workers or --scheduler, not both (an existing "
                                     "cluster has its own workers)")
        try:
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise RehabbotError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    n_workers = (os.cpu_count() or 1) if workers is None else workers
    if n_workers < 1:
        raise ConfigurationError(f"--workers {n_workers}: give at least 1 worker")
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=n_workers, threads_per_worker=1, processes=True, host=LOCAL_HOST,
        scheduler_port=0, dashboard_address=None, worker_dashboard_address=None,
        # no dashboard; the scheduler's small HTTP server (health, metrics) on a free local port
        scheduler_kwargs={"dashboard": False, "dashboard_address": f"{LOCAL_HOST}:0"},
        silence_logs=logging.ERROR,
    ) as cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def run_tasks(
    client: Client,
    function: Callable[..., ResultT],
    items: Sequence[ItemT],
    *,
    keys: Sequence[str],
    on_error: Callable[[ItemT, BaseException], ResultT],
    label: str,
    console: Console | None = None,
    extra: Sequence[Any] = (),
) -> Iterator[tuple[int, ResultT]]:
    """Run ``function(item, *extra)`` for every item on ``client``; yield ``(index, result)`` in
    the order they finish.

    Args:
        client: where to run.
        function: an importable function (workers unpickle it by name).
        items: the inputs, one task each.
        keys: a unique Dask key per item (e.g. a hash of its parameters).
        on_error: the result of an item whose task raised or whose worker died.
        label: the progress bar's label.
        console: where the progress bar is drawn (default: stderr).
        extra: further arguments, the same for every task.
    """
    futures = {
        client.submit(function, item, *extra, key=key, pure=False): index
        for index, (item, key) in enumerate(zip(items, keys, strict=True))
    }
    with Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=console or Console(stderr=True), transient=False, disable=not futures,
    ) as progress:
        task = progress.add_task(label, total=len(futures))
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            index = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the task raised, or its worker died (KilledWorker)
                result = on_error(items[index], exc)
            finally:
                future.release()
            progress.advance(task)
            yield index, result
