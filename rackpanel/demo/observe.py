"""What the panel shows, read from the running services over HTTP (never from their internals).

- the writers' LCDs: ``GET /lcd`` on each writer,
- the emergency stops: the simulator admin API ``GET /state`` (read by the power follower),
- the cluster map: every exporter's ``cassandra_endpoint_up``, max over observers (the same
  rule as the ``cassandra:endpoint_up:max`` recording rule, so one partitioned observer cannot
  paint a node red),
- firing alerts: Prometheus ``/api/v1/alerts``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

TIMEOUT = 1.0


def get_json(url: str, timeout: float = TIMEOUT) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def post_json(url: str, body: dict[str, Any] | None = None, timeout: float = 3.0) -> Any:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


@dataclass
class Lcd:
    lines: tuple[str, str] = ("", "")
    color: tuple[int, int, int] = (0, 0, 0)
    reachable: bool = False
    write_cl: str = ""
    read_cl: str = ""


def read_lcd(url: str) -> Lcd:
    try:
        data = get_json(url)
    except (urllib.error.URLError, OSError, ValueError):
        return Lcd(("(writer not", " answering)"), (0, 0, 0), False)
    lines = [*list(data.get("lines", ["", ""])), "", ""]
    r, g, b = ([*list(data.get("color", [0, 0, 0])), 0, 0, 0])[:3]
    return Lcd(
        (str(lines[0]), str(lines[1])),
        (int(bool(r)), int(bool(g)), int(bool(b))),
        True,
        str(data.get("write_cl", "")),
        str(data.get("read_cl", "")),
    )


@dataclass
class ClusterView:
    """Per endpoint address: 1 up, 0 down, None unknown (no exporter reported it)."""

    up: dict[str, int | None] = field(default_factory=dict)
    exporters_answering: int = 0


def endpoint_up_from_exporters(urls: list[str]) -> ClusterView:
    view = ClusterView()
    best: dict[str, int] = {}
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                text = response.read().decode()
        except (urllib.error.URLError, OSError):
            continue
        view.exporters_answering += 1
        for family in text_string_to_metric_families(text):
            if family.name != "cassandra_endpoint_up":
                continue
            for sample in family.samples:
                endpoint = sample.labels.get("endpoint", "")
                best[endpoint] = max(best.get(endpoint, 0), int(sample.value))
    view.up.update(best)
    return view


def _describe_alert(labels: dict[str, str]) -> str:
    where = "/".join(
        labels[k] for k in ("endpoint_dc", "endpoint_rack", "endpoint", "writer") if k in labels
    )
    return f"{labels.get('alertname', '?')} {where}".strip()


def firing_alerts(prometheus_url: str) -> list[str]:
    """Every firing alert as Prometheus evaluates it (inhibited ones included)."""
    try:
        data = get_json(prometheus_url.rstrip("/") + "/api/v1/alerts")
    except (urllib.error.URLError, OSError, ValueError):
        return []
    alerts = data.get("data", {}).get("alerts", [])
    return sorted(_describe_alert(a.get("labels", {})) for a in alerts if a["state"] == "firing")


def routed_alerts(alertmanager_url: str) -> list[str]:
    """The alerts Alertmanager would notify: active, neither silenced nor inhibited."""
    query = "/api/v2/alerts?active=true&silenced=false&inhibited=false"
    try:
        data = get_json(alertmanager_url.rstrip("/") + query)
    except (urllib.error.URLError, OSError, ValueError):
        return []
    return sorted(_describe_alert(a.get("labels", {})) for a in data)
