"""What Taquilla's printed documents share: the tickets' QR codes, and text laid out cheaply."""
from .pdf import draw_qr, write_text
from .qr import QrCode, make

__all__ = ["QrCode", "draw_qr", "make", "write_text"]
