"""What Taquilla's printed documents share: the tickets' QR codes."""
from .pdf import draw_qr
from .qr import QrCode, make

__all__ = ["QrCode", "draw_qr", "make"]
