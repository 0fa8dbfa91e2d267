"""The datasources every dashboard refers to, by fixed uid (provisioning creates them)."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import DataSourceRef

PROMETHEUS_UID = "rackpanel-prometheus"
ALERTMANAGER_UID = "rackpanel-alertmanager"

PROMETHEUS = DataSourceRef(type_val="prometheus", uid=PROMETHEUS_UID)
