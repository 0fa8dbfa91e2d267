"""rackpanel part: exporter."""
