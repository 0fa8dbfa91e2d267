"""LCD + keypad backends behind one small interface.

A plate writes one 16-character line at a time, sets the backlight colour (r, g, b each 0
or 1) and reports keypad presses when polled. :class:`PlateView` sits in front of it and
rewrites only what changed (a ``clear()`` per refresh flickers and costs I2C time).

Backends: ``adafruit`` (the legacy Adafruit-CharLCD library of the original panel),
``circuitpython`` (its successor, adafruit-circuitpython-charlcd), ``terminal`` (draws the
LCD in this terminal; arrow keys and Enter are the keypad), ``none`` (headless), and
:class:`tests.support.memory_plate.MemoryPlate` for tests. Hardware libraries are imported
only when their backend is chosen.
"""

from __future__ import annotations

from typing import Protocol

from rackpanel.lcd_writer.keypad import Press
from rackpanel.lcd_writer.screen import Color, Screen

BACKENDS = ("terminal", "adafruit", "circuitpython", "none")


class PlateError(RuntimeError):
    """The chosen backend cannot run here (library missing, no terminal, no I2C)."""


class Plate(Protocol):
    def write_line(self, row: int, text: str) -> None: ...

    def set_color(self, color: Color) -> None: ...

    def poll(self) -> list[Press]: ...

    def close(self) -> None: ...


class NullPlate:
    """``--display none``: nothing shown, no keypad (the HTTP keypad still works)."""

    def write_line(self, row: int, text: str) -> None:
        pass

    def set_color(self, color: Color) -> None:
        pass

    def poll(self) -> list[Press]:
        return []

    def close(self) -> None:
        pass


class PlateView:
    """Shows :class:`Screen` values on a plate, touching only the lines and colour that changed."""

    def __init__(self, plate: Plate) -> None:
        self.plate = plate
        self._lines: list[str | None] = [None, None]
        self._color: Color | None = None

    def show(self, screen: Screen) -> None:
        if screen.color != self._color:
            self.plate.set_color(screen.color)
            self._color = screen.color
        for row, text in enumerate(screen.lines):
            if text != self._lines[row]:
                self.plate.write_line(row, text)
                self._lines[row] = text


def make_plate(name: str, hold_seconds: float) -> Plate:
    if name == "none":
        return NullPlate()
    if name == "terminal":
        from rackpanel.lcd_writer.plates.terminal import TerminalPlate

        return TerminalPlate()
    if name == "adafruit":
        from rackpanel.lcd_writer.plates.adafruit import LegacyAdafruitPlate

        return LegacyAdafruitPlate(hold_seconds)
    if name == "circuitpython":
        from rackpanel.lcd_writer.plates.adafruit import CircuitPythonPlate

        return CircuitPythonPlate(hold_seconds)
    raise PlateError(f"unknown display {name!r}; use one of {', '.join(BACKENDS)}")
