"""The gclog and proc sources on a real JVM: logs written by this machine's JDK and a live pid.

The Java program allocates for a while (keeping enough live data to start G1's concurrent
cycles), forces one full collection, then prints what its own MXBeans counted: collections
and their time, and the heap right after that last collection. The parser must find exactly
as many young and full collections in the log, and the same heap.

The logs are written with Cassandra's exact option string (conf/cassandra-env.sh, 4.1 and
5.0: no tags, padded decorations) and, for G1, the collector flags of Cassandra 5.0's
conf/jvm17-server.options; the tagged ``-Xlog:gc*`` form keeps working too. JDK 17 has no CMS
(4.1's collector on JDK 11): its unified-logging lines are covered by the line tests.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from rackpanel.exporter.runner import SourceRunner
from rackpanel.exporter.sources import SourceError
from rackpanel.exporter.sources import gclog as gclog_module
from rackpanel.exporter.sources.gclog import GcLogSource
from rackpanel.exporter.sources.gclog_lines import Collector, MaxHeap, Pause, Safepoint, parse_line
from rackpanel.exporter.sources.proc import ProcSource

from tests.support.binaries import require_binary

PROGRAM = """
import java.lang.management.*;
import java.util.*;

public class Alloc {
    public static void main(String[] args) throws Exception {
        long until = System.nanoTime() + Long.parseLong(args[0]) * 1_000_000L;
        int keepBlocks = Integer.parseInt(args[1]);
        int humongous = Integer.parseInt(args[2]);  // 9 MiB arrays kept at once: G1 checks its
        boolean slow = args.length > 3;             // occupancy threshold on each of them
        List<byte[]> keep = new ArrayList<>();
        long n = 0;
        while (System.nanoTime() < until) {
            byte[] block = new byte[64 * 1024];
            if (++n % 20 == 0) keep.add(block);
            if (keep.size() > keepBlocks) keep.subList(0, keepBlocks / 2).clear();
            if (slow && n % 2000 == 0) Thread.sleep(5);
        }
        List<byte[]> big = new ArrayList<>();
        for (int round = 0; humongous > 0 && round < 10; round++) {
            while (big.size() < humongous) big.add(new byte[9 * 1024 * 1024]);
            Thread.sleep(200);  // a concurrent cycle started: let it run to its Remark/Cleanup
            big.subList(0, 2).clear();
        }
        big = null;
        keep = null;
        System.gc();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        long afterGc = 0;  // what the last collection left in the heap, per the JVM itself
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
                afterGc += pool.getCollectionUsage().getUsed();
            }
        }
        long count = 0, millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += gc.getCollectionCount();
            millis += gc.getCollectionTime();
        }
        System.out.println(count + " " + millis + " " + afterGc + " "
            + heap.getCommitted() + " " + heap.getMax());
    }
}
"""

# conf/cassandra-env.sh (cassandra-4.1 and cassandra-5.0), ${CASSANDRA_LOG_DIR}/gc.log → {log}
CASSANDRA_XLOG = (
    "-Xlog:gc=info,heap*=trace,age*=debug,safepoint=info,promotion*=trace:file={log}"
    ":time,uptime,pid,tid,level:filecount=10,filesize=10485760"
)
# conf/jvm17-server.options (cassandra-5.0), the G1 settings
JVM17_G1 = (
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:G1HeapRegionSize=16m",
    "-XX:G1RSetUpdatingPauseTimePercent=5",
    "-XX:MaxGCPauseMillis=300",
    "-XX:InitiatingHeapOccupancyPercent=70",
)
TAGGED_XLOG = "-Xlog:gc*:file={log}:time,uptime,pid,tid,level,tags:filecount=10,filesize=10485760"
HEAP = 256 * 1024 * 1024  # cassandra-env.sh sets -Xms and -Xmx to the same MAX_HEAP_SIZE


@dataclass(frozen=True)
class MxFigures:
    collections: int
    millis: int
    heap_after_gc: int
    heap_committed: int
    heap_max: int


def compile_alloc(directory: Path) -> Path:
    """Compile the allocating program into ``directory``; returns its classpath."""
    (directory / "Alloc.java").write_text(PROGRAM)
    subprocess.run([require_binary("javac"), "Alloc.java"], cwd=directory, check=True, timeout=120)
    return directory


@pytest.fixture(scope="module")
def alloc_class(tmp_path_factory) -> Path:
    return compile_alloc(tmp_path_factory.mktemp("java"))


def java(
    classpath: Path,
    xlog: str,
    flags: tuple[str, ...],
    millis: int,
    keep_blocks: int = 400,
    slow: bool = False,
    humongous: int = 0,
) -> list[str]:
    return [
        require_binary("java"),
        f"-Xms{HEAP}",
        f"-Xmx{HEAP}",
        *flags,
        xlog,
        "-cp",
        str(classpath),
        "Alloc",
        str(millis),
        str(keep_blocks),
        str(humongous),
        *(["slow"] if slow else []),
    ]


def run_java(*args, **kwargs) -> MxFigures:
    out = subprocess.run(
        java(*args, **kwargs), capture_output=True, text=True, check=True, timeout=120
    )
    return MxFigures(*map(int, out.stdout.split()))


def young_and_full(reading, collector: str) -> int:
    counted = {kind: t.collections for kind, t in reading.pauses.items()}
    return counted.get(f"{collector} Young", 0) + counted.get(f"{collector} Full", 0)


@pytest.mark.parametrize(
    ("xlog", "flags", "collector"),
    [
        (CASSANDRA_XLOG, JVM17_G1, "G1"),
        (CASSANDRA_XLOG, ("-XX:+UseSerialGC",), "Serial"),
        (CASSANDRA_XLOG, ("-XX:+UseParallelGC",), "Parallel"),
        (TAGGED_XLOG, (), "G1"),
        (TAGGED_XLOG, ("-XX:+UseSerialGC",), "Serial"),
        (TAGGED_XLOG, ("-XX:+UseParallelGC",), "Parallel"),
    ],
    ids=[
        "cassandra-g1",
        "cassandra-serial",
        "cassandra-parallel",
        "tagged-g1",
        "tagged-serial",
        "tagged-parallel",
    ],
)
def test_a_real_gc_log_agrees_with_the_jvms_own_mxbeans(
    alloc_class, tmp_path, xlog, flags, collector
):
    log = tmp_path / "gc.log"
    # 11 humongous arrays (one 16 MiB region each of 16) pass G1's 70 % occupancy threshold:
    # concurrent cycles, with their Remark and Cleanup pauses, happen on every run.
    mx = run_java(alloc_class, xlog.format(log=log), flags, 800, humongous=11)
    reading = GcLogSource(str(log)).collect()
    assert reading.collector == collector
    # The MXBeans count young and full collections (G1's Remark/Cleanup pauses are not
    # collections to them on JDK 17), so exactly those must be found in the log.
    assert young_and_full(reading, collector) == mx.collections, reading.pauses
    assert reading.pauses[f"{collector} Full"].collections >= 1  # the System.gc() at the end
    seconds = sum(
        t.seconds for kind, t in reading.pauses.items() if kind.endswith(("Young", "Full"))
    )
    assert abs(seconds * 1000 - mx.millis) <= 0.1 * mx.millis + 2 * mx.collections
    # The heap after the last pause (the System.gc()), in whole MiB (rounded down) in the log
    assert reading.heap is not None
    assert reading.heap.used_after_gc is not None
    assert 0 <= mx.heap_after_gc - reading.heap.used_after_gc < 1024 * 1024
    # Capacity: G1's whole committed heap; Serial and Parallel leave out the empty survivor
    # space, which the MXBean counts as committed.
    assert 0.9 * mx.heap_committed <= reading.heap.capacity <= mx.heap_committed
    assert reading.heap.max == HEAP >= mx.heap_max  # -Xmx, as the log's start-up line says
    # Every pause happens in a safepoint (Serial's young-then-full pair in the same one), so
    # safepoints stop the application at least as long as the pauses last.
    assert reading.safepoints is not None
    if xlog == CASSANDRA_XLOG:  # safepoint=info is in Cassandra's selection, not in gc*
        assert reading.safepoints.collections >= mx.collections / 2
        assert reading.safepoints.seconds >= 0.9 * sum(t.seconds for t in reading.pauses.values())
    if collector == "G1" and xlog == CASSANDRA_XLOG:
        assert reading.pauses["G1 Remark"].collections >= 1  # the concurrent cycle's pauses
        assert reading.pauses["G1 Cleanup"].collections >= 1


def test_the_log_is_tailed_across_rotations_while_the_jvm_writes(alloc_class, tmp_path):
    """Cassandra's option string with 256 KiB files: gc.log rotates every few collections.

    The exporter starts first (as on a Pi at boot): everything the JVM writes is counted."""
    log = tmp_path / "gc.log"
    xlog = CASSANDRA_XLOG.format(log=log).replace("filesize=10485760", "filesize=262144")
    gclog = GcLogSource(str(log))
    with pytest.raises(SourceError, match="No such file"):
        gclog.collect()
    process = subprocess.Popen(
        java(alloc_class, xlog, JVM17_G1, 3000, slow=True), stdout=subprocess.PIPE, text=True
    )
    try:
        pid_file = tmp_path / "cassandra.pid"
        pid_file.write_text(f"{process.pid}\n")
        proc = ProcSource(pid_file=str(pid_file))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if log.exists() and gclog.collect().pauses:
                break
            time.sleep(0.05)
        seen, cpu = [], []
        while process.poll() is None:
            seen.append(young_and_full(gclog.collect(), "G1"))
            try:  # /proc for the whole run: CPU time moves in 10 ms ticks, slowly on a busy box
                figures = proc.collect()
            except SourceError:  # the JVM has just exited
                break
            if figures.resident_bytes == 0:  # exiting: a zombie keeps no memory
                break
            cpu.append(figures.cpu_seconds)
            assert figures.pid == process.pid
            assert figures.resident_bytes > 10 * 1024 * 1024
            assert figures.threads > 2  # a running JVM: main, GC and compiler threads
            time.sleep(0.1)
        mx = MxFigures(*map(int, process.communicate(timeout=30)[0].split()))
    finally:
        process.kill()
        process.wait()
    assert (tmp_path / "gc.log.0").exists()  # it did rotate
    assert seen == sorted(seen) and seen[-1] > seen[0] > 0, seen  # grows while the JVM runs
    assert cpu == sorted(cpu) and cpu[-1] > cpu[0]
    assert young_and_full(gclog.collect(), "G1") == mx.collections  # the rest, counted once
    with pytest.raises(SourceError, match="not running"):
        proc.collect()


@pytest.mark.parametrize("reopened", [True, False], ids=["new-gc.log-open", "mid-rotation"])
def test_a_rotation_between_listing_and_opening_is_counted_once(
    alloc_class, tmp_path, monkeypatch, reopened
):
    """The race behind a count of 207 for the JVM's 199: gc.log renamed after the rotated files
    were listed and before gc.log was opened. Replayed exactly with a real JVM's lines, also
    caught mid-rotation (renamed, the new gc.log not yet created): that collection is no
    failure, and nothing is lost or counted twice."""
    whole = tmp_path / "whole" / "gc.log"
    whole.parent.mkdir()
    expected = run_java(alloc_class, CASSANDRA_XLOG.format(log=whole), ("-XX:+UseSerialGC",), 200)
    lines = whole.read_text().splitlines(keepends=True)
    first, second, third = (
        lines[: len(lines) // 3],
        lines[len(lines) // 3 : 2 * len(lines) // 3],
        lines[2 * len(lines) // 3 :],
    )
    log = tmp_path / "gc.log"
    log.write_text("".join(first))
    source = GcLogSource(str(log))
    source.collect()
    with log.open("a") as handle:
        handle.write("".join(second))  # written, not yet read, when the JVM rotates

    listing = gclog_module.rotated_files

    def rotate_after_listing(path: str) -> list[str]:
        found = listing(path)
        if not (tmp_path / "gc.log.0").exists():
            os.rename(log, tmp_path / "gc.log.0")
            if reopened:
                log.write_text("".join(third))
        return found

    monkeypatch.setattr(gclog_module, "rotated_files", rotate_after_listing)
    source.collect()
    if not reopened:
        log.write_text("".join(third))  # the JVM opens the new gc.log
    assert young_and_full(source.collect(), "Serial") == expected.collections


def test_a_jvm_restart_archives_the_log_and_totals_keep_growing(alloc_class, tmp_path):
    log = tmp_path / "gc.log"
    xlog = CASSANDRA_XLOG.format(log=log)
    first = run_java(alloc_class, xlog, ("-XX:+UseSerialGC",), 200)
    source = GcLogSource(str(log))
    assert young_and_full(source.collect(), "Serial") == first.collections
    second = run_java(alloc_class, xlog, ("-XX:+UseSerialGC",), 100)  # gc.log → gc.log.0
    assert (tmp_path / "gc.log.0").exists()
    assert young_and_full(source.collect(), "Serial") == first.collections + second.collections
    # An exporter started now reads only the running JVM's gc.log, and still knows the
    # collector and the maximum heap from the rotated file's start-up lines.
    os.rename(log, tmp_path / "gc.log.1")
    whole = (tmp_path / "gc.log.1").read_text()
    (tmp_path / "gc.log").write_text(whole[whole.index(" GC(") :])  # a log missing its start
    late = GcLogSource(str(log)).collect()
    assert late.collector == "Serial"
    assert late.heap is not None and late.heap.max == HEAP


def test_a_log_with_nothing_usable_is_a_failed_collection_with_the_reason(tmp_path, caplog):
    java8 = tmp_path / "gc.log"
    java8.write_text(
        "2024-03-01T10:00:00.123+0000: 1.234: [GC (Allocation Failure) [ParNew: 17445K->2172K"
        "(19648K), 0.0033590 secs] 17445K->6670K(63360K), 0.0034 secs]\n"
    )
    with pytest.raises(SourceError, match="Java 8's -Xloggc format"):
        GcLogSource(str(java8)).collect()
    other = tmp_path / "other.log"
    other.write_text("INFO  [main] 2024-03-01 10:00:00,123 CassandraDaemon.java:1 - hello\n")
    published = []
    runner = SourceRunner(GcLogSource(str(other)), 1.0, published.append)
    with caplog.at_level(logging.WARNING, logger="exporter"):
        runner.collect_once()
    assert published[-1].up is False
    assert "source gclog down" in caplog.text and "none usable" in caplog.text
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert GcLogSource(str(empty)).collect().pauses == {}  # nothing written yet: up, no data


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (  # JDK 17, Cassandra's decorations
            "[2026-12-02T02:15:31.562+0000][0.096s][6911][6921][info ] GC(0) Pause Young "
            "(Normal) (G1 Evacuation Pause) 31M->16M(256M) 2.235ms",
            Pause("Young", 0.002235, 31 << 20, 16 << 20, 256 << 20),
        ),
        (
            "[2026-12-02T02:15:33.061+0000][1.595s][6911][6921][info ] GC(43) Pause Full "
            "(System.gc()) 147M->16M(256M) 17.675ms",
            Pause("Full", 0.017675, 147 << 20, 16 << 20, 256 << 20),
        ),
        (  # JDK 11 CMS (unified logging, the pause line of the [gc] tag)
            "[0.091s][info][gc] GC(0) Pause Young (Allocation Failure) 17M->6M(61M) 3.359ms",
            Pause("Young", 0.003359, 17 << 20, 6 << 20, 61 << 20),
        ),
        (
            "[1.0s][info ] GC(3) Pause Initial Mark 60M->60M(247M) 0.312ms",
            Pause("Initial Mark", 0.000312, 60 << 20, 60 << 20, 247 << 20),
        ),
        (
            "[1.0s][info ] GC(3) Pause Remark 80M->80M(247M) 5.200ms",
            Pause("Remark", 0.0052, 80 << 20, 80 << 20, 247 << 20),
        ),
        ("[0.005s][info][gc] Using Concurrent Mark Sweep", Collector("Concurrent Mark Sweep")),
        (  # JDK 11 safepoint=info
            "[0.050s][info][safepoint] Total time for which application threads were stopped: "
            "0.0003480 seconds, Stopping threads took: 0.0000088 seconds",
            Safepoint(0.000348),
        ),
        (
            '[0.096s][6911][6921][info ] Safepoint "G1CollectForAllocation", Time since last: '
            "51350246 ns, Reaching safepoint: 7965 ns, Cleanup: 11752 ns, At safepoint: 2312548 "
            "ns, Total: 2332265 ns",
            Safepoint(0.002332265),
        ),
        (
            "[0.004s][debug][gc,heap] Minimum heap 23068672  Initial heap 23068672  Maximum heap "
            "23068672",
            MaxHeap(23068672),
        ),
        ("[0.048s][info ][gc,init] Heap Max Capacity: 1G", MaxHeap(1 << 30)),
        # not pauses: the start line of a pause, a concurrent phase, a task line
        ("[0.1s][info][gc,start] GC(0) Pause Young (Normal) (G1 Evacuation Pause)", None),
        ("[0.5s][info][gc] GC(5) Concurrent Mark Cycle 12.345ms", None),
        ("[0.5s][info][gc,task] GC(5) Using 2 workers of 2 for evacuation", None),
    ],
)
def test_lines_of_each_jdk_and_collector(line, event):
    assert parse_line(line) == event


def test_missing_log_and_missing_process_are_clear_errors(tmp_path):
    with pytest.raises(SourceError, match=r"gc\.log: No such file"):
        GcLogSource(str(tmp_path / "gc.log")).collect()
    with pytest.raises(SourceError, match="no process matches"):
        ProcSource(pattern="no-such-cassandra-daemon-xyz").collect()
    bad = tmp_path / "bad.pid"
    bad.write_text("eleven\n")
    with pytest.raises(SourceError, match=rf"{bad}: not a pid"):
        ProcSource(pid_file=str(bad)).collect()
