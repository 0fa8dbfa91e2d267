"""rackpanel node exporter: one per Cassandra node, ``/metrics`` on :9500.

Data flows one way: *sources* read the local node (``sources.cql``: system tables and
``system_views``; ``sources.jolokia``: JVM and failure-detector beans in one bulk POST;
``sources.proc``: the Cassandra process from ``/proc``; ``sources.gclog``: the JVM's unified
GC log) into immutable *readings* (``readings``); each source runs on its own background
thread (``runner``); after every collection the page is rebuilt from the latest readings
(``liveness`` judges each endpoint, ``families`` maps readings to metric families,
``exposition`` renders the text) and the HTTP server (``server``) only hands out the last page.
``app.Exporter`` wires it all together; ``cli`` is `rackpanel exporter`.

The metric names, types and labels are the contract of ``shared/design/metrics.md``.
"""
