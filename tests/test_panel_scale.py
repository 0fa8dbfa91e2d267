"""The panel on a big simulated cluster (`rackpanel scale`): it starts, shows every rack in the
right colours, and does not keep asking exporters that do not run."""

from __future__ import annotations

import asyncio
import time

from rackpanel.topology import load_inventory

from rackpanel.panel.app import panel_parts
from rackpanel.panel.sources import RETRY_FIRST, Endpoints, Sources
from rackpanel.panel.stacks import Monitoring
from tests.support.inventories import scaled_inventory_file
from tests.support.lab import loopback_octet
from tests.support.sim import running_simulator

OCTET = loopback_octet()


def test_a_silent_exporter_is_asked_again_only_after_its_wait():
    """A server that accepts and hangs up at once: the panel's first read asks each exporter,
    the next reads within RETRY_FIRST ask none, and a read after it asks each again."""
    accepted = 0

    async def scenario() -> None:
        nonlocal accepted

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal accepted
            accepted += 1
            writer.close()

        server = await asyncio.start_server(hang_up, f"127.{OCTET}.9.1", 0)
        port = server.sockets[0].getsockname()[1]
        urls = {f"n{i}": f"http://127.{OCTET}.9.1:{port}/metrics?{i}" for i in range(5)}
        sources = Sources(Endpoints(admin=None, writers={}, exporters=urls))
        try:
            assert await sources.views() == {}
            first = accepted  # each of the five asked (aiohttp retries a hung-up GET once)
            assert first >= 5
            for _ in range(3):
                assert await sources.views() == {}
            assert accepted == first  # all five are waiting
            for url in urls.values():  # as if their wait were over
                sources._silent[url] = (time.monotonic() - 0.01, RETRY_FIRST)
            await sources.views()
            assert accepted == 2 * first
            # five exporters: the wait stays at RETRY_FIRST (a thousand double it up to 30 s)
            assert {wait for _, wait in sources._silent.values()} == {RETRY_FIRST}
        finally:
            await sources.close()
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


def test_the_panel_shows_a_thousand_nodes_and_leaves_silent_exporters_waiting(tmp_path):
    path = scaled_inventory_file(tmp_path, racks=20, per_rack=25, octet=OCTET)
    inv = load_inventory(path)
    with running_simulator(path, failure_detector="realistic") as sim:
        sim.admin.power("off", "DC2/RAC7")

        async def scenario() -> tuple[dict, list[float]]:
            none = Monitoring(prometheus="", alertmanager="", grafana="")
            poller, sources = panel_parts(inv, "sim", none)
            try:
                await poller.start()
                await asyncio.sleep(3)  # the loops poll (no exporter runs: all silent)
            finally:
                await poller.stop()
                await sources.close()
            return poller.snapshot, [wait for _, wait in sources._silent.values()]

        snapshot, waits = asyncio.run(scenario())
    racks = {
        (dc["name"], rack["name"]): rack for dc in snapshot["datacenters"] for rack in dc["racks"]
    }
    assert len(racks) == 40 and sum(len(r["nodes"]) for r in racks.values()) == 1000
    assert racks[("DC2", "RAC7")]["on"] is False and racks[("DC2", "RAC6")]["on"] is True
    assert {n["state"] for n in racks[("DC2", "RAC7")]["nodes"]} == {"off"}
    # no colour in the generated inventory: the writers' own (DC1 green, DC2 blue)
    assert [dc["color"] for dc in snapshot["datacenters"]] == [[0, 1, 0], [0, 0, 1]]
    assert snapshot["exporters"] == {"answering": 0, "total": 1000}
    # the thousand silent exporters were asked once or twice in 3 s, not every half second
    assert len(waits) == 1000 and max(waits) <= 2 * RETRY_FIRST
