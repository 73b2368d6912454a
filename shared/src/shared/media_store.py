"""Stored media: files under MEDIA_ROOT named by their sha256, and what a file's own
bytes say it is. No name that came from outside ever becomes part of a path."""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import zlib
from pathlib import Path

from shared.media_links import is_sha256

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sniff_type(data: bytes) -> str | None:
    """The type the first bytes announce (JPEG, PNG, WebP, PDF), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def is_complete(data: bytes, content_type: str) -> bool:
    """Whether a file of ``content_type`` is whole: a PNG's chunks check out up to IEND,
    a JPEG ends with its end-of-image marker, a WebP is as long as its RIFF header says."""
    if content_type == PNG:
        return _png_is_complete(data)
    if content_type == JPEG:
        # Some encoders pad after EOI; a truncated file has no EOI near its end.
        return b"\xff\xd9" in data[-64:]
    if content_type == WEBP:
        size = int.from_bytes(data[4:8], "little")
        return len(data) >= size + 8 and size >= 4
    return False


def _png_is_complete(data: bytes) -> bool:
    offset = len(_PNG_SIGNATURE)
    seen_header = False
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        end = offset + 12 + length
        if end > len(data):
            return False
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[offset + 4 : end - 4]) != crc:
            return False
        if not seen_header and kind != b"IHDR":
            return False
        seen_header = True
        if kind == b"IEND":
            return True
        offset = end
    return False


class MediaStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError("media is named by its lower-case hex sha256")
        return self.root / sha256[:2] / sha256

    def save(self, data: bytes) -> str:
        """Store ``data`` (idempotent: the same bytes land on the same name); its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed, so a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def read(self, sha256: str) -> bytes | None:
        path = self.path_for(sha256)
        return path.read_bytes() if path.is_file() else None
