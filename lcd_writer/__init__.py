"""The LCD writer: one client Pi of the panel (``rackpanel writer``).

It writes a row every ``--interval`` s (or ``--rate`` N/s with at most ``--max-in-flight``
outstanding) to ``<keyspace>.messages`` at the write CL chosen on the keypad, optionally
reads each acknowledged row back at the read CL (``--read``), and shows on a 16x2 LCD which
coordinator answered, in how many ms, or how the request failed.

HTTP (``--listen``, default 0.0.0.0:9501) — the contract the demo panel relies on:

``GET /metrics``
    Prometheus text format, the writer section of design/metrics.md: ``lcd_writer_info``,
    ``lcd_writer_consistency_level``, ``lcd_writer_requests_total``,
    ``lcd_writer_request_duration_seconds``, ``lcd_writer_coordinator_requests_total`` (only
    requests a coordinator answered: not client timeouts, not no-host),
    ``lcd_writer_cluster_hosts_up``.
``GET /lcd``
    ``{"lines": ["W LOCAL_QUORUM  ", "DC1 R2 N1 3ms   "], "color": [0, 1, 0],
    "write_cl": "LOCAL_QUORUM", "read_cl": "ONE", "menu": null}`` — each line exactly 16
    plain-ASCII characters as the LCD shows them, ``color`` the backlight (r, g, b each 0/1),
    ``menu`` null, ``"write"`` or ``"read"`` while the keypad menu is open.
``POST /keypad/<select|left|right|up|down>[?hold=SECONDS]``
    Only with ``--keypad-api`` (403 otherwise; the demo enables it on loopback). Presses a
    button; ``hold`` is how long it was held (``select?hold=2`` opens the menu). Answers the
    ``/lcd`` JSON after the press; 400 for an unknown button or a bad ``hold``.

The keypad: holding SELECT (``--hold``, 2 s) opens the write-CL menu; LEFT/RIGHT cycle the
levels offered for that operation, UP/DOWN switch between the write and read menus, SELECT
applies the level shown to the next request (no reconnection). See :mod:`lcd_writer.screen`
for every LCD text, :mod:`lcd_writer.plates` for the backends, and :mod:`lcd_writer.client`
for a client of this HTTP API.
"""
