"""Grafana's 24-column grid: explicit panel placement and the checks a layout must pass.

Grafana draws one grid row as 30 px plus an 8 px gap and splits the width into 24 columns.
On the panel monitor (1920x1080, Chromium in kiosk mode, so no browser chrome and no Grafana
header) a dashboard of ``KIOSK_ROWS`` rows fills the screen without scrolling:
27 rows x 38 px - 8 px = 1018 px, plus Grafana's 2 x 16 px page padding = 1050 px <= 1080 px.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as models

GRID_COLUMNS = 24
ROW_PX, GAP_PX, PAGE_PADDING_PX = 30, 8, 16
SCREEN_HEIGHT_PX = 1080
KIOSK_ROWS = (SCREEN_HEIGHT_PX - 2 * PAGE_PADDING_PX + GAP_PX) // (ROW_PX + GAP_PX)


@dataclass(frozen=True)
class Box:
    """A rectangle on the grid, in columns (x, w) and rows (y, h)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )

    def columns(self, weights: Sequence[int], h: int | None = None) -> list[Box]:
        """Split this box left to right in proportion to ``weights`` (widths sum to ``w``)."""
        widths = split(self.w, weights)
        boxes, x = [], self.x
        for width in widths:
            boxes.append(Box(x, self.y, width, self.h if h is None else h))
            x += width
        return boxes

    def below(self, h: int) -> Box:
        """The box of height ``h`` right under this one, same columns."""
        return Box(self.x, self.bottom, self.w, h)


def split(total: int, weights: Sequence[int]) -> list[int]:
    """Integer widths proportional to ``weights`` that add up to exactly ``total``."""
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("weights must be positive")
    if total < len(weights):
        raise ValueError(f"cannot split {total} columns into {len(weights)} parts")
    whole = sum(weights)
    widths = [max(1, total * w // whole) for w in weights]
    remainder = total - sum(widths)
    order = sorted(range(len(weights)), key=lambda i: -(total * weights[i] % whole))
    for i in order[: max(remainder, 0)]:
        widths[i] += 1
    while sum(widths) > total:
        widths[widths.index(max(widths))] -= 1
    return widths


class Canvas:
    """Panels with explicit grid positions, numbered 1, 2, ... in placement order."""

    def __init__(self) -> None:
        self.panels: list[models.Panel | models.RowPanel] = []

    def place(self, panel: cogbuilder.Builder[models.Panel], box: Box) -> None:
        built = panel.build()
        built.id_val = len(self.panels) + 1
        built.grid_pos = models.GridPos(h=box.h, w=box.w, x=box.x, y=box.y)
        self.panels.append(built)

    def row(self, title: str, y: int) -> None:
        """A section header across the whole width at row ``y`` (one grid row high)."""
        self.panels.append(
            models.RowPanel(
                title=title,
                id_val=len(self.panels) + 1,
                collapsed=False,
                grid_pos=models.GridPos(h=1, w=GRID_COLUMNS, x=0, y=y),
                panels=[],
            )
        )

    def into(self, dashboard: cogbuilder.Builder[models.Dashboard]) -> models.Dashboard:
        built = dashboard.build()
        built.panels = list(self.panels)
        return built


def box_of(panel: dict[str, Any]) -> Box:
    pos = panel.get("gridPos") or {}
    return Box(
        int(pos.get("x", 0)), int(pos.get("y", 0)), int(pos.get("w", 0)), int(pos.get("h", 0))
    )


def layout_problems(dashboard: dict[str, Any], *, max_rows: int | None = None) -> list[str]:
    """Why a dashboard's grid is wrong: duplicate ids, out of 24 columns, overlaps, too tall."""
    problems: list[str] = []
    panels = dashboard.get("panels") or []
    seen: dict[int, str] = {}
    placed: list[tuple[str, Box]] = []
    for panel in panels:
        name = f"panel {panel.get('id')} {panel.get('title', '')!r}"
        pid = panel.get("id")
        if not isinstance(pid, int):
            problems.append(f"{name}: no integer id")
        elif pid in seen:
            problems.append(f"{name}: id {pid} already used by {seen[pid]}")
        else:
            seen[pid] = name
        if "gridPos" not in panel:
            problems.append(f"{name}: no gridPos")
            continue
        box = box_of(panel)
        if box.w < 1 or box.h < 1 or box.x < 0 or box.y < 0:
            problems.append(f"{name}: invalid gridPos {box}")
        if box.right > GRID_COLUMNS:
            problems.append(f"{name}: ends at column {box.right}, past {GRID_COLUMNS}")
        if max_rows is not None and box.bottom > max_rows:
            problems.append(f"{name}: ends at row {box.bottom}, past the screen's {max_rows}")
        for other_name, other in placed:
            if box.overlaps(other):
                problems.append(f"{name}: overlaps {other_name}")
        placed.append((name, box))
    return problems
