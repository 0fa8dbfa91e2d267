"""Metric families of the contract and their text exposition (format 0.0.4).

A :class:`Family` is one family of :mod:`rackpanel.contract` being filled with this
collection's samples; :func:`render` turns them into the page with prometheus_client's own
exposition (``generate_latest``). The page is rendered once per collection, not per scrape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from rackpanel.contract import ContractError, MetricFamily

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


@dataclass
class Family:
    spec: MetricFamily
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    def add(self, value: float, **labels: str) -> Family:
        """One sample; its labels must be exactly the family's labels in the contract."""
        if labels.keys() != set(self.spec.labels):
            raise ContractError(
                f"{self.spec.name}: labels {sorted(labels)} differ from the contract's "
                f"{sorted(self.spec.labels)}"
            )
        self.samples.append((tuple(labels[k] for k in self.spec.labels), value))
        return self

    def metric(self) -> Metric:
        spec = self.spec
        if spec.type == "gauge":
            metric: Metric = GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
        elif spec.type == "counter":
            metric = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
        else:
            raise ContractError(f"{spec.name}: the exporter has no {spec.type} families")
        for values, value in self.samples:
            metric.add_metric(values, value)
        return metric


class _Collection:
    """What ``generate_latest`` reads: the families of one collection, empty ones left out."""

    def __init__(self, families: Iterable[Family]) -> None:
        self._families = [f for f in families if f.samples]

    def collect(self) -> Iterator[Metric]:
        return (f.metric() for f in self._families)


def render(families: Iterable[Family]) -> bytes:
    return generate_latest(_Collection(families))  # type: ignore[arg-type]
