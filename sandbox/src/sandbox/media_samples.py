"""Files the sandbox hosts as a phone's media, for inbound tests: good images of each
accepted type and the bad ones a fetcher must refuse."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"
SIX_MEBIBYTES = 6 * 1024 * 1024


@cache
def sample(name: str) -> tuple[bytes, str] | None:
    """``(bytes, the content type a provider would claim)`` for a known name, else None."""
    if name == "sample.jpg":
        return (SAMPLES / "sample.jpg").read_bytes(), "image/jpeg"
    if name == "sample.png":
        return (SAMPLES / "sample.png").read_bytes(), "image/png"
    if name == "sample.webp":
        return (SAMPLES / "sample.webp").read_bytes(), "image/webp"
    if name == "truncated.png":
        return (SAMPLES / "sample.png").read_bytes()[:-30], "image/png"
    if name == "document.jpg":  # a PDF wearing a .jpg name and an image type
        return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "image/jpeg"
    if name == "huge.jpg":  # a JPEG bigger than the 5 MB cap
        jpeg = (SAMPLES / "sample.jpg").read_bytes()
        return jpeg[:-2] + b"\x00" * SIX_MEBIBYTES + b"\xff\xd9", "image/jpeg"
    return None


NAMES = ("sample.jpg", "sample.png", "sample.webp", "truncated.png", "document.jpg", "huge.jpg")
