"""An in-memory plate for tests: records what was written, replays queued presses."""

from __future__ import annotations

import threading

from rackpanel.lcd_writer.keypad import Press
from rackpanel.lcd_writer.screen import WIDTH, Color


class MemoryPlate:
    def __init__(self) -> None:
        self.lines = [" " * WIDTH, " " * WIDTH]
        self.color: Color | None = None
        self.line_writes = 0
        self.color_writes = 0
        self._pending: list[Press] = []
        self._lock = threading.Lock()

    def write_line(self, row: int, text: str) -> None:
        assert len(text) == WIDTH, text
        self.lines[row] = text
        self.line_writes += 1

    def set_color(self, color: Color) -> None:
        self.color = color
        self.color_writes += 1

    def push(self, press: Press) -> None:
        with self._lock:
            self._pending.append(press)

    def poll(self) -> list[Press]:
        with self._lock:
            pending, self._pending = self._pending, []
        return pending

    def close(self) -> None:
        pass
