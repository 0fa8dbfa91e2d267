"""A small client of a writer's HTTP port, for the demo panel, tests and benchmarks.

client = WriterClient("http://127.0.10.1:9501")
client.lcd()                      # {"lines": [...], "color": [...], "write_cl": ...}
client.press("select", hold=2)    # opens the menu (needs --keypad-api)
client.sample("lcd_writer_requests_total", outcome="success")   # summed over the rest
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


class WriterClient:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def lcd(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base_url}/lcd", timeout=self.timeout) as answer:
            return json.load(answer)

    def press(self, button: str, hold: float = 0.0) -> dict[str, Any]:
        query = f"?hold={hold}" if hold else ""
        request = urllib.request.Request(
            f"{self.base_url}/keypad/{button}{query}",
            data=b"{}",
            method="POST",
            headers={"Content-Type": "application/json"},  # the keypad refuses anything else
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:
            return json.load(answer)

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"{self.base_url}/metrics", timeout=self.timeout) as answer:
            return answer.read().decode()

    def samples(self, name: str) -> list[tuple[dict[str, str], float]]:
        """Every sample called ``name`` (e.g. ``lcd_writer_requests_total``) with its labels."""
        return [
            (dict(sample.labels), float(sample.value))
            for family in text_string_to_metric_families(self.metrics_text())
            for sample in family.samples
            if sample.name == name
        ]

    def sample(self, name: str, **labels: str) -> float:
        """The sum of ``name`` over the samples whose labels include ``labels``."""
        return sum(
            value
            for have, value in self.samples(name)
            if all(have.get(k) == v for k, v in labels.items())
        )
