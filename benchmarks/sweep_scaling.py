"""Sweep scaling: the same sweep on a LocalCluster of 1 and of 2 workers; wall times, speed-up.

Runs the bundled ``aan_gains`` spec (40 points of 10 s simulated walking, assist-as-needed) with
``rehabbot.sweeps`` exactly as ``rehabbot sweep`` does, each time into a fresh folder, and checks
that both tables are identical (results do not depend on the number of workers). Wall times are
the sweep's own (points submitted until the table and plot are written) and, apart, the cluster's
start. The ideal speed-up on 2 workers is 2x; a machine busy with other work gets less.

Usage: ``python benchmarks/sweep_scaling.py [--spec aan_gains] [--seconds 10] [--workers 1 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console

from rehabbot.configfile import resolve_named_file
from rehabbot.sweeps.engine import dask_client
from rehabbot.sweeps.spec import expand, load_sweep_spec
from rehabbot.sweeps.sweep import run_sweep


def main() -> None:
    """Run the sweep once per worker count and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="aan_gains", help="bundled spec name or .toml file")
    parser.add_argument("--seconds", type=float, default=None,
                        help="simulated seconds per point [default: the spec's]")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    path = resolve_named_file("sweeps", args.spec)
    spec = load_sweep_spec(path)
    if args.seconds is not None:
        spec = spec.model_copy(update={"duration_s": args.seconds,
                                       "settle_s": min(spec.settle_s, args.seconds / 2)})
    points = expand(spec, path)
    quiet = Console(quiet=True)
    print(f"sweep {spec.name}: {len(points)} points of {spec.duration_s:g} s simulated walking; "
          f"{os.cpu_count()} cores; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    walls: dict[int, float] = {}
    tables: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        for workers in args.workers:
            began = time.perf_counter()
            with dask_client(workers=workers) as client:
                started = time.perf_counter() - began
                outcome = run_sweep(points, Path(folder) / f"w{workers}", client,
                                    title=spec.name, console=quiet)
            walls[workers] = outcome.wall_s
            tables[workers] = json.dumps(outcome.rows)
            print(f"  {workers} worker(s): {outcome.wall_s:6.1f} s wall time "
                  f"({outcome.wall_s / len(points):.2f} s per point; cluster start "
                  f"{started:.1f} s), {len(outcome.failed)} failed points")
    first = args.workers[0]
    for workers in args.workers[1:]:
        print(f"  speed-up {first} -> {workers} workers: {walls[first] / walls[workers]:.2f}x")
    same = len(set(tables.values())) == 1
    print(f"  tables identical across worker counts: {'yes' if same else 'NO'}")
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
