"""How each node stands as its peers see it: up, down, off, crashed, partitioned or unknown.

Pure functions of what the running services say, shared by the terminal and the web panel:

- ``views``: per observing node, the ``cassandra_endpoint_up`` it exports for each endpoint
  (only observers whose exporter answered take part);
- ``power``: the simulator's ``/state`` (who is powered, who crashed, which DC links are cut)
  when the panel runs against the simulator; empty elsewhere (compose, the Pis).

A node is *partitioned* when the observers of some DC judge it up and those of another DC judge
it down: each DC's view of the other is shown, as a cut DC link makes them disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rackpanel.topology import Inventory

Views = Mapping[str, Mapping[str, int]]  # observer node name -> endpoint address -> 0/1


@dataclass(frozen=True)
class NodeState:
    name: str
    address: str
    state: str  # up, down, off, crashed, partitioned, unknown
    by_dc: dict[str, int | None]  # observer DC -> 1 (some observer sees it up), 0, None
    detail: str


def dc_views(
    inv: Inventory, views: Views, address: str, dc_of: Mapping[str, str]
) -> dict[str, int | None]:
    """Per observer DC: 1 if any of its answering observers sees the endpoint up, else 0.
    ``dc_of``: node name -> its DC. Only the observers that report views are read (a
    1,000-node inventory with an exporter per rack has 40)."""
    out: dict[str, int | None] = {dc.name: None for dc in inv.datacenters}
    for observer, seen_by in views.items():
        seen = seen_by.get(address)
        dc = dc_of.get(observer)
        if seen is None or dc is None:
            continue
        out[dc] = max(out[dc] or 0, int(seen))
    return out


def power_of(power: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The simulator's ``/state`` by node name (empty without the simulator)."""
    return {n.get("name", ""): n for n in power.get("nodes", [])}


def node_states(
    inv: Inventory,
    views: Views,
    powered: Mapping[str, Mapping[str, Any]],
    address_of: Mapping[str, str],
) -> list[NodeState]:
    """Every node of the inventory, in inventory order (``powered``: :func:`power_of`)."""
    places = list(inv.nodes())
    dc_of = {place.name: place.dc for place in places}
    states = []
    for place in places:
        address = address_of[place.name]
        by_dc = dc_views(inv, views, address, dc_of)
        sim = powered.get(place.name, {})
        known = {dc: v for dc, v in by_dc.items() if v is not None}
        if sim and not sim.get("powered", True):
            state = "crashed" if sim.get("crashed") else "off"
            detail = "process killed" if state == "crashed" else "power cut"
        elif not known:
            state, detail = "unknown", "no exporter reports it"
        elif all(known.values()):
            state, detail = "up", "seen up by " + ", ".join(known)
        elif not any(known.values()):
            state, detail = "down", "seen down by " + ", ".join(known)
        else:
            state = "partitioned"
            up = [dc for dc, v in known.items() if v]
            down = [dc for dc, v in known.items() if not v]
            detail = f"seen up by {', '.join(up)}, down by {', '.join(down)}"
        states.append(NodeState(place.name, address, state, by_dc, detail))
    return states


def link_up(power: Mapping[str, Any], target: str) -> bool | None:
    """The simulator's word on a DC link (``link:DC1-DC2``); None when it is not known."""
    for link in power.get("links", []):
        if link.get("link") == target:
            return bool(link.get("up", True))
    return None


def rack_on(
    powered: Mapping[str, Mapping[str, Any]], names: list[str], states: Mapping[str, NodeState]
) -> bool | None:
    """A rack's stop: ON while any of its nodes has power (``powered``: :func:`power_of`).
    Without the simulator's word (compose, the Pis) a rack whose every node is judged down
    counts as cut."""
    if any(n in powered for n in names):
        return any(powered.get(n, {}).get("powered", True) for n in names)
    judged = [states[n].state for n in names if states[n].state != "unknown"]
    if not judged:
        return None
    return any(state != "down" for state in judged)
