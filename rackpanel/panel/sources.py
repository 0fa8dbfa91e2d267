"""Typed HTTP clients of the running services the panel shows (never their internals).

One :class:`Sources` holds an ``aiohttp`` client session and the addresses of a stack: the
simulator's admin API (absent for compose and the Pis), each writer, each exporter,
Prometheus and Alertmanager. Every read returns a plain value and never raises for an
unreachable service: the panel shows what answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

READ_TIMEOUT = aiohttp.ClientTimeout(total=1.0)
ACT_TIMEOUT = aiohttp.ClientTimeout(total=5.0)
# An exporter that did not answer is asked again after 2 s, then 4, 8... up to 30 s: a
# 1,000-node inventory whose exporters mostly do not run (`rackpanel scale`: one a rack, or
# none) would otherwise cost a thousand refused connections every half second.
RETRY_FIRST = 2.0
RETRY_MAX = 30.0
HISTORY_SECONDS = 300
HISTORY_STEP = 5

WRITES = 'job="lcd_writer",operation="write"'
RATIO_QUERY = (
    f'sum by (node) (rate(lcd_writer_requests_total{{{WRITES},outcome="success"}}[1m]))\n'
    f"/ (sum by (node) (rate(lcd_writer_requests_total{{{WRITES}}}[1m])) > 0)"
)
LATENCY_QUERY = (
    "histogram_quantile(0.95, sum by (node, le) "
    f"(rate(lcd_writer_request_duration_seconds_bucket{{{WRITES}}}[1m]))) * 1000"
)

# Each observer's view, only from observers whose own node answers (as the recording rules do).
VIEWS_QUERY = (
    'cassandra_endpoint_up{job="cassandra"} '
    'and on (job, instance) (cassandra_up{job="cassandra"} == 1)'
)


class ActionFailed(RuntimeError):
    """A stop or key press the service refused or could not be reached for."""


@dataclass(frozen=True)
class Endpoints:
    """Where a stack's services answer (base URLs, no trailing slash)."""

    admin: str | None  # the simulator's admin API
    writers: Mapping[str, str]  # writer name -> base URL (GET /lcd, POST /keypad/...)
    exporters: Mapping[str, str]  # node name -> /metrics URL
    prometheus: str | None = None
    alertmanager: str | None = None
    grafana: str | None = None  # the kiosk URL, shown as a link
    admin_token: str | None = None


@dataclass
class WriterStats:
    ratio: dict[str, float] = field(default_factory=dict)  # writer -> success ratio now
    latency_ms: dict[str, float] = field(default_factory=dict)
    ratio_history: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    latency_history: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def endpoint_up(text: str) -> dict[str, int]:
    """``cassandra_endpoint_up`` of one exporter page: endpoint address -> 0/1."""
    out: dict[str, int] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "cassandra_endpoint_up":
            for sample in family.samples:
                out[sample.labels.get("endpoint", "")] = int(sample.value)
    return out


def _where(labels: Mapping[str, str]) -> str:
    """Where an alert is, in the audience's words (a rack, a node, a writer at a CL, ...)."""
    if labels.get("job") == "lcd_writer" or "cl" in labels:
        writer = f"writer {labels.get('node', '?')} ({labels.get('dc', '?')})"
        return f"{writer} at {labels['cl']}" if labels.get("cl") else writer
    where = "/".join(labels[k] for k in ("endpoint_dc", "endpoint_rack") if k in labels)
    if "observer_dc" in labels:
        return f"{where} as seen from {labels['observer_dc']}"
    for key in ("node", "endpoint"):
        if labels.get(key) and labels[key] not in where:
            where = f"{where} {labels[key]}".strip()
    if not where and "dc" in labels:
        where = "/".join(labels[k] for k in ("dc", "rack") if k in labels)
    return where


def describe_alert(labels: Mapping[str, str], annotations: Mapping[str, str]) -> dict[str, str]:
    return {
        "name": labels.get("alertname", "?"),
        "severity": labels.get("severity", ""),
        "where": _where(labels),
        "summary": annotations.get("summary", ""),
    }


