"""PNG previews of the dashboards' layouts, for the README (Grafana is not on every machine).

Each panel is drawn where Grafana puts it (24 columns, 30 px rows with 8 px gaps) with its
title, its kind and what its queries are called, on Grafana's dark theme colours. The kiosk is
drawn at the panel monitor's 1920x1080, so the picture also shows that nothing scrolls.

    python -m tests.support.preview [--inventory inventory.yml] [--out docs/img]

Needs Pillow (a dev dependency), imported only here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rackpanel.dashboards.layout import (
    GAP_PX,
    GRID_COLUMNS,
    PAGE_PADDING_PX,
    ROW_PX,
    SCREEN_HEIGHT_PX,
    box_of,
)

WIDTH_PX = 1920
BACKGROUND, PANEL, TEXT, MUTED = "#111217", "#181b1f", "#ccccdc", "#8e8e9a"
KIND_COLOURS = {
    "stat": "#73bf69",
    "timeseries": "#5794f2",
    "state-timeline": "#b877d9",
    "bargauge": "#ff9830",
    "table": "#fade2a",
    "heatmap": "#f2495c",
    "row": MUTED,
}


def _legends(panel: dict[str, Any]) -> str:
    names = [t.get("legendFormat") or t.get("refId", "") for t in panel.get("targets") or []]
    return ", ".join(n.replace("{{", "").replace("}}", "") for n in names if n)


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _stat_tiles(draw: Any, panel: dict[str, Any], area: tuple[float, ...], font: Any) -> None:
    """One tile per query, stacked like nodes in a rack when the stat is horizontal."""
    targets = panel.get("targets") or []
    left, top, right, bottom = area
    stacked = (panel.get("options") or {}).get("orientation") == "horizontal"
    count = max(len(targets), 1)
    for i, target in enumerate(targets):
        if stacked:
            step = (bottom - top) / count
            tile = (left, top + i * step, right, top + (i + 1) * step - 4)
        else:
            step = (right - left) / count
            tile = (left + i * step, top, left + (i + 1) * step - 4, bottom)
        draw.rounded_rectangle(tile, radius=3, fill="#1f3b22", outline="#2f5a33")
        name = (target.get("legendFormat") or "value").replace("{{", "").replace("}}", "")
        name = _fit(draw, name, font, int(tile[2] - tile[0] - 8))
        centre = ((tile[0] + tile[2]) / 2, (tile[1] + tile[3]) / 2)
        draw.text(centre, name, fill=TEXT, font=font, anchor="mm")


def render(board: dict[str, Any], path: Path, *, min_height: int = 0) -> Path:
    """Draw ``board``'s grid into a PNG at ``path``; returns the path."""
    from PIL import Image, ImageDraw, ImageFont

    column = (WIDTH_PX - 2 * PAGE_PADDING_PX) / GRID_COLUMNS
    step = ROW_PX + GAP_PX
    panels = board.get("panels") or []
    rows = max((box_of(p).bottom for p in panels), default=0)
    height = max(min_height, 2 * PAGE_PADDING_PX + rows * step - GAP_PX)
    image = Image.new("RGB", (WIDTH_PX, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=17)
    small_font = ImageFont.load_default(size=14)
    for panel in panels:
        box = box_of(panel)
        left = PAGE_PADDING_PX + box.x * column + GAP_PX / 2
        top = PAGE_PADDING_PX + box.y * step
        right = PAGE_PADDING_PX + box.right * column - GAP_PX / 2
        bottom = top + box.h * step - GAP_PX
        kind = panel.get("type", "?")
        colour = KIND_COLOURS.get(kind, MUTED)
        inner = int(right - left - 16)
        if kind == "row":
            draw.text((left, top + 6), panel.get("title", ""), fill=TEXT, font=title_font)
            draw.line((left, bottom, right, bottom), fill=colour, width=1)
            continue
        draw.rounded_rectangle((left, top, right, bottom), radius=4, fill=PANEL, outline=colour)
        title = _fit(draw, panel.get("title", ""), title_font, inner)
        draw.text((left + 8, top + 6), title, fill=TEXT, font=title_font)
        if kind == "stat":
            _stat_tiles(draw, panel, (left + 8, top + 30, right - 8, bottom - 8), small_font)
        else:
            detail = _fit(draw, f"{kind}: {_legends(panel)}", small_font, inner)
            draw.text((left + 8, top + 30), detail, fill=MUTED, font=small_font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
    return path


def main(argv: list[str] | None = None) -> int:
    from rackpanel.dashboards import kiosk
    from rackpanel.dashboards.catalog import dashboards
    from rackpanel.topology import load_inventory

    parser = argparse.ArgumentParser(prog="python -m tests.support.preview", description=__doc__)
    parser.add_argument("--inventory", default=None)
    parser.add_argument("--out", default="docs/img", help="directory of the PNGs")
    args = parser.parse_args(argv)
    for uid, board in dashboards(load_inventory(args.inventory)).items():
        screen = SCREEN_HEIGHT_PX if uid == kiosk.UID else 0
        print(render(board, Path(args.out) / f"{uid}.png", min_height=screen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
