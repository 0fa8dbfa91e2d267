"""rackpanel part: prometheus."""
