"""The keypad's consistency-level menu, as on the panel.

While requests run (no menu open), holding SELECT for ``hold_seconds`` opens the write-CL
menu. In a menu, LEFT/RIGHT cycle through the levels offered for that operation, UP/DOWN
switch between the write-CL and read-CL menus (each keeps the level it was browsed to while
the menu stays open), and SELECT applies the level shown and closes the menu; ``cancel()``
(Escape on the terminal panel) closes it without changing anything. The next request uses
the level applied: nothing reconnects. A menu left alone for ``idle_close_seconds`` closes
without changing anything.

The menu is shared by the UI loop, the HTTP keypad and the request threads: every public
method takes its lock, and listeners are called outside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rackpanel.lcd_writer.consistency import OPERATIONS, Operation, check_level, offered
from rackpanel.lcd_writer.keypad import Button, Press

Listener = Callable[[Operation, str], None]


@dataclass(frozen=True)
class MenuState:
    write_cl: str
    read_cl: str
    menu: Operation | None  # which menu is open, if any
    candidate: str | None  # the level the open menu shows

    def selected(self, operation: Operation) -> str:
        return self.write_cl if operation == "write" else self.read_cl


class CLMenu:
    def __init__(
        self,
        write_cl: str,
        read_cl: str,
        *,
        hold_seconds: float = 2.0,
        idle_close_seconds: float = 20.0,
        conditional: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._selected: dict[Operation, str] = {
            "write": check_level("write", write_cl, conditional),
            "read": check_level("read", read_cl, conditional),
        }
        self._conditional = conditional
        self._hold = hold_seconds
        self._idle_close = idle_close_seconds
        self._clock = clock
        self._menu: Operation | None = None
        self._candidate: str | None = None
        self._browsed: dict[Operation, str] = {}  # where each menu was left while open
        self._last_press = clock()
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        """``listener(operation, level)`` runs after every applied change (and once now)."""
        self._listeners.append(listener)
        for operation in OPERATIONS:
            listener(operation, self._selected[operation])

    def state(self) -> MenuState:
        with self._lock:
            self._close_if_idle()
            return self._state()

    def selected(self, operation: Operation) -> str:
        """The level requests use now (called per request: a dict read, atomic, no lock)."""
        return self._selected[operation]

    def press(self, press: Press) -> MenuState:
        applied: tuple[Operation, str] | None = None
        with self._lock:
            self._close_if_idle()
            self._last_press = self._clock()
            if self._menu is None:
                if press.button is Button.SELECT and press.held >= self._hold:
                    self._open("write")
            elif press.button in (Button.LEFT, Button.RIGHT):
                self._cycle(-1 if press.button is Button.LEFT else 1)
            elif press.button in (Button.UP, Button.DOWN):
                assert self._candidate is not None
                self._browsed[self._menu] = self._candidate
                self._open("read" if self._menu == "write" else "write")
            elif press.button is Button.SELECT:
                applied = (self._menu, self._candidate or self._selected[self._menu])
                self._selected[self._menu] = applied[1]
                self._close()
            state = self._state()
        if applied is not None:
            for listener in self._listeners:
                listener(*applied)
        return state

    def cancel(self) -> MenuState:
        """Close an open menu without applying anything."""
        with self._lock:
            self._last_press = self._clock()
            self._close()
            return self._state()

    # ---- internals (lock held) ------------------------------------------------------------
    def _state(self) -> MenuState:
        return MenuState(
            self._selected["write"], self._selected["read"], self._menu, self._candidate
        )

    def _open(self, operation: Operation) -> None:
        self._menu = operation
        self._candidate = self._browsed.get(operation, self._selected[operation])

    def _close(self) -> None:
        self._menu = self._candidate = None
        self._browsed.clear()

    def _cycle(self, step: int) -> None:
        assert self._menu is not None and self._candidate is not None
        levels = offered(self._menu, self._conditional)
        self._candidate = levels[(levels.index(self._candidate) + step) % len(levels)]

    def _close_if_idle(self) -> None:
        if self._menu is not None and self._clock() - self._last_press > self._idle_close:
            self._close()
