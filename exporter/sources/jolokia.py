"""The ``jolokia`` source: JVM, failure detector and client-request beans in ONE bulk POST.

Jolokia (``-javaagent:jolokia-agent.jar=host=127.0.0.1,port=8778``) answers a JSON array of
read requests with an array of responses in the same order, each with its own ``status``.
Wildcard reads (``name=*``) answer ``{mbean name: {attribute: value}}``. Only the few beans the
metric contract needs are read: no per-table wildcards (those make jmx_exporter take seconds)
and never ``GCInspector.getAndResetStats`` (it resets). Memory is required; the other beans are
optional (a missing one is simply absent), so the source also works on a plain JVM.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from typing import Any

from rackpanel.exporter.readings import GcTotals, HintFigures, JolokiaReading, MemoryArea
from rackpanel.exporter.sources import SourceError

MEMORY = "java.lang:type=Memory"
GARBAGE_COLLECTORS = "java.lang:type=GarbageCollector,name=*"
THREADING = "java.lang:type=Threading"
FAILURE_DETECTOR = "org.apache.cassandra.net:type=FailureDetector"
CLIENT_REQUEST = "org.apache.cassandra.metrics:type=ClientRequest,scope=*,name={name}"
FAILURE_KINDS = {"Unavailables": "unavailable", "Timeouts": "timeout", "Failures": "failure"}
# Hints (src/java/org/apache/cassandra/metrics/StorageMetrics.java, HintedHandoffMetrics.java,
# HintsServiceMetrics.java): unlike system_views.pending_hints, these move while the target is
# still down: every hint written counts at once.
STORAGE = "org.apache.cassandra.metrics:type=Storage,name={name}"
HINTS_CREATED = "org.apache.cassandra.metrics:type=HintedHandOffManager,name=Hints_created-*"
HINTS_DELIVERY = "org.apache.cassandra.metrics:type=HintsService,name={name}"
DELIVERY_OUTCOMES = {
    "HintsSucceeded": "succeeded",
    "HintsFailed": "failed",
    "HintsTimedOut": "timed_out",
}


def _read(mbean: str, *attributes: str) -> dict[str, Any]:
    return {"type": "read", "mbean": mbean, "attribute": list(attributes)}


REQUESTS: list[dict[str, Any]] = [
    _read(MEMORY, "HeapMemoryUsage", "NonHeapMemoryUsage"),
    _read(GARBAGE_COLLECTORS, "CollectionCount", "CollectionTime"),
    _read(THREADING, "ThreadCount"),
    _read(FAILURE_DETECTOR, "SimpleStatesWithPort", "PhiValuesWithPort"),
    *(_read(CLIENT_REQUEST.format(name=name), "Count") for name in FAILURE_KINDS),
    _read(STORAGE.format(name="TotalHints"), "Count"),
    _read(STORAGE.format(name="TotalHintsInProgress"), "Count"),
    _read(HINTS_CREATED, "Count"),
    *(_read(HINTS_DELIVERY.format(name=name), "Count") for name in DELIVERY_OUTCOMES),
]


def endpoint_address(key: str) -> str:
    """``/127.0.11.1:7000`` or ``hostname/10.0.0.1:7000`` → ``127.0.11.1`` (IPv6 kept whole)."""
    address = key.rsplit("/", 1)[-1]
    if address.startswith("["):
        return address[1 : address.index("]")]
    if address.count(":") == 1:
        address = address.split(":", 1)[0]
    return address


def hint_target(mbean: str) -> str | None:
    """``...name=Hints_created-/127.0.11.1.7000`` → ``127.0.11.1`` (the metric name holds the
    target's ``InetAddressAndPort`` with ``:`` turned into ``.``)."""
    name = mbean_property(mbean, "name") or ""
    if not name.startswith("Hints_created-"):
        return None
    address = name.removeprefix("Hints_created-").rsplit("/", 1)[-1]
    parts = address.split(".")
    if len(parts) == 5 and all(p.isdigit() for p in parts):  # IPv4 and the port
        return ".".join(parts[:4])
    return address or None


def mbean_property(mbean: str, key: str) -> str | None:
    """The value of ``key`` in an ObjectName such as ``java.lang:name=G1 Old Gen,type=...``."""
    for part in mbean.split(":", 1)[-1].split(","):
        name, _, value = part.partition("=")
        if name == key:
            return value
    return None


def parse_responses(responses: list[dict[str, Any]]) -> JolokiaReading:
    """The reading from the bulk answer to :data:`REQUESTS` (same order)."""
    if not isinstance(responses, list) or len(responses) != len(REQUESTS):
        raise SourceError("jolokia answered something other than one response per request")
    values = [r.get("value") if r.get("status") == 200 else None for r in responses]
    memory_value, gc_value, threading_value, fd_value, *rest = values
    failure_values = rest[: len(FAILURE_KINDS)]
    total_hints, hints_in_progress, created_value, *delivery_values = rest[len(FAILURE_KINDS) :]
    if not isinstance(memory_value, dict):
        error = responses[0].get("error", "no value")
        raise SourceError(f"jolokia could not read {MEMORY}: {error}")
    memory = {
        area: MemoryArea(float(u["used"]), float(u["committed"]), float(u["max"]))
        for area, attribute in (("heap", "HeapMemoryUsage"), ("nonheap", "NonHeapMemoryUsage"))
        if isinstance(u := memory_value.get(attribute), dict)
    }
    gc = {
        mbean_property(mbean, "name") or mbean: GcTotals(
            int(attrs["CollectionCount"]), float(attrs["CollectionTime"]) / 1000.0
        )
        for mbean, attrs in (gc_value or {}).items()
        if isinstance(attrs, dict) and attrs.get("CollectionCount") is not None
    }
    fd = fd_value or {}
    states = fd.get("SimpleStatesWithPort") or {}
    phis = fd.get("PhiValuesWithPort") or {}
    failures: dict[tuple[str, str, str], int] = {}
    for name, value in zip(FAILURE_KINDS, failure_values, strict=True):
        for mbean, attrs in (value or {}).items():
            operation, _, cl = (mbean_property(mbean, "scope") or "").partition("-")
            if operation in ("Read", "Write") and cl and isinstance(attrs, dict):
                key = (operation.lower(), cl, FAILURE_KINDS[name])
                failures[key] = int(attrs.get("Count") or 0)
    return JolokiaReading(
        memory=memory,
        gc=gc,
        threads=int((threading_value or {}).get("ThreadCount") or 0),
        endpoint_up={endpoint_address(k): str(v).upper() == "UP" for k, v in states.items()},
        endpoint_phi={
            endpoint_address(k): float(phi) for k, v in phis.items() if _finite(phi := _phi(v))
        },
        client_request_failures=failures,
        hints=_hints(total_hints, hints_in_progress, created_value, delivery_values),
    )


def _count(value: Any) -> int | None:
    return int(value["Count"]) if isinstance(value, dict) and "Count" in value else None


def _hints(total: Any, in_progress: Any, created: Any, delivery: list[Any]) -> HintFigures | None:
    written = _count(total)
    if written is None:  # not a Cassandra node (or an agent without its beans)
        return None
    per_target: dict[str, int] = {}
    for mbean, attrs in (created or {}).items():
        target = hint_target(mbean)
        count = _count(attrs)
        if target is not None and count is not None:
            per_target[target] = per_target.get(target, 0) + count
    return HintFigures(
        written=written,
        in_progress=_count(in_progress) or 0,
        created=per_target,
        delivered={
            outcome: count
            for outcome, value in zip(DELIVERY_OUTCOMES.values(), delivery, strict=True)
            if (count := _count(value)) is not None
        },
    )


def _phi(value: Any) -> Any:
    """PhiValuesWithPort is TabularData: Jolokia renders each row as {Endpoint, PHI}."""
    return value.get("PHI") if isinstance(value, dict) else value


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class JolokiaSource:
    name = "jolokia"

    def __init__(self, url: str, timeout: float, auto: bool = False) -> None:
        self.url = url
        self.timeout = timeout
        self.auto = auto  # auto-detected: absent (not failing) until it answered once
        self._seen = False
        self._body = json.dumps(REQUESTS).encode()

    def collect(self) -> JolokiaReading:
        try:
            reading = self._collect()
        except SourceError as exc:
            if self.auto and not self._seen:
                from rackpanel.exporter.runner import SourceAbsent

                raise SourceAbsent(f"no Jolokia agent found ({exc})") from None
            raise
        self._seen = True
        return reading

    def _collect(self) -> JolokiaReading:
        request = urllib.request.Request(
            self.url, data=self._body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise SourceError(f"jolokia at {self.url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(f"jolokia at {self.url} unreachable: {reason}") from None
        except ValueError:
            raise SourceError(f"jolokia at {self.url} answered no JSON") from None
        return parse_responses(payload)

    def close(self) -> None:
        pass
