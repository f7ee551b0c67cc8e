"""Running one sweep point: a simulated session into the point's own store, measured.

:func:`run_point` is what a Dask worker executes. It runs the point through the session runner
(the same CAN path, supervisor and recorder as ``rehabbot session run``), in lockstep, into
``<sessions dir>/<key>.sqlite``, then measures the stored samples with
:func:`rehabbot.sweeps.measure.measure`. The result is one flat row; an exception becomes a row
with status ``error`` and the message, so one bad point never stops a sweep. Nothing in a row
depends on the worker or the wall clock, so a sweep's table is the same for a seed whatever the
number of workers.
"""

from __future__ import annotations

from pathlib import Path

from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.store import SessionStore
from rehabbot.sweeps.measure import Measures, measure
from rehabbot.sweeps.spec import SweepPoint

#: A row of a results table: column name → value (None where missing).
Row = dict[str, float | int | str | None]

#: Status of a point whose session could not run or be measured.
ERROR = "error"

#: The measured columns of a sweep's results, in table order.
MEASURE_COLUMNS = tuple(Measures.__dataclass_fields__)

#: Columns every sweep row has after the point's settings.
RESULT_COLUMNS = ("status", *MEASURE_COLUMNS, "cadence_steps_per_min", "session_id", "store",
                  "faults", "error")


def point_store(sessions_dir: Path, key: str) -> Path:
    """The store file of the point ``key``."""
    return sessions_dir / f"{key}.sqlite"


def identity(point: SweepPoint) -> Row:
    """The columns that say which point a row is: key, index, profile, seed and settings."""
    return {"key": point.key, "index": point.index, "profile": point.profile,
            "seed": point.seed, "duration_s": point.duration_s, **point.settings}


def error_row(point: SweepPoint, message: str) -> Row:
    """The row of a point that failed with ``message``."""
    row: Row = identity(point) | dict.fromkeys(RESULT_COLUMNS)
    return row | {"status": ERROR, "error": message}


def run_point(point: SweepPoint, sessions_dir: Path) -> Row:
    """Run ``point`` into its store in ``sessions_dir`` and measure it; never raises.

    Returns:
        The point's identity columns, then ``status`` (the session's: completed, faulted,
        aborted; or ``error``), the :class:`~rehabbot.sweeps.measure.Measures`, the cadence
        (steps/min), the session's id and store file name, its faults (``; ``-joined) and the
        error message (None unless ``status`` is ``error``).
    """
    store_path = point_store(sessions_dir, point.key)
    try:
        store_path.parent.mkdir(parents=True, exist_ok=True)
        result = SessionRunner(SessionRequest(
            robot=point.robot, protocol=point.protocol, store_path=store_path,
            duration_s=point.duration_s, seed=point.seed, profile=point.profile,
        )).run()
        with SessionStore.open(store_path) as store:
            samples = store.load_samples(result.session_id)
        report = result.loop
        ran_s = report.faults[0].t_s if report.faults else report.duration_s
        figures = measure(samples.t_s, samples.phase, samples.contact[:, 0], samples.q,
                          samples.qd, samples.tau, samples.joint_names, ran_s,
                          settle_s=point.settle_s)
    except Exception as exc:  # a failed point is a row, never the end of the sweep
        return error_row(point, f"{type(exc).__name__}: {exc}")
    row: Row = identity(point) | {"status": result.status}
    return row | figures.as_dict() | {
        "cadence_steps_per_min": result.summary.cadence_steps_per_min,
        "session_id": result.session_id,
        "store": store_path.name,
        "faults": "; ".join(f.describe() for f in report.faults),
        "error": None,
    }
