"""Draws public/favicon.ico (served at /favicon.ico): a white price tag on the app's blue.

Run `.venv/bin/python -m config.draw_favicon` after changing it; the ICO holds one 32x32 PNG
(every current browser reads PNG-in-ICO), written with the standard library alone.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

SIZE = 32
BLUE = (0x2F, 0x5B, 0xD3, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
OUTPUT = Path(__file__).resolve().parent.parent / "public" / "favicon.ico"


def _inside_rounded_square(x: float, y: float, radius: float = 7) -> bool:
    cx = min(max(x, radius), SIZE - radius)
    cy = min(max(y, radius), SIZE - radius)
    return math.hypot(x - cx, y - cy) <= radius


def _inside_tag(x: float, y: float) -> bool:
    """A tag pointing up-left: a square turned 45 degrees, cut off at the lower right."""
    u, v = (x + y) / math.sqrt(2), (y - x) / math.sqrt(2)  # axes along the diagonals
    centre_u = SIZE / math.sqrt(2)
    return abs(v) <= 7.5 and centre_u - 13 <= u <= centre_u + 11 and abs(v) <= u - centre_u + 20


def _in_hole(x: float, y: float) -> bool:
    return math.hypot(x - 11.5, y - 11.5) <= 2.6


def pixel(x: int, y: int) -> tuple[int, int, int, int]:
    px, py = x + 0.5, y + 0.5
    if not _inside_rounded_square(px, py):
        return CLEAR
    if _inside_tag(px, py) and not _in_hole(px, py):
        return WHITE
    return BLUE


def png_bytes() -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(SIZE)) for y in range(SIZE)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def ico_bytes() -> bytes:
    image = png_bytes()
    directory = struct.pack("<HHH", 0, 1, 1)  # reserved, type 1 = icon, one image
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return directory + entry + image


if __name__ == "__main__":
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_bytes(ico_bytes())
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
