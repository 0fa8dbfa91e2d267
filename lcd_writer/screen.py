"""What the 16x2 LCD shows: two lines of plain ASCII and a backlight colour.

- running, after a success: ``W LOCAL_QUORUM`` / ``DC1 R2 N1 12ms`` in the coordinator
  DC's colour (a stale read shows ``STALE`` in yellow);
- after an error, in red: ``UNAVAILABLE 2/1`` (replicas required/alive),
  ``WRITE TIMEOUT``, ``READ TIMEOUT``, ``CLIENT TIMEOUT``, ``NO HOST``, ``ERROR <type>``;
- in the menu, in white: ``- CL WRITE -`` / ``< LOCAL_QUORUM >``;
- with ``--read``, one line per operation, the CL abbreviated so both fit:
  ``W:LQ DC1R2N1 3ms`` / ``R:1 DC1R3N2 1ms`` (``R:1 STALE READ``, ``W:LQ UNAVAIL 2/1``,
  ``R:Q RD TIMEOUT``, ``W:1 CLIENT TMO``, ``W:LQ NO HOST``), red when either line failed,
  yellow for a stale read, else the write coordinator DC's colour.

The HD44780 ROM shows ``\\`` and ``~`` as other glyphs, so they never reach the LCD.
"""

from __future__ import annotations

from dataclasses import dataclass

from rackpanel.lcd_writer.menu import MenuState
from rackpanel.lcd_writer.outcome import Outcome
from rackpanel.topology.model import OTHER_DC_COLOR

WIDTH = 16
Color = tuple[int, int, int]
RED: Color = (1, 0, 0)
YELLOW: Color = (1, 1, 0)
WHITE: Color = (1, 1, 1)
CYAN: Color = (0, 1, 1)

ERROR_TEXT = {
    "unavailable": "UNAVAILABLE",
    "write_timeout": "WRITE TIMEOUT",
    "read_timeout": "READ TIMEOUT",
    "client_timeout": "CLIENT TIMEOUT",
    "no_host": "NO HOST",
    "error": "ERROR",
}

ERROR_SHORT = {
    "unavailable": "UNAVAIL",
    "write_timeout": "WR TIMEOUT",
    "read_timeout": "RD TIMEOUT",
    "client_timeout": "CLIENT TMO",
    "no_host": "NO HOST",
    "error": "ERR",
}
ABBREVIATED = {
    "ONE": "1",
    "TWO": "2",
    "THREE": "3",
    "QUORUM": "Q",
    "LOCAL_ONE": "L1",
    "LOCAL_QUORUM": "LQ",
    "EACH_QUORUM": "EQ",
    "SERIAL": "S",
    "LOCAL_SERIAL": "LS",
}


@dataclass(frozen=True)
class Screen:
    lines: tuple[str, str]
    color: Color


def lcd_text(text: str) -> str:
    """Exactly 16 characters the LCD can show (plain ASCII, no backslash or tilde)."""
    safe = "".join(c if " " <= c <= "}" and c != "\\" else "?" for c in text)
    return safe[:WIDTH].ljust(WIDTH)


def screen(
    menu: MenuState,
    last: Outcome | None,
    colors: dict[str, Color],
    *,
    status: str = "CONNECTING",
    title: str = "",
) -> Screen:
    if menu.menu is not None:
        label = "- CL WRITE -" if menu.menu == "write" else "- CL READ -"
        return _screen(label.center(WIDTH), f"< {menu.candidate} >".center(WIDTH), WHITE)
    if last is None:
        return _screen(status, title, WHITE)
    head = f"{'W' if last.operation == 'write' else 'R'} {last.cl}"
    if last.ok:
        where = last.coordinator.short if last.coordinator else "?"
        if last.stale:
            return _screen(head, f"STALE {where}", YELLOW)
        color = colors.get(last.coordinator.dc, OTHER_DC_COLOR) if last.coordinator else CYAN
        return _screen(head, f"{where} {last.seconds * 1000:.0f}ms", color)
    text = ERROR_TEXT.get(last.outcome, "ERROR")
    return _screen(head, f"{text} {last.detail}".strip(), RED)


def dual_screen(
    menu: MenuState,
    write: Outcome | None,
    read: Outcome | None,
    colors: dict[str, Color],
    *,
    status: str = "CONNECTING",
    title: str = "",
) -> Screen:
    """Both the last write and the last read-back (``--read``): one line each."""
    if menu.menu is not None or write is None:
        return screen(menu, write, colors, status=status, title=title)
    lines = (_compact("W", menu.write_cl, write), _compact("R", menu.read_cl, read))
    if not write.ok or (read is not None and not read.ok):
        color = RED
    elif read is not None and read.stale:
        color = YELLOW
    else:
        color = colors.get(write.coordinator.dc, OTHER_DC_COLOR) if write.coordinator else CYAN
    return _screen(*lines, color)


def _compact(letter: str, selected: str, last: Outcome | None) -> str:
    cl = last.cl if last is not None else selected
    head = f"{letter}:{ABBREVIATED.get(cl, cl)}"
    if last is None:
        return f"{head} ..."
    where = last.coordinator.compact if last.coordinator else "?"
    if last.ok and last.stale:
        return f"{head} STALE READ"
    if last.ok:
        return f"{head} {where} {last.seconds * 1000:.0f}ms"
    return f"{head} {ERROR_SHORT.get(last.outcome, 'ERR')} {last.detail}".strip()


def _screen(line1: str, line2: str, color: Color) -> Screen:
    return Screen((lcd_text(line1), lcd_text(line2)), color)
