"""What a test reads back from a PDF page: the QR code drawn on it as filled squares (`x y w h re f`, the way
Taquilla's ticket PDFs draw one), module by module, and what a scanner reads from those modules (ZXing, a
decoder independent of the encoder that drew them)."""
from __future__ import annotations

import re
from collections.abc import Sequence

import zxingcpp

_FILLED_RECT = re.compile(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re f\b")


def qr_modules_drawn(page) -> list[list[bool]]:
    """The dark (True) and light modules of the one QR code drawn on a pypdf page, without its quiet zone;
    [] when the page draws no filled squares."""
    rects = [tuple(float(v) for v in match.groups()) for match in _FILLED_RECT.finditer(page.get_contents().get_data())]
    if not rects:
        return []
    module = min(abs(h) for _, _, _, h in rects)  # every run is one module high
    left = min(x for x, _, _, _ in rects)
    top = max(max(y, y + h) for _, y, _, h in rects)
    dark = set()
    for x, y, w, h in rects:
        row = round((top - max(y, y + h)) / module)
        first = round((x - left) / module)
        dark.update((row, col) for col in range(first, first + round(w / module)))
    size = max(max(r, c) for r, c in dark) + 1  # the finder patterns reach the symbol's last row and column
    return [[(r, c) in dark for c in range(size)] for r in range(size)]


def scanned(modules: Sequence[Sequence[bool]], pixels: int = 4, quiet_zone: int = 4) -> list[str]:
    """The texts a scanner reads from a QR code's modules (dark True) drawn at `pixels` a module with its
    quiet zone: [the payload] for a good code, [] for one no scanner can read."""
    size = (len(modules) + 2 * quiet_zone) * pixels
    margin = b"\xff" * (quiet_zone * pixels)
    lines = [b"\xff" * size] * (quiet_zone * pixels)
    for row in modules:
        line = margin + b"".join(b"\x00" * pixels if dark else b"\xff" * pixels for dark in row) + margin
        lines += [line] * pixels
    lines += [b"\xff" * size] * (quiet_zone * pixels)
    image = memoryview(b"".join(lines)).cast("B", (size, size))
    return [found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
