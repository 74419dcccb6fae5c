"""The protobuf wire format, as far as the tests write and read it by hand (no generated Python code):
varints, length-delimited fields, and a message split into (field number, value) pairs."""

from __future__ import annotations


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(buf: bytes, i: int) -> tuple[int, int]:
    """The varint at i, and the index after it."""
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def field(num: int, payload: bytes | str) -> bytes:
    """A length-delimited field (strings, bytes, embedded messages)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(num << 3 | 2) + varint(len(data)) + data


def fields(buf: bytes) -> list[tuple[int, bytes | int]]:
    """(field number, value) pairs of one message: bytes for length-delimited fields, int for varints; fixed-size
    fields are skipped."""
    out, i = [], 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(buf, i)
            out.append((num, v))
        elif wire == 2:
            n, i = read_varint(buf, i)
            out.append((num, buf[i:i + n]))
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out
