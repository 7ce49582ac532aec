"""OLE2 compound files (Word 97 .doc, WPS .wps, Excel 97 .xls, WPS .et): opened with olefile under
DocumentLimits, told apart by their streams, and refused with one-line reasons (encrypted,
corrupt, truncated, too many streams, a stream too large)."""
from __future__ import annotations

import io

from warehouse.parse.documents import DEFAULT_LIMITS, DocumentLimits, DocumentTooLarge, UnsupportedDocument

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Streams that say which application wrote the container (case-insensitive, top level).
_WORD_STREAMS = ("worddocument",)
_SHEET_STREAMS = ("workbook", "book")
# An encrypted OOXML file (a password-protected .docx/.xlsx) is an OLE container holding these.
_OOXML_ENCRYPTED = ("encryptioninfo", "encryptedpackage")


def ole_kind(data: bytes) -> str | None:
    """'word' / 'sheet' / 'encrypted' from the container's stream names, None when it is no
    readable OLE file. Reads only the directory, so detection stays cheap."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:
        return None
    try:
        names = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
    except Exception:
        return None
    finally:
        ole.close()
    if all(name in names for name in _OOXML_ENCRYPTED):
        return "encrypted"
    if any(name in names for name in _WORD_STREAMS):
        return "word"
    if any(name in names for name in _SHEET_STREAMS):
        return "sheet"
    return None


class OleReader:
    """An OLE file's streams, each read whole, under the limits."""

    def __init__(self, data: bytes, label: str, limits: DocumentLimits = DEFAULT_LIMITS):
        import olefile

        self.label, self.limits = label, limits
        if len(data) < 512 or not data.startswith(OLE_MAGIC):
            raise UnsupportedDocument(f"{label} is truncated or not an OLE2 file ({len(data):,} bytes)")
        try:
            self.ole = olefile.OleFileIO(io.BytesIO(data))
            entries = self.ole.listdir(streams=True, storages=True)
        except Exception as exc:
            raise UnsupportedDocument(f"{label} is a corrupt OLE2 file: {_reason(exc)}") from exc
        if len(entries) > limits.max_ole_streams:
            raise DocumentTooLarge(f"{label} has {len(entries):,} OLE streams (limit {limits.max_ole_streams:,})")
        self.names = {"/".join(entry).lower(): "/".join(entry) for entry in entries}
        if all(name in self.names for name in _OOXML_ENCRYPTED):
            raise UnsupportedDocument(f"{label} is encrypted and needs a password")

    def has(self, *names: str) -> str | None:
        return next((self.names[n] for n in names if n in self.names), None)

    def read(self, name: str) -> bytes:
        size = self.ole.get_size(name)
        if size > self.limits.max_ole_stream_bytes:
            raise DocumentTooLarge(f"{self.label} stream {name} has {size:,} bytes"
                                   f" (limit {self.limits.max_ole_stream_bytes:,})")
        try:
            with self.ole.openstream(name) as stream:
                data = stream.read()
        except Exception as exc:
            raise UnsupportedDocument(f"{self.label} stream {name} cannot be read (corrupt or truncated file):"
                                      f" {_reason(exc)}") from exc
        if len(data) < size:
            raise UnsupportedDocument(f"{self.label} stream {name} is cut short: the file is truncated")
        return data

    def close(self) -> None:
        self.ole.close()


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__
