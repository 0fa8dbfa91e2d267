"""Keypad buttons, press events and the edge/hold detection polling plates need.

A press is reported once, as a :class:`Press` carrying how long the button was held.
The plate libraries only answer "is this button down now?", so :class:`ButtonPoller`
turns successive polls into presses: arrows on their down edge, SELECT either as soon as
it has been held ``hold_seconds`` (a long press, while still down, so the menu opens
under the finger as on the original panel) or on release (a short press).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


class Button(enum.Enum):
    SELECT = "select"
    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"

    @classmethod
    def parse(cls, name: str) -> Button:
        try:
            return cls(name.strip().lower())
        except ValueError:
            names = ", ".join(b.value for b in cls)
            raise ValueError(f"unknown button {name!r}; buttons are {names}") from None


@dataclass(frozen=True)
class Press:
    button: Button
    held: float = 0.0  # seconds the button was down


class ButtonPoller:
    """Turns "which buttons are down now" samples into :class:`Press` events."""

    def __init__(self, hold_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._hold = hold_seconds
        self._clock = clock
        self._down_since: dict[Button, float] = {}
        self._long_reported: set[Button] = set()

    def sample(self, down: Iterable[Button]) -> list[Press]:
        now = self._clock()
        down = set(down)
        presses: list[Press] = []
        for button in down - set(self._down_since):
            self._down_since[button] = now
            if button is not Button.SELECT:
                presses.append(Press(button))
        if Button.SELECT in down and Button.SELECT not in self._long_reported:
            held = now - self._down_since[Button.SELECT]
            if held >= self._hold:
                self._long_reported.add(Button.SELECT)
                presses.append(Press(Button.SELECT, held))
        for button in set(self._down_since) - down:
            since = self._down_since.pop(button)
            if button is Button.SELECT and button not in self._long_reported:
                presses.append(Press(button, now - since))
            self._long_reported.discard(button)
        return presses
