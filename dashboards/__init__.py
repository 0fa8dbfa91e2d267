"""Grafana dashboards as code (grafana-foundation-sdk), built from the inventory; every query
names only series of rackpanel.contract."""
