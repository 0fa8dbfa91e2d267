"""The dashboards' generator for ``rackpanel generate``: JSON dashboards and provisioning.

The committed provisioning is for the monitor host, where Grafana runs beside Prometheus and
Alertmanager (loopback URLs) and reads the dashboards from ``MONITOR_DASHBOARDS_DIR``.
"""

from __future__ import annotations

from rackpanel.dashboards.catalog import json_files
from rackpanel.dashboards.provisioning import KIOSK_PATH, kiosk_url, provisioning
from rackpanel.prometheus.profiles import get_profile
from rackpanel.topology import Inventory

PROVISIONING_DIR = "dashboards/provisioning"
MONITOR_DASHBOARDS_DIR = "/var/lib/grafana/dashboards/rackpanel"

OWNED_GLOBS = [
    "dashboards/json/*.json",
    f"{PROVISIONING_DIR}/**/*.yml",
    f"{PROVISIONING_DIR}/*.ini",
]


def files(inv: Inventory) -> dict[str, str]:
    prometheus_port, alertmanager_port, _ = inv.monitor_ports
    rendered = provisioning(
        f"http://127.0.0.1:{prometheus_port}",
        f"http://127.0.0.1:{alertmanager_port}",
        MONITOR_DASHBOARDS_DIR,
        scrape_interval=get_profile(inv.prometheus.profile).scrape_interval,
    )
    out = json_files(inv)
    out.update({f"{PROVISIONING_DIR}/{rel}": text for rel, text in rendered.items()})
    return out


__all__ = ["KIOSK_PATH", "OWNED_GLOBS", "files", "kiosk_url", "provisioning"]
