"""docs/reliability.md, rendered from benchmarks/results/reliability.json (see reliability.py)."""

from __future__ import annotations

from typing import Any

HEAD = """# Reliability

What rackpanel does with hostile and careless input, and the figures that show it. Every
figure on this page comes from `benchmarks/reliability.py` (results in
`benchmarks/results/reliability.json`); re-run it to regenerate the page:

    .venv/bin/python benchmarks/reliability.py            # ~8 minutes on 2 cores
    .venv/bin/python benchmarks/reliability.py --render-only

Measured {measured_at} on {cpus} CPUs, Python {python} (load average {load0:.1f} → {load1:.1f}).
"""

RULES = """
## What each port accepts

**Simulator admin API** (`127.0.0.1:9499`; `GET /health`, `GET /state`, `POST /power`,
`POST /reset`). It can cut nodes, so it answers only programs that mean to call it:

- the `Host` header must be the bound address (or `localhost:PORT` on a loopback bind), else
  421: a web page that rebinds its own DNS name to 127.0.0.1 cannot read `/state`;
- a `POST` needs `Content-Type: application/json` (415) — a page can send that to another
  origin only after a CORS preflight, which the API never grants — and a foreign `Origin` is
  refused (403);
- with `RACKPANEL_ADMIN_TOKEN` set, every endpoint but `/health` needs
  `Authorization: Bearer <token>` (401); without a token the simulator refuses to bind the API
  to anything but a loopback address (`rackpanel sim` exits 2 saying so);
- `POST /reset` (every node on, links up, every view UP at once) replays the hints still
  pending to their targets, as the nodes' return would, and answers how many
  (`{"reset": true, "hints_replayed": N}`): hints are never dropped;
- a request must arrive whole within 10 s of its first byte (else 408 and the connection
  closes), an idle keep-alive connection is closed after 60 s, a body over 64 KiB is answered
  413 without being read, JSON nested too deeply is a 400, a client that does not read its
  answer is cut after 10 s. The per-node Jolokia endpoints share these limits (4 MiB bodies).
- `rackpanel power` and the demo use one client,
  `rackpanel.simulator.cluster.admin_client.AdminClient`, which sends the right headers and
  the token.

**Exporter (`:9500`) and writer (`:9501`)**, one hardened standard-library server
(`rackpanel/httpd.py`), because both run on the Pis with the core dependencies only:

- HTTP/1.1 keep-alive (a scraper reuses one connection), a listen backlog of 512;
- a deadline per request kept by one watchdog thread: a half-sent request, a body shorter than
  its `Content-Length`, a one-byte-a-second sender or a stalled TLS handshake is dropped after
  10 s; an idle connection after 60 s;
- `Content-Length` must be digits and at most 64 KiB (400/413, without reading), never given
  twice with two values; chunked bodies are refused (501); HTTP/0.9 is refused at once (400);
- 404 for an unknown path, 405 with `Allow` for another method (`POST /metrics`,
  `DELETE /metrics`); at most 256 connections at once (503 past that);
- a failed client (reset, timeout, bad TLS) is one DEBUG log line, never a traceback;
- the exporter renders its page only when scraped after a source reported, and gzips it only
  for a scraper that asks: with nobody scraping it collects but never renders;
- TLS files that cannot be loaded are one line naming `--tls-cert`/`--tls-key` (exit 2);
- the writer's keypad (`POST /keypad/<button>`, with `--keypad-api`) answers loopback clients
  only unless `--keypad-api-remote`, needs `Content-Type: application/json`, refuses a foreign
  `Origin`, and a hold over 10 s.

**Secrets**: `--password-file`, `--basic-auth-file`, `--tls-key` and the demo's Grafana
password file are named in a warning when their group or others can read them (with the
`chmod 600` to run). Grafana never keeps admin/admin: the demo generates its admin password
once into `<run-dir>/grafana-admin-password` (0600) and prints where; the compose file refuses
to start Grafana without `GRAFANA_ADMIN_PASSWORD`; on the monitor Pi, grafana.ini reads it
from `/etc/grafana/admin-password`, which `rackpanel deploy apply` generates once (0640,
Grafana's group; `plan` never prints it). Grafana applies it when it creates its admin user:
on a monitor whose Grafana already ran with admin/admin, run once
`sudo grafana-cli admin reset-admin-password "$(sudo cat /etc/grafana/admin-password)"`.
Anonymous users are viewers only.
Prometheus runs without `--web.enable-lifecycle`: nothing stops or reloads it over HTTP.

**The inventory** is refused, with one short error naming the file and the field (exit 2),
before any parsing when it is not a regular file, over 1 MiB, not UTF-8, nested more than 20
levels or using YAML aliases (a few nested aliases expand into billions of values); at load
when a mapping key is a list or a mapping, a number is `.inf` or `.nan`, `admin_address` is not
`IP:PORT`, a rack has more than 26 nodes (the kiosk dashboard draws a rack as one panel with one
query per node, named A to Z), or the default simulator addresses `127.0.<dc><rack>.<n>` of a
rack are not valid IPv4 (give those nodes a `sim_address`). At most 20 problems are printed,
then "… and N more".

**The demo** restarts an exporter or a writer that exits, after 1 s, doubling to 30 s (back to
1 s after a minute up), each crash and restart one line in the headless log and in
`Supervisor.events` for the panel; if the simulator exits, the demo stops every service and
exits 1 with the simulator's status and the last lines of its log.
"""


