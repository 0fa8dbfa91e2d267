"""Typed clients of the Prometheus and Alertmanager HTTP APIs (the few calls rackpanel makes).

One client per API, shared by the CLI, the tests, the benchmarks and the dashboards' probe:

    prometheus = PrometheusClient("http://127.0.0.1:9090")
    prometheus.value('cassandra:dc_nodes_up:sum')   # {(("endpoint_dc", "DC1"),): 6.0, ...}
    prometheus.alerts("CassandraRackDown", state="firing")
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

Labels = tuple[tuple[str, str], ...]


class PrometheusError(RuntimeError):
    """An API call that failed; the message names the call and what came back."""


class _Api:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=self.timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise PrometheusError(
                f"{path} {dict(params or [])}: HTTP {exc.code}: {detail}"
            ) from None

    def ready(self) -> bool:
        """``/-/ready`` answers 200 (OSError while the server is not listening yet)."""
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=self.timeout) as response:
            return response.status == 200


class PrometheusClient(_Api):
    def _data(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        body = self._get(path, params)
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {dict(params or [])}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result (``data.result``)."""
        return self._data("/api/v1/query", [("query", expr)])["result"]

    def value(self, expr: str) -> dict[Labels, float]:
        """An instant vector as {sorted label items without __name__: value}."""
        out: dict[Labels, float] = {}
        for sample in self.query(expr):
            labels = tuple(sorted((k, v) for k, v in sample["metric"].items() if k != "__name__"))
            out[labels] = float(sample["value"][1])
        return out

    def label_values(self, label: str, selector: str | None = None) -> list[str]:
        params = [("match[]", selector)] if selector else []
        return sorted(self._data(f"/api/v1/label/{label}/values", params))

    def alerts(self, name: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """Alerts Prometheus holds (pending and firing), optionally one name and state."""
        return [
            a
            for a in self._data("/api/v1/alerts")["alerts"]
            if (name is None or a["labels"].get("alertname") == name)
            and (state is None or a["state"] == state)
        ]


class AlertmanagerClient(_Api):
    def alerts(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds (active, suppressed or unprocessed; not resolved)."""
        answer = self._get("/api/v2/alerts")
        if not isinstance(answer, list):
            raise PrometheusError(f"/api/v2/alerts: expected a list, got {answer!r}")
        return [a for a in answer if name is None or a["labels"].get("alertname") == name]
