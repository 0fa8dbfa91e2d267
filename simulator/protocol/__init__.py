"""The CQL native protocol (v4) server side: wire primitives, frames, messages, node servers."""
