"""Scrape job names (from the contract) and the rack label of writer targets."""

from __future__ import annotations

from rackpanel.contract import CASSANDRA_JOB, WRITER_JOB

# The rack label of writer targets: a client Pi sits in a DC but in no Cassandra rack.
WRITER_RACK = "client"

__all__ = ["CASSANDRA_JOB", "WRITER_JOB", "WRITER_RACK"]