def _chaos(c: dict[str, Any]) -> str:
    failed = ", ".join(f"{k} {v}" for k, v in sorted(c["failed"].items())) or "none"
    cuts = ", ".join(f"{k} {v}" for k, v in sorted(c["cuts"].items()))
    return f"""
## Chaos durability

One cassandra-driver client writes unique keys at QUORUM (RF 3 in each DC, 8 in flight, no
retries) for {c["seconds"]:.0f} s while a chaos loop cuts the power of random nodes and racks,
crashes nodes and cuts the DC link (0.5 to 4 s each, seed {c["seed"]}). Then `POST /reset`
restores everything (replaying {c["hints_replayed_at_reset"]} pending hints) and every
acknowledged key is read back at ALL.

| writes sent | acknowledged | failed (not acknowledged) | cuts | acknowledged writes lost |
|---:|---:|---|---|---:|
| {c["writes"]:,} | {c["acked"]:,} | {failed} | {c["cuts_total"]} ({cuts}) | **{c["acked_lost"]}** |
"""


def _fuzz(f: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {s['server']} | {s['cases']} | {s['answered']} | {s['closed']} | {s['hung']} | "
        f"{'yes' if s['still_answering'] else '**no**'} |"
        for s in f["servers"]
    )
    return f"""
## HTTP fuzzing

Each server gets the named cases of issue 17 (a text/plain power cut, a foreign Host,
`Content-Length: abc`, `-1` and 10^12, a body shorter than its length, half a request,
HTTP/0.9, DELETE, nested JSON, a 5 MB body, chunked, garbage) and random requests (methods,
paths, versions, Host, Content-Length values, huge headers, random bodies, truncation, raw
bytes), each on its own connection. "Hung" means no answer and no close within 15 s (an
answered connection may stay open: keep-alive).

| server | cases | answered | closed | hung | answers afterwards |
|---|---:|---:|---:|---:|---|
{rows}

{f["passed"]} of {f["cases"]} cases passed; tracebacks in the three programs' logs:
**{f["tracebacks"]}**.
"""


def _inputs(b: dict[str, Any]) -> str:
    failed = ", ".join(b["failed"]) or "none"
    return f"""
## Bad inputs

{b["inventory_cases"]} bad inventory files (`tests/support/bad_inputs.py`: wrong encodings,
`/dev/zero`, a folder, a 50 MB file, deep nesting, aliases, a list as a key, `.inf`, racks of
27 and 256 nodes, 3,000 bad nodes, a garbage `admin_address`, …) through
`rackpanel generate --check`, and bad exporter and writer settings (unloadable TLS files,
non-UTF-8 secret files, bad addresses and levels). A case passes when the command exits 2 with
at most 25 lines naming the file or the option, and no traceback.

**{b["passed"]} of {b["cases"]} passed.** Failed: {failed}.
"""


def render_doc(result: dict[str, Any]) -> str:
    machine = result["machine"]
    load = machine["load_average_before_after"]
    head = HEAD.format(
        measured_at=result["measured_at"], cpus=machine["cpus"], python=machine["python"],
        load0=load[0], load1=load[1],
    )  # fmt: skip
    figures = _chaos(result["chaos"]) + _fuzz(result["fuzz"]) + _inputs(result["bad_inputs"])
    return head + figures + RULES
