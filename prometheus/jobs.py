"""Scrape job names and the target labels every job carries (shared by targets and rules)."""

from __future__ import annotations

CASSANDRA_JOB = "cassandra"
WRITER_JOB = "lcd_writer"

# Labels put on every target through file_sd, so `up` and every scraped series carry them.
TARGET_LABELS = ("cluster", "dc", "rack", "node")

# The rack label of writer targets: a client Pi sits in a DC but in no Cassandra rack.
WRITER_RACK = "client"
