"""``--display terminal``: the 16x2 LCD drawn in this terminal, the keyboard as keypad.

The LCD is a framed 16x2 box whose background is the backlight colour. Keys: the arrow keys
are LEFT/RIGHT/UP/DOWN, Enter is SELECT held down (a terminal cannot see a key being held,
so Enter opens the menu while requests run, and applies the level shown inside the menu).
Ctrl-C stops the writer. The terminal is put in cbreak mode and restored on close.
"""

from __future__ import annotations

import math
import os
import select
import sys
import termios
import tty

from rackpanel.lcd_writer.keypad import Button, Press
from rackpanel.lcd_writer.plates import PlateError
from rackpanel.lcd_writer.screen import WIDTH, Color

KEYS: dict[bytes, Button] = {
    b"\x1b[A": Button.UP,
    b"\x1b[B": Button.DOWN,
    b"\x1b[C": Button.RIGHT,
    b"\x1b[D": Button.LEFT,
    b"\x1bOA": Button.UP,
    b"\x1bOB": Button.DOWN,
    b"\x1bOC": Button.RIGHT,
    b"\x1bOD": Button.LEFT,
}
ENTER = (b"\r", b"\n")
HELP = "arrows: LEFT RIGHT UP DOWN   Enter: SELECT (hold)   Ctrl-C: quit"


def _style(color: Color) -> str:
    """Black text on the backlight colour (bright ANSI background); a dark LCD is grey on black."""
    index = color[0] * 1 + color[1] * 2 + color[2] * 4
    return "\x1b[0;37;40m" if index == 0 else f"\x1b[0;30;{100 + index}m"


class TerminalPlate:
    def __init__(self) -> None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise PlateError("--display terminal needs a terminal on stdin and stdout")
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        self._out = sys.stdout
        self._lines = [" " * WIDTH, " " * WIDTH]
        self._color: Color = (0, 0, 0)
        self._pending = b""
        frame = "+" + "-" * WIDTH + "+"
        self._out.write("\x1b[?25l\x1b[2J\x1b[H")  # hide the cursor, clear, home
        self._out.write(f"{frame}\r\n|{' ' * WIDTH}|\r\n|{' ' * WIDTH}|\r\n{frame}\r\n{HELP}\r\n")
        self._out.flush()

    def write_line(self, row: int, text: str) -> None:
        self._lines[row] = text
        self._draw(row)
        self._out.flush()

    def set_color(self, color: Color) -> None:
        self._color = color
        for row in (0, 1):
            self._draw(row)
        self._out.flush()

    def _draw(self, row: int) -> None:
        self._out.write(f"\x1b[{row + 2};2H{_style(self._color)}{self._lines[row]}\x1b[0m")

    def poll(self) -> list[Press]:
        while select.select([self._fd], [], [], 0)[0]:
            chunk = os.read(self._fd, 64)
            if not chunk:
                break
            self._pending += chunk
        presses: list[Press] = []
        data, self._pending = self._pending, b""
        while data:
            if data[:1] in ENTER:
                presses.append(Press(Button.SELECT, math.inf))
                data = data[1:]
            elif data[:1] == b"\x1b":
                if len(data) < 3:  # an escape sequence cut in half: wait for the rest
                    self._pending = data
                    break
                button = KEYS.get(data[:3])
                if button is not None:
                    presses.append(Press(button))
                data = data[3:]
            else:
                data = data[1:]  # any other key: ignored
        return presses

    def close(self) -> None:
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        self._out.write("\x1b[0m\x1b[?25h\x1b[6;1H\r\n")
        self._out.flush()
