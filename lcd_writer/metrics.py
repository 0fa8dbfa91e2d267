"""The writer's /metrics page, exactly as the writer section of metrics.md specifies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from lcd_writer.consistency import OPERATIONS, Operation, offered
from lcd_writer.outcome import OUTCOMES, Coordinator, Outcome, answered_by

# The writer is its own process: its page carries no *_created series (metrics.md lists none).
disable_created_metrics()

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class WriterMetrics:
    def __init__(self, writer: str, local_dc: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        info = Gauge(
            "lcd_writer_info", "identity of this writer", ["writer", "local_dc"],
            registry=self.registry,
        )  # fmt: skip
        info.labels(writer, local_dc).set(1)
        self._cl = Gauge(
            "lcd_writer_consistency_level",
            "1 for the consistency level selected on the keypad, 0 for the other offered ones",
            ["operation", "cl"],
            registry=self.registry,
        )
        self._requests = Counter(
            "lcd_writer_requests",
            "every request and how it ended",
            ["operation", "cl", "outcome"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "lcd_writer_request_duration_seconds",
            "end-to-end latency as the client saw it",
            ["operation", "cl", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._coordinator = Counter(
            "lcd_writer_coordinator_requests",
            "which coordinator answered each request (client timeouts and no-host excluded)",
            ["operation", "cl", "coordinator_dc", "coordinator_rack", "coordinator"],
            registry=self.registry,
        )
        self._hosts_up = Gauge(
            "lcd_writer_cluster_hosts_up",
            "hosts the driver currently considers up, per DC",
            ["host_dc"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, ...], tuple[Any, Any]] = {}
        self._coordinator_children: dict[tuple[str, str, Coordinator], Any] = {}
        for operation in OPERATIONS:
            for cl in offered(operation):
                for outcome in OUTCOMES:  # zeros from the start, so rate() sees the first one
                    self._requests.labels(operation, cl, outcome)

    def selected(self, operation: Operation, level: str) -> None:
        for cl in offered(operation):
            self._cl.labels(operation, cl).set(1 if cl == level else 0)

    def record(self, outcome: Outcome) -> None:
        count, duration = self._request_children(outcome.operation, outcome.cl, outcome.outcome)
        count.inc()
        duration.observe(outcome.seconds)
        where = outcome.coordinator
        if where is not None and answered_by(outcome.outcome):
            key = (outcome.operation, outcome.cl, where)
            child = self._coordinator_children.get(key)
            if child is None:
                child = self._coordinator.labels(
                    outcome.operation, outcome.cl, where.dc, where.rack, where.address
                )
                self._coordinator_children[key] = child
            child.inc()

    def hosts_up(self, per_dc: Iterable[tuple[str, int]]) -> None:
        for dc, up in per_dc:
            self._hosts_up.labels(dc).set(up)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def _request_children(self, operation: str, cl: str, outcome: str) -> tuple[Any, Any]:
        key = (operation, cl, outcome)
        children = self._children.get(key)
        if children is None:
            children = (
                self._requests.labels(*key),
                self._duration.labels(*key),
            )
            self._children[key] = children
        return children
