"""Build a real Outlook .msg file (an OLE2 compound file laid out as [MS-OXMSG]) for the tests.

There is no Outlook here, so the file is assembled from its parts with extract-msg's own OLE
writer: top-level properties, one recipient, and attachments stored by value.
"""

from __future__ import annotations

import struct
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

PT_LONG, PT_BOOLEAN, PT_SYSTIME, PT_UNICODE, PT_BINARY = 0x0003, 0x000B, 0x0040, 0x001F, 0x0102
FLAGS = 0x00000006  # readable | writable


def _filetime(moment: datetime) -> int:
    epoch = datetime(1601, 1, 1, tzinfo=timezone.utc)
    return int((moment - epoch).total_seconds() * 10_000_000)


class _Props:
    """One __properties_version1.0 stream plus the __substg1.0_ streams of its variable-size values."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.streams: dict[str, bytes] = {}

    def fixed(self, prop_id: int, prop_type: int, value: int) -> None:
        self.entries.append(struct.pack("<IIQ", (prop_id << 16) | prop_type, FLAGS, value))

    def text(self, prop_id: int, value: str) -> None:
        data = value.encode("utf-16-le")
        self.streams[f"__substg1.0_{prop_id:04X}{PT_UNICODE:04X}"] = data
        self.entries.append(struct.pack("<IIII", (prop_id << 16) | PT_UNICODE, FLAGS, len(data) + 2, 0))

    def binary(self, prop_id: int, value: bytes) -> None:
        self.streams[f"__substg1.0_{prop_id:04X}{PT_BINARY:04X}"] = value
        self.entries.append(struct.pack("<IIII", (prop_id << 16) | PT_BINARY, FLAGS, len(value), 0))

    def stream(self, header: bytes) -> bytes:
        return header + b"".join(self.entries)


def write_msg(
    path: str | Path,
    *,
    sender: str,
    sender_name: str,
    to: str,
    subject: str,
    body: str,
    date: datetime,
    attachments: list[tuple[str, bytes]],
    message_id: str = "",
) -> Path:
    from extract_msg.ole_writer import OleWriter

    writer = OleWriter()
    top = _Props()
    top.text(0x001A, "IPM.Note")
    top.text(0x0037, subject)
    top.text(0x0C1A, sender_name)
    top.text(0x0C1F, sender)
    top.text(0x0C1E, "SMTP")
    top.text(0x5D01, sender)
    top.text(0x0042, sender_name)
    top.text(0x0065, sender)
    top.text(0x0E04, to)
    top.text(0x1000, body)
    if message_id:
        top.text(0x1035, message_id)
    headers = (
        f"From: {sender_name} <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(date)}\r\n"
        + (f"Message-ID: {message_id}\r\n" if message_id else "")
        + "MIME-Version: 1.0\r\n\r\n"
    )
    top.text(0x007D, headers)
    top.fixed(0x0039, PT_SYSTIME, _filetime(date))
    top.fixed(0x0E06, PT_SYSTIME, _filetime(date))
    top.fixed(0x0E07, PT_LONG, 0x1)  # message flags: read
    top.fixed(0x3FDE, PT_LONG, 65001)  # internet code page: utf-8
    header = struct.pack("<QIIIIQ", 0, 1, len(attachments), 1, len(attachments), 0)
    writer.addEntry("__nameid_version1.0", storage=True)
    for name in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
        writer.addEntry(f"__nameid_version1.0/{name}", data=b"")

    recip = _Props()
    recip.text(0x3001, to)
    recip.text(0x3003, to)
    recip.text(0x39FE, to)
    recip.text(0x3002, "SMTP")
    recip.fixed(0x0C15, PT_LONG, 1)  # MAPI_TO
    recip.fixed(0x3000, PT_LONG, 0)
    storage = "__recip_version1.0_#00000000"
    writer.addEntry(storage, storage=True)
    writer.addEntry(f"{storage}/__properties_version1.0", data=recip.stream(b"\0" * 8))
    for name, data in recip.streams.items():
        writer.addEntry(f"{storage}/{name}", data=data)

    for i, (filename, data) in enumerate(attachments):
        att = _Props()
        att.text(0x3707, filename)
        att.text(0x3704, filename[:8])
        att.text(0x3001, filename)
        att.text(0x370E, "application/octet-stream")
        att.binary(0x3701, data)
        att.fixed(0x3705, PT_LONG, 1)  # ATTACH_BY_VALUE
        att.fixed(0x0E21, PT_LONG, i)
        att.fixed(0x3714, PT_LONG, 0)
        storage = f"__attach_version1.0_#{i:08X}"
        writer.addEntry(storage, storage=True)
        writer.addEntry(f"{storage}/__properties_version1.0", data=att.stream(b"\0" * 8))
        for name, value in att.streams.items():
            writer.addEntry(f"{storage}/{name}", data=value)

    writer.addEntry("__properties_version1.0", data=top.stream(header))
    for name, value in top.streams.items():
        writer.addEntry(name, data=value)
    path = Path(path)
    writer.write(str(path))
    return path
