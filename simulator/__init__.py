"""The embedded Cassandra cluster simulator: many nodes in one process, each speaking the CQL
native protocol on its own loopback address (see :mod:`rackpanel.simulator.core`)."""
