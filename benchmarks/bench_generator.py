"""Benchmark of the demo generator: wall time, landing rows per second and peak memory per run size.

Each run is the real command line (`python -m sources.demo`) in a child process writing into a fresh
temporary folder, so the figures include interpreter start-up and imports, and the peak resident set
size is the child's own (from `os.wait4`). Deleting the output afterwards is not timed.

    .venv/bin/python benchmarks/bench_generator.py                 # 10k and 100k customers, 3 runs each
    .venv/bin/python benchmarks/bench_generator.py --million       # adds 1M customers (1 run by default)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MILLION = 1_000_000


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    landing_rows: int
    landing_mb: float


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def run_once(customers: int, seed: int, workdir: Path | None) -> Run:
    """One generator run in a child process; returns its wall time, peak RSS and output size."""
    out = Path(tempfile.mkdtemp(prefix="bench-demo-", dir=workdir))
    try:
        command = [sys.executable, "-m", "sources.demo", "--customers", str(customers), "--seed", str(seed)]
        started = time.perf_counter()
        child = subprocess.Popen([*command, "--out", str(out)], cwd=REPO, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        if child.returncode != 0:
            raise RuntimeError(f"generator failed with exit code {child.returncode}")
        summary = json.loads((out / "truth" / "summary.json").read_text())
        return Run(
            seconds=seconds,
            peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports kilobytes
            landing_rows=sum(summary["rows_per_source"].values()),
            landing_mb=_folder_mb(out / "landing"),
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="customers per run")
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 customers")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (1M: --million-repeats)")
    parser.add_argument("--million-repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary outputs go")
    args = parser.parse_args()

    sizes = [*args.sizes, MILLION] if args.million else args.sizes
    print(
        f"{'customers':>10} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7} {'rows':>12} {'rows/s':>10} {'landing MB':>11} {'peak RSS MB':>12}"
    )
    for customers in sizes:
        repeats = args.million_repeats if customers == MILLION else args.repeats
        runs = [run_once(customers, args.seed, args.workdir) for _ in range(repeats)]
        seconds = [r.seconds for r in runs]
        median = statistics.median(seconds)
        rows = runs[0].landing_rows
        print(
            f"{customers:>10,} {repeats:>4} {median:>9.1f} {min(seconds):>7.1f} {max(seconds):>7.1f} "
            f"{rows:>12,} {rows / median:>10,.0f} {runs[0].landing_mb:>11,.0f} {max(r.peak_rss_mb for r in runs):>12,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
