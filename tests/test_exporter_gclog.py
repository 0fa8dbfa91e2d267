"""The gclog and proc sources on a real JVM: logs written by ``java -Xlog:gc*`` and a live pid.

The Java program allocates for a while, then prints what its own GarbageCollectorMXBeans
counted; the parser must find exactly as many young and full collections in the log. JDK 17
has no CMS (Cassandra 4.1's collector on JDK 11): its unified-logging pause lines have the
same shape as the Serial/Parallel ones exercised here.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from rackpanel.exporter.sources import SourceError
from rackpanel.exporter.sources.gclog import GcLogSource
from rackpanel.exporter.sources.proc import ProcSource

from tests.support.binaries import require_binary

PROGRAM = """
import java.lang.management.*;
import java.util.*;

public class Alloc {
    public static void main(String[] args) throws Exception {
        long until = System.nanoTime() + Long.parseLong(args[0]) * 1_000_000L;
        List<byte[]> keep = new ArrayList<>();
        long n = 0;
        while (System.nanoTime() < until) {
            byte[] block = new byte[64 * 1024];
            if (++n % 50 == 0) keep.add(block);
            if (keep.size() > 400) keep.subList(0, 200).clear();
            if (args.length > 1 && n % 2000 == 0) Thread.sleep(5);
        }
        System.gc();
        long count = 0, millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += gc.getCollectionCount();
            millis += gc.getCollectionTime();
        }
        System.out.println(count + " " + millis);
    }
}
"""

# Cassandra's own gc.log decorations (conf/jvm-server.options / cassandra-env.sh)
CASSANDRA_DECORATIONS = "time,uptime,pid,tid,level,tags:filecount=10,filesize=10485760"


def compile_alloc(directory: Path) -> Path:
    """Compile the allocating program into ``directory``; returns its classpath."""
    (directory / "Alloc.java").write_text(PROGRAM)
    subprocess.run([require_binary("javac"), "Alloc.java"], cwd=directory, check=True, timeout=120)
    return directory


@pytest.fixture(scope="module")
def alloc_class(tmp_path_factory) -> Path:
    return compile_alloc(tmp_path_factory.mktemp("java"))


def java(classpath: Path, log: Path, gc_flag: str | None, millis: int, *extra: str) -> list[str]:
    return [
        require_binary("java"),
        "-Xmx64m",
        *([gc_flag] if gc_flag else []),
        f"-Xlog:gc*:file={log}:{CASSANDRA_DECORATIONS}",
        "-cp",
        str(classpath),
        "Alloc",
        str(millis),
        *extra,
    ]


@pytest.mark.parametrize(
    ("gc_flag", "collector"),
    [(None, "G1"), ("-XX:+UseSerialGC", "Serial"), ("-XX:+UseParallelGC", "Parallel")],
)
def test_pauses_in_a_real_gc_log_match_the_jvms_own_count(
    alloc_class, tmp_path, gc_flag, collector
):
    log = tmp_path / "gc.log"
    out = subprocess.run(
        java(alloc_class, log, gc_flag, 400), capture_output=True, text=True, check=True, timeout=60
    )
    mx_count, mx_millis = map(int, out.stdout.split())
    reading = GcLogSource(str(log)).collect()
    assert reading.collector == collector
    # The MXBeans count young and full collections (G1's Remark/Cleanup pauses are not
    # collections to them), so exactly those must be found in the log.
    counted = {kind: t.collections for kind, t in reading.pauses.items()}
    young_full = counted.get(f"{collector} Young", 0) + counted.get(f"{collector} Full", 0)
    assert young_full == mx_count, counted
    assert counted.get(f"{collector} Full", 0) >= 1  # the System.gc() at the end
    seconds = sum(
        t.seconds for kind, t in reading.pauses.items() if kind.endswith(("Young", "Full"))
    )
    assert seconds > 0
    assert abs(seconds * 1000 - mx_millis) <= 0.5 * mx_millis + 20


def test_the_log_is_tailed_while_the_jvm_writes_and_the_pid_file_finds_it(alloc_class, tmp_path):
    log = tmp_path / "gc.log"
    process = subprocess.Popen(
        java(alloc_class, log, "-XX:+UseSerialGC", 2500, "slow"),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pid_file = tmp_path / "cassandra.pid"
        pid_file.write_text(f"{process.pid}\n")
        gclog, proc = GcLogSource(str(log)), ProcSource(pid_file=str(pid_file))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if log.exists() and gclog.collect().pauses:
                break
            time.sleep(0.05)
        seen, cpu = [], []
        while process.poll() is None and len(seen) < 4:
            seen.append(sum(t.collections for t in gclog.collect().pauses.values()))
            figures = proc.collect()
            cpu.append(figures.cpu_seconds)
            assert figures.pid == process.pid
            assert figures.resident_bytes > 10 * 1024 * 1024
            assert figures.threads > 2  # a running JVM: main, GC and compiler threads
            time.sleep(0.4)
        mx_count = int(process.communicate(timeout=30)[0].split()[0])
    finally:
        process.kill()
        process.wait()
    assert seen == sorted(seen) and seen[-1] > seen[0] > 0, seen  # grows while the JVM runs
    assert cpu == sorted(cpu) and cpu[-1] > cpu[0]
    final = gclog.collect()  # picks up the rest, counted once
    assert sum(t.collections for t in final.pauses.values()) == mx_count
    with pytest.raises(SourceError, match="not running"):
        proc.collect()


def test_rotation_restarts_at_the_new_file_and_totals_keep_growing(alloc_class, tmp_path):
    log = tmp_path / "gc.log"
    subprocess.run(java(alloc_class, log, "-XX:+UseSerialGC", 200), check=True, timeout=60)
    source = GcLogSource(str(log))
    first = sum(t.collections for t in source.collect().pauses.values())
    os.rename(log, tmp_path / "gc.log.0")
    subprocess.run(java(alloc_class, log, "-XX:+UseSerialGC", 100), check=True, timeout=60)
    second_alone = sum(t.collections for t in GcLogSource(str(log)).collect().pauses.values())
    assert sum(t.collections for t in source.collect().pauses.values()) == first + second_alone


def test_missing_log_and_missing_process_are_clear_errors(tmp_path):
    with pytest.raises(SourceError, match=r"gc\.log: No such file"):
        GcLogSource(str(tmp_path / "gc.log")).collect()
    with pytest.raises(SourceError, match="no process matches"):
        ProcSource(pattern="no-such-cassandra-daemon-xyz").collect()
    bad = tmp_path / "bad.pid"
    bad.write_text("eleven\n")
    with pytest.raises(SourceError, match=rf"{bad}: not a pid"):
        ProcSource(pid_file=str(bad)).collect()
