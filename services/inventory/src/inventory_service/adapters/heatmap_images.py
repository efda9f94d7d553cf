"""The heat map as a picture: SVG text, or a PNG drawn directly with Pillow (no SVG rasteriser)."""
from __future__ import annotations

import io
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw, ImageFont

from ..domain.heatmap import (
    BACKGROUND,
    INK,
    LEGEND_ITEM_PX,
    LEGEND_SWATCH_PX,
    HeatMap,
    PlacedSeat,
    hex_color,
)


def seat_title(placed: PlacedSeat) -> str:
    seat = placed.seat
    where = f"row {seat.row}, seat {seat.number}" if seat.row or seat.number else ""
    status = seat.status
    if seat.sold_at is not None and seat.status == "sold":
        status += f" {seat.sold_at.isoformat(timespec='minutes')}"
    return " · ".join(part for part in (seat.label, where, status) if part)


def _legend_positions(heat_map: HeatMap) -> list[tuple[int, int]]:
    top = heat_map.legend_top + (heat_map.height - heat_map.legend_top - LEGEND_SWATCH_PX) // 2
    return [(12 + i * LEGEND_ITEM_PX, top) for i in range(len(heat_map.legend))]


def render_svg(heat_map: HeatMap, title: str) -> str:
    w, h, r = heat_map.width, heat_map.height, round(heat_map.radius, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        f'font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="{hex_color(BACKGROUND)}"/>',
        '<g class="seats">',
    ]
    for placed in heat_map.seats:
        parts.append(
            f'<circle cx="{placed.cx}" cy="{placed.cy}" r="{r}" fill="{hex_color(placed.color)}" '
            f'data-unit-id="{placed.seat.unit_id}" data-status="{placed.seat.status}">'
            f"<title>{escape(seat_title(placed))}</title></circle>")
    parts.append('</g><g class="legend">')
    for item, (x, y) in zip(heat_map.legend, _legend_positions(heat_map), strict=True):
        parts.append(f'<rect x="{x}" y="{y}" width="{LEGEND_SWATCH_PX}" height="{LEGEND_SWATCH_PX}" '
                     f'fill="{hex_color(item.color)}" data-status={quoteattr(item.status)}/>'
                     f'<text x="{x + LEGEND_SWATCH_PX + 6}" y="{y + LEGEND_SWATCH_PX - 2}" '
                     f'fill="{hex_color(INK)}">{escape(item.label)}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def render_png(heat_map: HeatMap) -> bytes:
    image = Image.new("RGB", (heat_map.width, heat_map.height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    r = heat_map.radius
    for placed in heat_map.seats:
        draw.ellipse((placed.cx - r, placed.cy - r, placed.cx + r, placed.cy + r), fill=placed.color)
    font = ImageFont.load_default()
    for item, (x, y) in zip(heat_map.legend, _legend_positions(heat_map), strict=True):
        draw.rectangle((x, y, x + LEGEND_SWATCH_PX - 1, y + LEGEND_SWATCH_PX - 1), fill=item.color)
        draw.text((x + LEGEND_SWATCH_PX + 6, y), item.label, fill=INK, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