class Sources:
    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self._session: aiohttp.ClientSession | None = None
        self._silent: dict[str, tuple[float, float]] = {}  # exporter URL -> (retry at, wait)
        # the nine-node demo asks a silent exporter every 2 s; a thousand nodes every 30 s
        self._retry_max = min(RETRY_MAX, max(RETRY_FIRST, 0.03 * len(endpoints.exporters)))

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=READ_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- reads --------------------------------------------------------------------------------
    async def _json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        try:
            async with self.session.get(url, headers=headers) as response:
                if response.status != 200:
                    return None
                return await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return None

    def _admin_headers(self) -> dict[str, str]:
        token = self.endpoints.admin_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def power_state(self) -> dict[str, Any]:
        if not self.endpoints.admin:
            return {}
        state = await self._json(f"{self.endpoints.admin}/state", self._admin_headers())
        return state if isinstance(state, dict) else {}

    async def lcd(self, writer: str) -> dict[str, Any] | None:
        data = await self._json(f"{self.endpoints.writers[writer]}/lcd")
        return data if isinstance(data, dict) else None

    async def lcds(self) -> dict[str, dict[str, Any] | None]:
        names = list(self.endpoints.writers)
        answers = await asyncio.gather(*(self.lcd(n) for n in names))
        return dict(zip(names, answers, strict=True))

    async def _endpoint_up(self, url: str) -> dict[str, int] | None:
        wait = self._silent.get(url, (0.0, 0.0))[1]
        page: dict[str, int] | None = None
        try:
            async with self.session.get(url) as response:
                if response.status == 200:
                    page = endpoint_up(await response.text())
        except (TimeoutError, aiohttp.ClientError, ValueError):
            pass
        if page is None:
            wait = min(self._retry_max, wait * 2) if wait else RETRY_FIRST
            self._silent[url] = (time.monotonic() + wait, wait)
        else:
            self._silent.pop(url, None)
        return page

    async def views(self) -> dict[str, dict[str, int]]:
        """Per node whose exporter answered: its view of every endpoint (from the exporters
        themselves, or through Prometheus when they are out of reach, as in compose)."""
        if not self.endpoints.exporters:
            return await self._views_from_prometheus()
        now = time.monotonic()
        urls = self.endpoints.exporters
        # exporters that did not answer lately wait for their retry time (no task at all)
        names = [n for n in urls if self._silent.get(urls[n], (0.0, 0.0))[0] <= now]
        pages = await asyncio.gather(*(self._endpoint_up(urls[n]) for n in names))
        return {n: page for n, page in zip(names, pages, strict=True) if page is not None}

    async def _views_from_prometheus(self) -> dict[str, dict[str, int]]:
        if not self.endpoints.prometheus:
            return {}
        data = await self._json_params(
            self.endpoints.prometheus + "/api/v1/query", {"query": VIEWS_QUERY}
        )
        views: dict[str, dict[str, int]] = {}
        for item in (data or {}).get("data", {}).get("result", []):
            metric = item["metric"]
            observer = views.setdefault(metric.get("node", ""), {})
            observer[metric.get("endpoint", "")] = int(float(item["value"][1]))
        return views

    async def alerts(self) -> tuple[str | None, list[dict[str, str]]]:
        """The alerts as Alertmanager routes them (not inhibited or silenced), else as
        Prometheus fires them; (source, alerts)."""
        if self.endpoints.alertmanager:
            query = "/api/v2/alerts?active=true&silenced=false&inhibited=false"
            data = await self._json(self.endpoints.alertmanager + query)
            if isinstance(data, list):
                found = [
                    describe_alert(a.get("labels", {}), a.get("annotations", {})) for a in data
                ]
                return "Alertmanager", sorted(found, key=lambda a: (a["name"], a["where"]))
        if self.endpoints.prometheus:
            data = await self._json(self.endpoints.prometheus + "/api/v1/alerts")
            if isinstance(data, dict):
                alerts = data.get("data", {}).get("alerts", [])
                found = [
                    describe_alert(a.get("labels", {}), a.get("annotations", {}))
                    for a in alerts
                    if a.get("state") == "firing"
                ]
                return "Prometheus", sorted(found, key=lambda a: (a["name"], a["where"]))
        return None, []

    async def _query(self, expr: str) -> dict[str, float]:
        data = await self._json_params(self.endpoints.prometheus + "/api/v1/query", {"query": expr})
        out: dict[str, float] = {}
        for item in (data or {}).get("data", {}).get("result", []):
            value = float(item["value"][1])
            if value == value:  # NaN: no requests
                out[item["metric"].get("node", "")] = value
        return out

    async def _query_range(self, expr: str) -> dict[str, list[tuple[float, float]]]:
        now = time.time()
        params = {
            "query": expr,
            "start": str(now - HISTORY_SECONDS),
            "end": str(now),
            "step": str(HISTORY_STEP),
        }
        data = await self._json_params(self.endpoints.prometheus + "/api/v1/query_range", params)
        out: dict[str, list[tuple[float, float]]] = {}
        for item in (data or {}).get("data", {}).get("result", []):
            points = [(float(t), float(v)) for t, v in item["values"] if float(v) == float(v)]
            out[item["metric"].get("node", "")] = points
        return out

    async def _json_params(self, url: str, params: Mapping[str, str]) -> Any:
        try:
            async with self.session.get(url, params=params) as response:
                return await response.json(content_type=None) if response.status == 200 else None
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return None

    async def writer_stats(self) -> WriterStats:
        if not self.endpoints.prometheus:
            return WriterStats()
        ratio, latency, ratio_h, latency_h = await asyncio.gather(
            self._query(RATIO_QUERY),
            self._query(LATENCY_QUERY),
            self._query_range(RATIO_QUERY),
            self._query_range(LATENCY_QUERY),
        )
        return WriterStats(ratio, latency, ratio_h, latency_h)

    # ---- actions ------------------------------------------------------------------------------
    async def _post(self, url: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        try:
            async with self.session.post(
                url, json=body, headers=headers, timeout=ACT_TIMEOUT
            ) as response:
                answer = await response.json(content_type=None)
                if response.status != 200:
                    error = answer.get("error") if isinstance(answer, dict) else None
                    raise ActionFailed(error or f"{url} answered {response.status}")
                return answer
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ActionFailed(f"{url}: {exc or type(exc).__name__}") from exc

    async def power(self, action: str, target: str) -> Any:
        if not self.endpoints.admin:
            raise ActionFailed("no simulator admin API here: the stops are physical")
        body = {"action": action, "target": target}
        return await self._post(f"{self.endpoints.admin}/power", body, self._admin_headers())

    async def press(self, writer: str, button: str, hold: float | None = None) -> Any:
        if writer not in self.endpoints.writers:
            raise ActionFailed(f"unknown writer {writer!r}")
        query = f"?hold={hold:g}" if hold else ""
        # JSON, as the writer's keypad API requires of a caller (a web page cannot forge it)
        return await self._post(f"{self.endpoints.writers[writer]}/keypad/{button}{query}", {})
