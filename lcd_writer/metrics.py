"""The writer's /metrics page: the writer families of :mod:`rackpanel.contract`.

The three per-request families (requests, latency histogram, coordinators) are kept by
:class:`RequestTally`, one lock and plain integers per request, and turned into metric
families only when /metrics is scraped: in ``--rate`` mode the writer records thousands of
outcomes a second on the driver's I/O thread, and three prometheus_client metrics (a lock
each, a label lookup each) cost it a measurable share of its throughput.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString
from rackpanel.contract import MetricFamily
from rackpanel.contract import families as m
from rackpanel.lcd_writer.consistency import OPERATIONS, Operation, offered
from rackpanel.lcd_writer.outcome import OUTCOMES, Coordinator, Outcome, answered_by

# The writer is its own process: its page carries no *_created series (metrics.md lists none).
disable_created_metrics()

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class RequestTally:
    """A collector of every request outcome: counts, latency histogram, coordinators."""

    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self._bounds = (*buckets, float("inf"))
        self._le = [floatToGoString(b) for b in self._bounds]
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[tuple[str, str, str], list[float]] = {}  # per-bucket counts + sum
        self._coordinators: dict[tuple[str, str, Coordinator], int] = {}

    def seed(self, key: tuple[str, str, str]) -> None:
        """Show ``key``'s request counter at 0 before its first request (rate() needs it)."""
        with self._lock:
            self._requests.setdefault(key, 0)

    def add(self, outcome: Outcome) -> None:
        key = (outcome.operation, outcome.cl, outcome.outcome)
        bucket = bisect_left(self._bounds, outcome.seconds)
        where = outcome.coordinator if answered_by(outcome.outcome) else None
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            latency = self._latency.get(key)
            if latency is None:
                latency = self._latency[key] = [0.0] * (len(self._bounds) + 1)
            latency[bucket] += 1
            latency[-1] += outcome.seconds
            if where is not None:
                coordinator = (outcome.operation, outcome.cl, where)
                self._coordinators[coordinator] = self._coordinators.get(coordinator, 0) + 1

    def describe(self) -> list[Any]:
        return []  # families are only known at collection time

    def collect(self) -> Iterator[Any]:
        with self._lock:
            requests = dict(self._requests)
            latency = {key: list(values) for key, values in self._latency.items()}
            coordinators = dict(self._coordinators)
        spec = m.WRITER_REQUESTS
        family = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
        for key, count in requests.items():
            family.add_metric(list(key), count)
        yield family
        spec = m.WRITER_REQUEST_DURATION
        histogram = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
        for key, values in latency.items():
            cumulative, total = [], 0.0
            for le, count in zip(self._le, values[:-1], strict=True):
                total += count
                cumulative.append((le, total))
            histogram.add_metric(list(key), cumulative, values[-1])
        yield histogram
        spec = m.WRITER_COORDINATOR_REQUESTS
        family = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
        for (operation, cl, where), count in coordinators.items():
            family.add_metric([operation, cl, where.dc, where.rack, where.address], count)
        yield family


def _gauge(spec: MetricFamily, registry: CollectorRegistry) -> Gauge:
    return Gauge(spec.name, spec.help, spec.labels, registry=registry)


class WriterMetrics:
    def __init__(self, writer: str, local_dc: str, *, conditional: bool = False) -> None:
        self._conditional = conditional
        self.registry = CollectorRegistry(auto_describe=True)
        info = _gauge(m.WRITER_INFO, self.registry)
        info.labels(writer, local_dc).set(1)
        self._cl = _gauge(m.WRITER_CONSISTENCY_LEVEL, self.registry)
        self._tally = RequestTally()
        self.registry.register(self._tally)
        self._hosts_up = _gauge(m.WRITER_HOSTS_UP, self.registry)
        for operation in OPERATIONS:
            for cl in offered(operation, conditional):
                for outcome in OUTCOMES:
                    self._tally.seed((operation, cl, outcome))

    def selected(self, operation: Operation, level: str) -> None:
        for cl in offered(operation, self._conditional):
            self._cl.labels(operation, cl).set(1 if cl == level else 0)

    def record(self, outcome: Outcome) -> None:
        self._tally.add(outcome)

    def hosts_up(self, per_dc: Iterable[tuple[str, int]]) -> None:
        for dc, up in per_dc:
            self._hosts_up.labels(dc).set(up)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
