"""The CQL native protocol server side (the versions Cassandra 5.0 speaks): wire primitives,
frames, messages, node servers."""
