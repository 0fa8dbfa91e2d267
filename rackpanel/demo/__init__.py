"""The embedded demo: simulator, exporters, writers, Prometheus/Alertmanager, terminal panel."""
