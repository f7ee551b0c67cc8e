"""Run every benchmark script and write ``benchmarks/results.md``.

Every ``benchmarks/*.py`` but this one runs in its own Python process, one after the other (so
they do not compete for the cores), with short settings by default (:data:`SHORT`; ``--full``
uses each script's own defaults). ``results.md`` gets the machine's description (platform, CPU
model, cores, RAM, Python and package versions), the date, the load average before and after
(other processes on the machine slow every figure down), and each script's printed figures,
wall time and exit status. A script that fails is reported and the others still run.

Usage: ``python benchmarks/run_all.py [--full] [--only NAME ...] [--out benchmarks/results.md]``
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Short settings per script (a few minutes in all on two cores); scripts not named run as-is.
SHORT: dict[str, list[str]] = {
    "loop_timing": ["--seconds", "10"],
    "sim_speed": ["--seconds", "5"],
    "profile_session": ["--seconds", "3"],
    "analysis": ["--hours", "0.25", "--repeat", "2"],
    "safety_tick": ["--ticks", "5000"],
    "events_accuracy": ["--duration", "20"],
    "controllers": ["--seconds", "10"],
    "sweep_scaling": ["--seconds", "6"],
    "recorder_throughput": ["--samples", "100000", "--repeat", "2"],
}

#: Packages whose versions the report lists.
PACKAGES = ("rehabbot", "numpy", "pybullet", "python-can", "canopen", "pydantic",
            "dask", "distributed", "pyarrow", "matplotlib", "ezc3d", "PySide6", "pyqtgraph")

#: Longest a script may run (s).
TIMEOUT_S = 1800.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> list[str]:
    """Markdown lines describing this machine and its software."""
    return [
        f"- platform: {platform.platform()}",
        f"- CPU: {_cpu_model()}, {os.cpu_count()} logical cores",
        f"- RAM: {_ram_gib()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        "- packages: " + ", ".join(f"{p} {_version(p)}" for p in PACKAGES),
    ]


def run(script: Path, args: list[str]) -> tuple[int, float, str]:
    """Run ``script`` with ``args``: (exit status, wall time s, stdout and stderr)."""
    env = os.environ | {"COLUMNS": "140", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    began = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                              text=True, timeout=TIMEOUT_S, env=env, cwd=HERE.parent,
                              check=False)
        status, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        status, output = -1, f"{exc.stdout or ''}\ntimed out after {TIMEOUT_S:g} s"
    return status, time.perf_counter() - began, output.rstrip()


def main() -> None:
    """Run the scripts and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="each script's own default settings")
    parser.add_argument("--only", nargs="+", default=None, help="these scripts (names, no .py)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem != Path(__file__).stem)
    if args.only:
        unknown = set(args.only) - {p.stem for p in scripts}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}; have "
                         f"{', '.join(p.stem for p in scripts)}")
        scripts = [p for p in scripts if p.stem in args.only]
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    settings = "each script's defaults" if args.full else "short (see SHORT in run_all.py)"
    lines = ["# Benchmark results", "",
             f"Written by `python benchmarks/run_all.py{' --full' if args.full else ''}` on "
             f"{now}. Settings: {settings}.",
             "", "## Machine", "", *machine(),
             f"- load average (1 / 5 / 15 min) before: {_load()}", ""]
    failed = []
    for script in scripts:
        script_args = [] if args.full else SHORT.get(script.stem, [])
        shown = " ".join([f"benchmarks/{script.name}", *script_args])
        print(f"running {shown} ...", flush=True)
        status, wall_s, output = run(script, script_args)
        if status != 0:
            failed.append(script.stem)
        lines += [f"## {script.stem}", "", f"`python {shown}`: {wall_s:.0f} s wall time, "
                  f"exit status {status}, load average after {_load()}", "", "```", output,
                  "```", ""]
        print(f"  {'ok' if status == 0 else f'FAILED ({status})'} in {wall_s:.0f} s", flush=True)
    lines += [f"Load average after all: {_load()}.", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}" + (f"; failed: {', '.join(failed)}" if failed else ""))


if __name__ == "__main__":
    main()
