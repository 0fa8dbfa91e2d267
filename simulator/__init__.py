"""rackpanel part: simulator."""
