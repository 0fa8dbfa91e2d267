"""rackpanel part: deploy."""
