"""The importable exporter: sources on background threads, the page rebuilt after each one.

exporter = Exporter(ExporterOptions(cassandra_host="127.0.11.1", listen_port=9500))
exporter.start()      # binds the listener (OSError if taken), starts the sources
exporter.page().body  # what a scrape returns
exporter.stop()
"""

from __future__ import annotations

import logging
import threading
import time

from rackpanel.contract import families as m
from rackpanel.exporter.exposition import Family, render
from rackpanel.exporter.families import (
    SOURCES,
    SourceStatus,
    client_request_family,
    cql_families,
    exporter_families,
    hint_families,
    jvm_families,
    liveness_families,
    phi_family,
    process_families,
)
from rackpanel.exporter.liveness import EndpointView, HeartbeatClock, judge
from rackpanel.exporter.options import ExporterOptions
from rackpanel.exporter.readings import (
    CqlReading,
    EndpointId,
    GcLogReading,
    JolokiaReading,
    ProcReading,
)
from rackpanel.exporter.runner import SourceRunner
from rackpanel.exporter.server import Page, serve, tls_context
from rackpanel.exporter.sources import Source
from rackpanel.exporter.sources.cql import CqlSource
from rackpanel.exporter.sources.gclog import GcLogSource
from rackpanel.exporter.sources.jolokia import JolokiaSource
from rackpanel.exporter.sources.proc import ProcSource


def build_sources(options: ExporterOptions) -> list[Source]:
    sources: list[Source] = [
        CqlSource(
            options.cassandra_host,
            options.cassandra_port,
            options.timeout,
            options.username,
            options.password,
        )
    ]
    if options.jolokia_url:
        sources.append(JolokiaSource(options.jolokia_url, options.timeout, options.jolokia_auto))
    if options.pid_file or options.process_pattern:
        sources.append(ProcSource(options.pid_file, options.process_pattern))
    if options.gc_log:
        sources.append(GcLogSource(options.gc_log))
    return sources


# While someone scrapes (a scrape within this many seconds), the page is rendered ahead of the
# next scrape, once the sources that report together have all reported (coalesced over a tenth
# of the interval): scrapes stay as cheap as handing out bytes. With nobody scraping, nothing
# is rendered at all.
SCRAPED_RECENTLY_SECONDS = 120.0
COALESCE_FRACTION = 0.1


class Exporter:
    def __init__(self, options: ExporterOptions, sources: list[Source] | None = None) -> None:
        # The driver logs a traceback for every failed (re)connection; the sources already
        # log one line per state change.
        logging.getLogger("cassandra").setLevel(logging.CRITICAL)
        self.options = options
        self._lock = threading.Lock()
        self._statuses: dict[str, SourceStatus] = {}
        self._clock = HeartbeatClock()
        self._ages: dict[str, float] = {}
        self._page: Page | None = None  # None: a source reported since it was rendered
        self._scraped_at: float | None = None  # monotonic time of the last scrape
        self._gzip_wanted = False  # the last page was asked for gzip: compress the next ahead
        self._prerender: threading.Timer | None = None
        self.runners = [
            SourceRunner(source, options.interval, self._publish)
            for source in (sources if sources is not None else build_sources(options))
        ]
        self._server = None

    @property
    def url(self) -> str:
        scheme = "https" if self.options.tls_cert else "http"
        host = self.options.listen_host
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.options.listen_port}/metrics"

    def page(self) -> Page:
        """The exposition: rendered ahead while someone scrapes, on demand otherwise; with
        nobody scraping, the exporter collects but never renders or compresses."""
        with self._lock:
            self._scraped_at = time.monotonic()
            if self._page is None:
                self._page = self._render()
            return self._page

    def _render_ahead(self) -> None:
        with self._lock:
            self._prerender = None
            if self._page is None:
                self._page = self._render()
            page = self._page
        if self._gzip_wanted:
            _ = page.gzipped

    def start(self) -> None:
        options = self.options
        tls = tls_context(options.tls_cert, options.tls_key) if options.tls_cert else None
        self._server = serve(
            options.listen_host, options.listen_port, self.page, options.basic_auth, tls
        )
        for runner in self.runners:
            runner.start()

    def stop(self) -> None:
        with self._lock:
            if self._prerender is not None:
                self._prerender.cancel()
        if self._server is not None:
            self._server.stop()
            self._server = None
        for runner in self.runners:
            runner.stop()

    def _publish(self, status: SourceStatus) -> None:
        with self._lock:
            self._statuses[status.name] = status
            if status.name == "cql" and isinstance(status.reading, CqlReading):
                self._ages = self._clock.ages(status.reading.gossip)
            if self._page is not None:
                self._gzip_wanted = "gzipped" in vars(self._page)
            self._page = None
            scraped = self._scraped_at
            if (
                scraped is not None
                and time.monotonic() - scraped < SCRAPED_RECENTLY_SECONDS
                and self._prerender is None
            ):
                self._prerender = threading.Timer(
                    COALESCE_FRACTION * self.options.interval, self._render_ahead
                )
                self._prerender.daemon = True
                self._prerender.start()

    def _reading(self, name: str) -> object | None:
        status = self._statuses.get(name)
        return status.reading if status is not None and status.up else None

    def _render(self) -> Page:
        cql = self._reading("cql")
        jolokia = self._reading("jolokia")
        proc = self._reading("proc")
        gclog = self._reading("gclog")
        assert cql is None or isinstance(cql, CqlReading)
        assert jolokia is None or isinstance(jolokia, JolokiaReading)
        assert proc is None or isinstance(proc, ProcReading)
        assert gclog is None or isinstance(gclog, GcLogReading)
        views: list[EndpointView] = []
        endpoints: dict[str, EndpointId] = {}
        exact: bool | None = None
        if cql is not None:
            endpoints = {e.endpoint.address: e.endpoint for e in cql.gossip}
            exact = jolokia is not None
            views = judge(
                cql.gossip,
                self._ages,
                cql.local.endpoint.address,
                cql.phi_convict_threshold,
                jolokia.endpoint_up if jolokia is not None else None,
            )
        up = Family(m.UP).add(1 if cql is not None else 0)
        body = render(
            [
                up,
                *exporter_families(self._statuses),
                *cql_families(cql),
                *liveness_families(views, exact),
                phi_family(jolokia, endpoints),
                *hint_families(jolokia, endpoints),
                *jvm_families(jolokia, gclog),
                client_request_family(jolokia),
                *process_families(proc),
            ]
        )
        return Page(body)


__all__ = ["SOURCES", "Exporter", "ExporterOptions", "build_sources"]
