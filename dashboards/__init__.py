"""rackpanel part: dashboards."""
