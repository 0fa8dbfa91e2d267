"""The Adafruit RGB 16x2 LCD + keypad plate (I2C), as on the original client Pis.

``LegacyAdafruitPlate`` uses the card's own library, Adafruit-CharLCD (``pip install
'rackpanel[pi]'``). It is deprecated upstream and refuses to import off a Pi
(``RuntimeError: Could not determine platform``), so it is imported only here, only when
chosen. ``CircuitPythonPlate`` uses its successor, adafruit-circuitpython-charlcd + Blinka.
Both libraries only answer "is this button down now?": :class:`ButtonPoller` does the rest.
"""

from __future__ import annotations

from typing import Any

from rackpanel.lcd_writer.keypad import Button, ButtonPoller, Press
from rackpanel.lcd_writer.plates import PlateError
from rackpanel.lcd_writer.screen import Color


class LegacyAdafruitPlate:
    def __init__(self, hold_seconds: float) -> None:
        try:
            import Adafruit_CharLCD as LCD
        except ImportError:
            raise PlateError(
                "--display adafruit needs the Adafruit-CharLCD library: "
                "pip install 'rackpanel[pi]' (on the Pi)"
            ) from None
        except RuntimeError as exc:  # raised at import time off a Raspberry Pi
            raise PlateError(
                f"--display adafruit: Adafruit-CharLCD cannot run here: {exc}"
            ) from None
        self._lcd: Any = LCD.Adafruit_CharLCDPlate()
        self._buttons = {
            Button.SELECT: LCD.SELECT,
            Button.LEFT: LCD.LEFT,
            Button.RIGHT: LCD.RIGHT,
            Button.UP: LCD.UP,
            Button.DOWN: LCD.DOWN,
        }
        self._poller = ButtonPoller(hold_seconds)
        self._lcd.clear()

    def write_line(self, row: int, text: str) -> None:
        self._lcd.set_cursor(0, row)
        self._lcd.message(text)

    def set_color(self, color: Color) -> None:
        self._lcd.set_color(*(float(c) for c in color))

    def poll(self) -> list[Press]:
        down = [b for b, pin in self._buttons.items() if self._lcd.is_pressed(pin)]
        return self._poller.sample(down)

    def close(self) -> None:
        self._lcd.clear()
        self._lcd.set_color(0.0, 0.0, 0.0)


class CircuitPythonPlate:
    def __init__(self, hold_seconds: float) -> None:
        try:
            import board
            from adafruit_character_lcd.character_lcd_rgb_i2c import Character_LCD_RGB_I2C
        except ImportError:
            raise PlateError(
                "--display circuitpython needs adafruit-circuitpython-charlcd and "
                "adafruit-blinka (pip install them on the Pi)"
            ) from None
        try:
            self._lcd: Any = Character_LCD_RGB_I2C(board.I2C(), 16, 2)
        except (OSError, RuntimeError, ValueError) as exc:
            raise PlateError(f"--display circuitpython: cannot open the I2C plate: {exc}") from None
        self._poller = ButtonPoller(hold_seconds)
        self._lcd.clear()

    def write_line(self, row: int, text: str) -> None:
        self._lcd.cursor_position(0, row)
        self._lcd.message = text

    def set_color(self, color: Color) -> None:
        self._lcd.color = [100 * c for c in color]

    def poll(self) -> list[Press]:
        lcd = self._lcd
        states = {
            Button.SELECT: lcd.select_button,
            Button.LEFT: lcd.left_button,
            Button.RIGHT: lcd.right_button,
            Button.UP: lcd.up_button,
            Button.DOWN: lcd.down_button,
        }
        return self._poller.sample(b for b, down in states.items() if down)

    def close(self) -> None:
        self._lcd.clear()
        self._lcd.color = [0, 0, 0]
