"""The exporter's sources. Each has a ``name`` and a blocking ``collect()`` that returns a
reading (see :mod:`exporter.readings`) or raises :class:`SourceError` (or any exception) with
a one-line reason; the runner times it, counts failures and logs state changes."""

from __future__ import annotations

from typing import Protocol


class SourceError(Exception):
    """A collection failed for a reason worth one log line (no traceback)."""


class Source(Protocol):
    name: str

    def collect(self) -> object: ...

    def close(self) -> None: ...
