"""rackpanel part: lcd_writer."""
