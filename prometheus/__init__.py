"""Prometheus: scrape config, file_sd targets, recording rules and alerts (checked against
rackpanel.contract), Alertmanager config and the API client."""
