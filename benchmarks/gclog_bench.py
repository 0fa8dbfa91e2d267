"""gc.log benchmark: how fast the gclog source reads Cassandra's real GC log.

    .venv/bin/python -m benchmarks.gclog_bench [--rounds 5]

This machine's JDK writes the log with Cassandra 5.0's exact -Xlog option string and
jvm17-server.options' G1 flags (tests/test_exporter_gclog.py) until gc.log has rotated once, so
gc.log.0 is one full 10 MiB file, the most a collection ever has to catch up on per file.
Measured: reading that file from scratch (MiB/s, seconds, lines), a collection with nothing new
(the steady-state cost: listing and stat of gc.log*), and the peak Python memory of a full read.

Results go to benchmarks/results/gclog.json; docs/benchmarks.md (## gc.log) summarises.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

from rackpanel.exporter.sources.gclog import GcLogSource

from benchmarks.harness import write_results
from tests.test_exporter_gclog import CASSANDRA_XLOG, JVM17_G1, compile_alloc, java

REPO = Path(__file__).resolve().parents[1]

RESULTS = REPO / "benchmarks" / "results" / "gclog.json"


def real_log(directory: Path) -> Path:
    """A full 10 MiB gc.log.0 written by the JDK with Cassandra's flags."""
    classpath = compile_alloc(directory)
    log = directory / "gc.log"
    command = java(classpath, CASSANDRA_XLOG.format(log=log), JVM17_G1, 300_000)
    with subprocess.Popen(command, stdout=subprocess.DEVNULL) as process:
        try:  # one JVM until its log rotates: gc.log.0 is then a full 10 MiB file
            while not (directory / "gc.log.0").exists():
                time.sleep(0.5)
        finally:
            process.kill()
    full = directory / "gc.log.0"
    target = directory / "full" / "gc.log"
    target.parent.mkdir()
    shutil.copy(full, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = real_log(Path(tmp))
        size = log.stat().st_size
        lines = log.read_bytes().count(b"\n")
        full, idle = [], []
        for _ in range(args.rounds):
            source = GcLogSource(str(log))
            started = time.perf_counter()
            reading = source.collect()
            full.append(time.perf_counter() - started)
            for _ in range(20):
                started = time.perf_counter()
                source.collect()
                idle.append(time.perf_counter() - started)
        tracemalloc.start()
        GcLogSource(str(log)).collect()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    seconds = statistics.median(full)
    result = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "file_bytes": size,
        "file_lines": lines,
        "pauses": sum(t.collections for t in reading.pauses.values()),
        "full_read_seconds_median": round(seconds, 4),
        "full_read_mib_per_s": round(size / (1 << 20) / seconds, 1),
        "idle_collection_ms_median": round(statistics.median(idle) * 1000, 3),
        "peak_python_memory_mib": round(peak / (1 << 20), 1),
    }
    write_results(RESULTS, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
