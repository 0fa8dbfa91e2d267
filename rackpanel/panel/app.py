"""Assemble the panel for a stack: sources, poller, power action, and the web server."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from rackpanel.panel.server import make_app, serve
from rackpanel.panel.snapshot import PanelInfo, Poller
from rackpanel.panel.sources import Sources
from rackpanel.panel.stacks import (
    NO_OVERRIDES,
    Monitoring,
    addresses,
    endpoints,
    header_links,
    power_action,
)
from rackpanel.topology import Inventory

READY_LINE = "rackpanel panel: serving"


def panel_parts(
    inv: Inventory, stack: str, monitoring: Monitoring = NO_OVERRIDES
) -> tuple[Poller, Sources]:
    """The poller and the clients that both the web page and the terminal panel show."""
    ep = endpoints(inv, stack, monitoring)
    sources = Sources(ep)
    info = PanelInfo(
        inv=inv,
        mode=stack,
        address_of=addresses(inv, stack),
        stops_enabled=stack != "pi",
        links=header_links(ep),
    )
    return Poller(info, sources), sources


async def serve_panel(
    inv: Inventory,
    stack: str,
    host: str,
    port: int,
    monitoring: Monitoring = NO_OVERRIDES,
    compose_file: str = "docker-compose.yml",
) -> None:
    """Serve until SIGINT/SIGTERM."""
    poller, sources = panel_parts(inv, stack, monitoring)
    app = make_app(poller, sources, power_action(inv, stack, sources, compose_file))
    ready = asyncio.Event()
    server = asyncio.create_task(serve(app, host, port, ready))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.cancel)
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({server, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        waiter.cancel()
        server.result()  # raises the listen error
        return
    print(f"{READY_LINE} http://{host}:{port}/ ({stack})", flush=True)
    with contextlib.suppress(asyncio.CancelledError):
        await server
