"""The MBeans a simulated Cassandra node exposes over Jolokia, and ObjectName matching.

Figures come from the cluster model: the failure detector's verdicts and phi values, live
and unreachable nodes, the coordinator's ClientRequest error counts per CL, and JVM memory,
GC and thread figures that are deterministic functions of uptime and work done, so they move
the way a JVM's do.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rackpanel.simulator.core import ConsistencyLevel
from rackpanel.topology.model import release_of

if TYPE_CHECKING:
    from rackpanel.simulator.cluster.model import SimCluster
    from rackpanel.simulator.cluster.node import SimNode

MiB = 1024 * 1024
# The GarbageCollector beans of each release's default collector: 5.0 runs G1
# (conf/jvm17-server.options, -XX:+UseG1GC), 4.1 runs CMS (conf/jvm11-server.options,
# -XX:+UseConcMarkSweepGC: ParNew for the young generation).
GC_BEANS = {
    "5.0": ("G1 Young Generation", "G1 Old Generation"),
    "4.1": ("ParNew", "ConcurrentMarkSweep"),
}
HINT_DELIVERY = ("HintsSucceeded", "HintsFailed", "HintsTimedOut")
CLIENT_REQUEST_NAMES = ("Unavailables", "Timeouts", "Failures")

Attributes = dict[str, Callable[[], Any]]


# ---- MBean names ---------------------------------------------------------------------------


def parse_name(name: str) -> tuple[str, dict[str, str], bool]:
    """``domain:key=value,...`` → (domain, properties, is_pattern). ValueError if malformed."""
    domain, sep, rest = name.partition(":")
    if not sep or not domain or not rest:
        raise ValueError(f"Invalid object name {name!r}")
    props: dict[str, str] = {}
    wildcard_tail = False
    for part in rest.split(","):
        if part == "*":
            wildcard_tail = True
            continue
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise ValueError(f"Invalid object name {name!r}: bad key property {part!r}")
        props[key] = value
    pattern = wildcard_tail or any(c in name for c in "*?")
    return domain, props, pattern


def canonical(domain: str, props: dict[str, str]) -> str:
    return f"{domain}:" + ",".join(f"{k}={props[k]}" for k in sorted(props))


def _matches(pattern: tuple[str, dict[str, str], bool], domain: str, props: dict[str, str]) -> bool:
    p_domain, p_props, _ = pattern
    if not fnmatch.fnmatchcase(domain, p_domain):
        return False
    for key, value in p_props.items():
        if key not in props or not fnmatch.fnmatchcase(props[key], value):
            return False
    return True


# ---- the beans of one node -----------------------------------------------------------------


class NodeBeans:
    """The MBeans a Cassandra node of the release it claims exposes, with the model's figures."""

    def __init__(self, cluster: SimCluster, node: SimNode) -> None:
        self.cluster = cluster
        self.node = node
        self.young_gc, self.old_gc = GC_BEANS[release_of(node.release_version)]
        self.beans: dict[
            tuple[str, frozenset[tuple[str, str]]], tuple[dict[str, str], Attributes]
        ] = {}
        self._register_jvm()
        self._register_cassandra()

    def _add(self, name: str, attributes: Attributes) -> None:
        domain, props, _ = parse_name(name)
        self.beans[(domain, frozenset(props.items()))] = (props, attributes)

    # JVM figures: deterministic functions of uptime and work done, so they move like a JVM's
    def _work(self) -> float:
        completed = self.cluster.stats(self.node).completed
        return float(sum(completed.values()))

    def _young_cycles(self) -> float:
        stats = self.cluster.stats(self.node)
        return stats.uptime() / 3.0 + self._work() / 4000.0

    def _heap(self) -> dict[str, int]:
        heap_max = self.cluster.heap_max_bytes
        young = heap_max // 4
        cycles = self._young_cycles()
        old = min(heap_max // 2, 60 * MiB + int(cycles) * 64 * 1024)
        used = old + int((cycles % 1.0) * young)
        committed = min(heap_max, max(used, heap_max // 2))
        return {"init": heap_max // 2, "used": used, "committed": committed, "max": heap_max}

    def _non_heap(self) -> dict[str, int]:
        uptime = self.cluster.stats(self.node).uptime()
        used = 72 * MiB + int(min(uptime, 3600) * 1024)
        return {"init": 7 * MiB, "used": used, "committed": used + 4 * MiB, "max": -1}

    def _gc(self, name: str) -> Attributes:
        def count() -> int:
            cycles = self._young_cycles()
            return int(cycles) if name == self.young_gc else int(cycles / 200)

        def spent_ms() -> int:
            n = count()
            return n * (6 if name == self.young_gc else 180) + (n * 7) % 5

        return {
            "CollectionCount": count,
            "CollectionTime": spent_ms,
            "Name": lambda: name,
            "Valid": lambda: True,
        }

    def _threads(self) -> int:
        return 170 + len(self.cluster.nodes) * 3 + int(self._work()) % 7

    def _register_jvm(self) -> None:
        self._add(
            "java.lang:type=Memory",
            {
                "HeapMemoryUsage": self._heap,
                "NonHeapMemoryUsage": self._non_heap,
                "ObjectPendingFinalizationCount": lambda: 0,
                "Verbose": lambda: False,
            },
        )
        for gc in (self.young_gc, self.old_gc):
            self._add(f"java.lang:type=GarbageCollector,name={gc}", self._gc(gc))
        self._add(
            "java.lang:type=Threading",
            {
                "ThreadCount": self._threads,
                "DaemonThreadCount": lambda: self._threads() - 12,
                "PeakThreadCount": lambda: self._threads() + 9,
            },
        )
        self._add(
            "java.lang:type=Runtime",
            {
                "Uptime": lambda: int(self.cluster.stats(self.node).uptime() * 1000),
                "StartTime": lambda: int(self.cluster.stats(self.node).started * 1000),
                "VmName": lambda: "OpenJDK 64-Bit Server VM",
            },
        )

    # Cassandra beans
    def _states(self, with_port: bool) -> dict[str, str]:
        result = {}
        for other in self.cluster.nodes:
            key = f"/{self.cluster.endpoint(other)}" if with_port else f"/{other.address}"
            result[key] = "UP" if self.cluster.is_alive(self.node, other) else "DOWN"
        return result

    def _phis(self) -> dict[str, dict[str, Any]]:
        table = {}
        for other, phi in zip(self.cluster.nodes, self.cluster.phis(self.node), strict=True):
            if other is self.node:
                continue
            key = f"/{self.cluster.endpoint(other)}"
            table[key] = {"Endpoint": key, "PHI": phi}
        return table

    def _nodes(self, alive: bool) -> list[str]:
        return [
            self.cluster.endpoint(o)
            for o in self.cluster.nodes
            if self.cluster.is_alive(self.node, o) == alive
        ]

    def _register_cassandra(self) -> None:
        c, me = self.cluster, self.node
        self._add(
            "org.apache.cassandra.net:type=FailureDetector",
            {
                "SimpleStatesWithPort": lambda: self._states(True),
                "SimpleStates": lambda: self._states(False),
                "UpEndpointCount": lambda: len(self._nodes(True)),
                "DownEndpointCount": lambda: len(self._nodes(False)),
                "PhiValuesWithPort": self._phis,
                "PhiConvictThreshold": lambda: c.phi_convict_threshold,
            },
        )
        self._add(
            "org.apache.cassandra.db:type=StorageService",
            {
                "LiveNodesWithPort": lambda: self._nodes(True),
                "UnreachableNodesWithPort": lambda: self._nodes(False),
                "LiveNodes": lambda: [e.rsplit(":", 1)[0] for e in self._nodes(True)],
                "UnreachableNodes": lambda: [e.rsplit(":", 1)[0] for e in self._nodes(False)],
                "OperationMode": lambda: "NORMAL",
                "ReleaseVersion": lambda: me.release_version,
                "ClusterName": lambda: c.name,
                "LocalHostId": lambda: str(me.host_id),
            },
        )
        self._register_hints()
        errors = c.stats(me).client_errors
        for operation in ("Write", "Read"):
            for kind in CLIENT_REQUEST_NAMES:
                self._add(
                    f"org.apache.cassandra.metrics:type=ClientRequest,scope={operation},name={kind}",
                    {"Count": _sum_counter(errors, operation, kind)},
                )
                for cl in ConsistencyLevel:
                    self._add(
                        f"org.apache.cassandra.metrics:type=ClientRequest,"
                        f"scope={operation}-{cl.name},name={kind}",
                        {"Count": lambda o=operation, n=cl.name, k=kind: errors[(o, n, k)]},
                    )

    def _register_hints(self) -> None:
        """Storage/HintedHandOffManager/HintsService metrics: they move during an outage."""
        stats = self.cluster.stats(self.node)
        metrics = "org.apache.cassandra.metrics"
        self._add(
            f"{metrics}:type=Storage,name=TotalHints",
            {"Count": lambda: sum(stats.hints_created.values())},
        )
        self._add(f"{metrics}:type=Storage,name=TotalHintsInProgress", {"Count": lambda: 0})
        self._hint_targets: set[str] = set()
        delivered = {"HintsSucceeded": lambda: stats.completed["HintsDispatcher"]}
        for name in HINT_DELIVERY:
            self._add(
                f"{metrics}:type=HintsService,name={name}",
                {"Count": delivered.get(name, lambda: 0)},
            )

    # reading
    def _register_hint_targets(self) -> None:
        """HintedHandoffMetrics creates its per-endpoint meter with the first hint for that
        endpoint: a bean per target hinted so far (not one per node of the cluster, which
        at 1,000 nodes would be a million beans)."""
        stats = self.cluster.stats(self.node)
        for name in set(stats.hints_created) - self._hint_targets:
            self._hint_targets.add(name)
            # InetAddressAndPort.toString() with ':' turned into '.', as HintedHandoffMetrics
            endpoint = f"/{self.cluster.endpoint(self.cluster.node(name))}".replace(":", ".")
            self._add(
                "org.apache.cassandra.metrics:type=HintedHandOffManager,"
                f"name=Hints_created-{endpoint}",
                {"Count": lambda name=name: stats.hints_created[name]},
            )

    def find(self, mbean: str) -> list[tuple[str, Attributes]]:
        self._register_hint_targets()
        domain, props, pattern = parse_name(mbean)
        if not pattern:
            found = self.beans.get((domain, frozenset(props.items())))
            return [(canonical(domain, props), found[1])] if found else []
        wanted = (domain, props, pattern)
        return sorted(
            (
                (canonical(d, p), attrs)
                for (d, _), (p, attrs) in self.beans.items()
                if _matches(wanted, d, p)
            ),
            key=lambda item: item[0],
        )


def _sum_counter(errors, operation: str, kind: str) -> Callable[[], int]:
    return lambda: sum(v for (o, _, k), v in errors.items() if o == operation and k == kind)
