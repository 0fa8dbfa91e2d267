"""One background thread per source: collect on its own interval, never inside a scrape.

Each collection is timed and its outcome published as a :class:`SourceStatus`. A failure is
counted and logged once when the source goes down (one line, no traceback), and once more when
it comes back. A source raising :class:`SourceAbsent` (Jolokia auto-detection that never
found an agent) is neither counted nor logged again; it is retried every ``absent_retry``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from rackpanel.exporter.families import SourceStatus
from rackpanel.exporter.sources import Source, SourceError

log = logging.getLogger("exporter")


class SourceAbsent(SourceError):
    """The source is not there at all (optional and never seen), as opposed to failing."""


class SourceRunner:
    def __init__(
        self,
        source: Source,
        interval: float,
        publish: Callable[[SourceStatus], None],
        absent_retry: float = 30.0,
    ) -> None:
        self.source = source
        self.interval = interval
        self.publish = publish
        self.absent_retry = absent_retry
        self.errors = 0
        self._up: bool | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"exporter-{source.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, join_timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(join_timeout)
        self.source.close()

    def collect_once(self) -> float:
        """Collect and publish; returns the delay until the next collection."""
        started = time.monotonic()
        delay = self.interval
        try:
            reading = self.source.collect()
        except SourceAbsent as exc:
            if self._up is not False:
                log.info(
                    "source %s absent: %s (retrying every %.0f s)",
                    self.source.name,
                    exc,
                    self.absent_retry,
                )
            self._up = False
            self.publish(SourceStatus(self.source.name, False, None, self.errors, None))
            return self.absent_retry
        except Exception as exc:  # every failure is one line in the log, never a traceback
            duration = time.monotonic() - started
            self.errors += 1
            if self._up is not False:
                reason = (
                    str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
                )
                log.warning("source %s down: %s", self.source.name, reason)
            self._up = False
            self.publish(SourceStatus(self.source.name, False, duration, self.errors, None))
            return max(0.0, delay - duration)
        duration = time.monotonic() - started
        if self._up is not True:
            log.info("source %s up (%.0f ms)", self.source.name, duration * 1000)
        self._up = True
        self.publish(SourceStatus(self.source.name, True, duration, self.errors, reading))
        return max(0.0, delay - duration)

    def _loop(self) -> None:
        delay = self.collect_once()
        while not self._stop.wait(delay):
            delay = self.collect_once()
