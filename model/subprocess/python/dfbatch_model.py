"""The model side of the dfbatch subprocess protocol, version 1, for Python.

dfbatch starts a model process once per executor, writes batches of rows to its
stdin and reads the scored rows from its stdout (see model/subprocess/PROTOCOL.md).
A model script ends with::

    import dfbatch_model

    def predict(df):          # a pandas DataFrame in, a DataFrame out
        ...

    if __name__ == "__main__":
        dfbatch_model.serve(predict)

or is started as ``python3 -m dfbatch_model path/to/predict.py``, which loads the
file and serves its module-level ``predict`` function or ``Model`` (a class, which
is instantiated, or an object with a ``predict`` method).

Once serving, ``print()``, ``sys.stdout`` and file descriptor 1 go to stderr, which
dfbatch keeps as the model log; the protocol uses a private duplicate of the
original stdout.

Payloads are Arrow IPC streams or CSV. Arrow is read and written with pyarrow
where it is installed, and otherwise by this module with numpy alone
(``DFBATCH_PYARROW=0`` makes it do so even where pyarrow is). Either way a model
sees the same DataFrame: integers and bools as numpy's, or with nulls as pandas'
nullable dtypes (Int64, UInt8, boolean, ...); floats of their width, NaN for
null; strings as str objects, None for null; dictionaries as Categorical;
timestamps as datetime64, time-zone aware if they have a zone (in nanoseconds
without pyarrow; pyarrow with pandas 2 keeps their unit); dates as
datetime.date. See ipc_to_pandas and pandas_to_ipc for what the numpy codec
reads and writes.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import struct
import sys
import traceback
from typing import Any, BinaryIO, Callable, Iterator, NamedTuple

import numpy as np
import pandas as pd


def _import_pyarrow() -> Any:
    """pyarrow, unless it is missing or broken or $DFBATCH_PYARROW is 0: then None."""
    if os.environ.get("DFBATCH_PYARROW") == "0":
        return None
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401  (makes pyarrow.ipc available)
    except Exception:  # the numpy codec speaks Arrow without it
        return None
    return pyarrow


_pa = _import_pyarrow()

__all__ = ["serve", "main", "ProtocolError", "FORMATS"]

MAGIC = b"DFB1"
PROTOCOL = 1
MAX_HEADER = 16 << 20  # 16 MiB
MAX_PAYLOAD = 64 << 30  # 64 GiB
FORMATS: list[str] = ["arrow", "csv"]

# The protocol's streams once _claim_stdio has run, and whether serve has run.
_proto_in: BinaryIO | None = None
_proto_out: BinaryIO | None = None
_served = False


class ProtocolError(Exception):
    """Input that breaks the framing rules: the process reports it and exits 2."""


def _claim_stdio() -> tuple[BinaryIO, BinaryIO]:
    """Take fds 0 and 1 for the protocol and point user-visible stdio elsewhere.

    The original stdin and stdout are duplicated for the protocol; fd 1 and
    ``sys.stdout`` then write to stderr and fd 0 and ``sys.stdin`` read
    /dev/null, so nothing user code does with stdio reaches the protocol.
    Idempotent.
    """
    global _proto_in, _proto_out
    if _proto_out is not None and _proto_out.closed:
        raise RuntimeError("dfbatch_model: serve has already run to the end of its input")
    if _proto_in is None or _proto_out is None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        in_fd, out_fd = os.dup(0), os.dup(1)
        os.dup2(2, 1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        _proto_in = os.fdopen(in_fd, "rb")
        _proto_out = os.fdopen(out_fd, "wb")
        sys.stdout = sys.stderr
        sys.stdin = open(os.devnull, "r", encoding="utf-8")
    return _proto_in, _proto_out


def _read_exact(f: BinaryIO, n: int, what: str, eof_ok: bool = False) -> bytearray | None:
    """Read exactly n bytes of `what`; None at a clean EOF when eof_ok, else ProtocolError."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = f.readinto(view[got:])  # type: ignore[attr-defined]
        if not k:
            if got == 0 and eof_ok:
                return None
            raise ProtocolError(f"truncated frame: end of input after {got} of {n} bytes of {what}")
        got += k
    return buf  # a bytearray: no copy of a large payload


def read_frame(f: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame: (header, payload), or None at end of input between frames."""
    magic = _read_exact(f, 4, "magic", eof_ok=True)
    if magic is None:
        return None
    if magic != MAGIC:
        raise ProtocolError(f"bad magic {magic!r}, want {MAGIC!r}")
    (hlen,) = struct.unpack("<I", _read_exact(f, 4, "header length"))
    if hlen > MAX_HEADER:
        raise ProtocolError(f"header length {hlen} exceeds {MAX_HEADER}")
    raw = _read_exact(f, hlen, "header")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ProtocolError(f"header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header is not a JSON object: {raw[:200]!r}")
    (plen,) = struct.unpack("<Q", _read_exact(f, 8, "payload length"))
    if plen > MAX_PAYLOAD:
        raise ProtocolError(f"payload length {plen} exceeds {MAX_PAYLOAD}")
    payload = _read_exact(f, plen, "payload") if plen else b""
    return header, payload


def write_frame(f: BinaryIO, header: dict[str, Any], payload: bytes = b"") -> None:
    """Write one frame and flush it."""
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    f.write(MAGIC + struct.pack("<I", len(raw)) + raw + struct.pack("<Q", len(payload)))
    if payload:
        f.write(payload)
    f.flush()


# ---------------------------------------------------------------------------
# The Arrow IPC stream format with numpy alone.
#
# A stream is a sequence of messages, each: the continuation marker
# 0xFFFFFFFF, the length of its metadata (int32), the metadata (a flatbuffer
# `Message`, padded to 8 bytes), then its body (the buffers it describes, each
# padded to 8 bytes); a length of 0 ends the stream. The schema comes first,
# then a DictionaryBatch per dictionary-encoded column, then RecordBatches.
# The flatbuffers are read and written here by hand, after Arrow's Schema.fbs
# and Message.fbs: field `slot` k of a table is at vtable offset 4 + 2k.

# Message.header and Field.type are flatbuffer unions: a type byte in one
# slot, the table in the next.
_MSG_SCHEMA, _MSG_DICTIONARY, _MSG_RECORD_BATCH = 1, 2, 3
_METADATA_V5 = 4
_CONTINUATION = b"\xff\xff\xff\xff"

# Arrow's type ids (Schema.fbs, union Type), by the names this codec uses.
_TYPE_IDS = {
    "null": 1, "int": 2, "float": 3, "binary": 4, "utf8": 5, "bool": 6, "decimal": 7, "date": 8,
    "time": 9, "timestamp": 10, "interval": 11, "list": 12, "struct": 13, "union": 14,
    "fixed_size_binary": 15, "fixed_size_list": 16, "map": 17, "duration": 18, "large_binary": 19,
    "large_utf8": 20, "large_list": 21, "run_end_encoded": 22, "binary_view": 23, "string_view": 24,
    "list_view": 25, "large_list_view": 26,
}
_TYPE_NAMES = {v: k for k, v in _TYPE_IDS.items()}
_READS = {"null", "int", "float", "bool", "utf8", "large_utf8", "binary", "large_binary", "timestamp", "date"}
_FLOAT_BITS = {0: 16, 1: 32, 2: 64}  # FloatingPoint.precision: HALF, SINGLE, DOUBLE
_TIME_UNITS = ["s", "ms", "us", "ns"]  # TimeUnit: SECOND .. NANOSECOND
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


class _Type(NamedTuple):
    """An Arrow data type: its name (a key of _TYPE_IDS) and parameters."""

    kind: str
    bits: int = 0  # int and float widths; date: 32 (days) or 64 (milliseconds)
    signed: bool = True
    unit: str = ""  # timestamp: "s", "ms", "us" or "ns"
    tz: str | None = None  # timestamp: its time zone, None for naive


class _Field(NamedTuple):
    """A column of a schema; a dictionary-encoded one has dict_id and index."""

    name: str
    type: _Type  # for a dictionary-encoded column, its values' type
    dict_id: int | None = None
    index: _Type | None = None  # the dictionary indices' integer type
    ordered: bool = False


class _FBReader:
    """A table of a flatbuffer in buf at pos (flatbuffers' wire format)."""

    __slots__ = ("buf", "pos", "vtable", "vsize")

    def __init__(self, buf: Any, pos: int) -> None:
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vsize = struct.unpack_from("<H", buf, self.vtable)[0]

    def _offset(self, slot: int) -> int:
        """The field's offset in the table; 0 when absent."""
        at = 4 + 2 * slot
        return struct.unpack_from("<H", self.buf, self.vtable + at)[0] if at < self.vsize else 0

    def scalar(self, slot: int, fmt: str, default: Any = 0) -> Any:
        off = self._offset(slot)
        return struct.unpack_from(fmt, self.buf, self.pos + off)[0] if off else default

    def _target(self, slot: int) -> int | None:
        """Where the field's offset points: a table, a vector or a string."""
        off = self._offset(slot)
        if not off:
            return None
        at = self.pos + off
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def table(self, slot: int) -> _FBReader | None:
        at = self._target(slot)
        return None if at is None else _FBReader(self.buf, at)

    def string(self, slot: int) -> str | None:
        at = self._target(slot)
        if at is None:
            return None
        (n,) = struct.unpack_from("<I", self.buf, at)
        return bytes(self.buf[at + 4:at + 4 + n]).decode("utf-8")

    def tables(self, slot: int) -> list[_FBReader]:
        at = self._target(slot)
        if at is None:
            return []
        (n,) = struct.unpack_from("<I", self.buf, at)
        items = [at + 4 + 4 * i for i in range(n)]
        return [_FBReader(self.buf, p + struct.unpack_from("<I", self.buf, p)[0]) for p in items]

    def pairs(self, slot: int) -> list[tuple[int, int]]:
        """A vector of structs of two int64s (FieldNode, Buffer)."""
        at = self._target(slot)
        if at is None:
            return []
        (n,) = struct.unpack_from("<I", self.buf, at)
        flat = np.frombuffer(self.buf, dtype="<i8", count=2 * n, offset=at + 4).tolist()
        return list(zip(flat[0::2], flat[1::2]))


class _FBTable(NamedTuple):
    """A flatbuffer table to write: (slot, format, value) per present field.

    format is a struct code for a scalar, or "o" for an offset to a string,
    a _FBTable, a list of them, or a _FBPairs.
    """

    fields: list[tuple[int, str, Any]]


class _FBPairs(NamedTuple):
    """A vector of structs of two int64s to write."""

    values: list[tuple[int, int]]


def _width(fmt: str) -> int:
    """The bytes of a table field of format fmt (an offset, "o", takes 4)."""
    return 4 if fmt == "o" else struct.calcsize("<" + fmt)


def _flatbuffer(root: _FBTable) -> bytes:
    """Serialize root front to back: each table's vtable, the table, then what it points to."""
    buf = bytearray(4)  # the root offset

    def pad(align: int, extra: int = 0) -> None:
        buf.extend(bytes(-(len(buf) + extra) % align))

    def put(obj: Any) -> int:
        if isinstance(obj, str):
            raw = obj.encode("utf-8")
            pad(4)
            at = len(buf)
            buf.extend(struct.pack("<I", len(raw)) + raw + b"\0")
            return at
        if isinstance(obj, _FBPairs):
            pad(8, 4)  # the elements, after the length, are 8-aligned
            at = len(buf)
            buf.extend(struct.pack("<I", len(obj.values)))
            buf.extend(np.array(obj.values, dtype="<i8").reshape(-1).tobytes())
            return at
        if isinstance(obj, list):
            pad(4)
            at = len(buf)
            buf.extend(struct.pack("<I", len(obj)) + bytes(4 * len(obj)))
            for i, item in enumerate(obj):
                slot = at + 4 + 4 * i
                struct.pack_into("<I", buf, slot, put(item) - slot)
            return at
        layout = []  # largest fields first, each aligned to its size
        size = 4  # the offset to the vtable
        for slot, fmt, value in sorted(obj.fields, key=lambda f: -_width(f[1])):
            size += -size % _width(fmt)
            layout.append((slot, fmt, value, size))
            size += _width(fmt)
        slots = 1 + max((f[0] for f in obj.fields), default=-1)
        pad(2)
        vtable = len(buf)
        buf.extend(bytes(4 + 2 * slots))
        pad(8)
        at = len(buf)
        buf.extend(bytes(size))
        struct.pack_into("<HH", buf, vtable, 4 + 2 * slots, size)
        struct.pack_into("<i", buf, at, at - vtable)
        for slot, fmt, value, off in layout:
            struct.pack_into("<H", buf, vtable + 4 + 2 * slot, off)
            if fmt != "o":
                struct.pack_into("<" + fmt, buf, at + off, value)
        for slot, fmt, value, off in layout:
            if fmt == "o":
                struct.pack_into("<I", buf, at + off, put(value) - (at + off))
        return at

    struct.pack_into("<I", buf, 0, put(root))
    return bytes(buf)


def _read_type(name: str, kind_id: int, t: _FBReader | None) -> _Type:
    """The _Type of a Field's type union; types the codec cannot read are refused, naming the column."""
    kind = _TYPE_NAMES.get(kind_id, f"type {kind_id}")
    if kind not in _READS:
        raise ValueError(f"column {name!r} is of Arrow type {kind}, which dfbatch_model reads only with pyarrow: "
                         f"install pyarrow in the model's Python, or use the csv payload format")
    if t is None:
        raise ValueError(f"column {name!r}: its Arrow type {kind} has no parameters")
    if kind == "int":
        return _Type(kind, bits=t.scalar(0, "<i"), signed=t.scalar(1, "<?", False))
    if kind == "float":
        return _Type(kind, bits=_FLOAT_BITS[t.scalar(0, "<h")])
    if kind == "timestamp":
        return _Type(kind, unit=_TIME_UNITS[t.scalar(0, "<h")], tz=t.string(1) or None)
    if kind == "date":
        return _Type(kind, bits=32 if t.scalar(0, "<h", 1) == 0 else 64)  # DateUnit: DAY, MILLISECOND (default)
    return _Type(kind)


def _read_schema(schema: _FBReader) -> list[_Field]:
    """A Schema's fields; a big-endian schema is refused."""
    if schema.scalar(0, "<h") != 0:
        raise ValueError("the Arrow stream is big-endian; dfbatch_model reads little-endian streams")
    fields = []
    for f in schema.tables(1):
        name = f.string(0) or ""
        vtype = _read_type(name, f.scalar(2, "<B"), f.table(3))
        d = f.table(4)
        if d is None:
            fields.append(_Field(name, vtype))
            continue
        it = d.table(1)  # absent: int32
        index = _Type("int", bits=32 if it is None else it.scalar(0, "<i"),
                      signed=it is None or it.scalar(1, "<?", False))
        fields.append(_Field(name, vtype, d.scalar(0, "<q"), index, d.scalar(2, "<?", False)))
    return fields


def _bits(body: memoryview, buf: tuple[int, int], length: int) -> np.ndarray:
    """Unpack a bitmap (least significant bit first) into bools."""
    packed = np.frombuffer(body, dtype=np.uint8, count=(length + 7) // 8, offset=buf[0])
    return np.unpackbits(packed, count=length, bitorder="little").view(np.bool_)


def _values(body: memoryview, buf: tuple[int, int], dtype: str, count: int) -> np.ndarray:
    """A buffer's values, without a copy."""
    return np.frombuffer(body, dtype=dtype, count=count, offset=buf[0])


def _strings(body: memoryview, offsets_buf: tuple[int, int], data_buf: tuple[int, int], length: int,
             large: bool, text: bool) -> np.ndarray:
    """The values of a utf8 or binary array as an object array of str or bytes."""
    offsets = _values(body, offsets_buf, "<i8" if large else "<i4", length + 1) if length else np.zeros(1, np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    raw = bytes(body[data_buf[0] + first:data_buf[0] + last])
    if len(raw) != last - first:
        raise ValueError("a string array's offsets point past its data")
    cuts = offsets - first
    whole: str | bytes = raw
    if text:
        whole = raw.decode("utf-8")
        if len(whole) != len(raw):  # not ASCII: the offsets count bytes, str slices count characters
            starts = (np.frombuffer(raw, dtype=np.uint8) & 0xC0) != 0x80
            chars = np.zeros(len(raw) + 1, dtype=np.int64)
            np.cumsum(starts, out=chars[1:])
            cuts = chars[cuts]
    c = cuts.tolist()
    out = np.empty(length, dtype=object)
    out[:] = [whole[a:b] for a, b in zip(c[:-1], c[1:])]
    return out


def _read_array(t: _Type, nodes: Iterator[tuple[int, int]], bufs: Iterator[tuple[int, int]],
                body: memoryview) -> tuple[np.ndarray, np.ndarray | None]:
    """The next array of a batch, of type t: its values, and its validity (None: no nulls)."""
    length, nulls = next(nodes)
    if t.kind == "null":
        return np.full(length, None, dtype=object), None
    validity, data = next(bufs), next(bufs)
    valid = _bits(body, validity, length) if nulls else None
    if t.kind in ("utf8", "large_utf8", "binary", "large_binary"):
        values = _strings(body, data, next(bufs), length, t.kind.startswith("large"), t.kind.endswith("utf8"))
    elif t.kind == "bool":
        values = _bits(body, data, length)
    else:
        values = _values(body, data, _numpy_dtype(t), length)
    return values, valid


def _numpy_dtype(t: _Type) -> str:
    """The numpy dtype of a fixed-width type's values."""
    if t.kind == "int":
        return f"<{'i' if t.signed else 'u'}{t.bits // 8}"
    if t.kind == "float":
        return f"<f{t.bits // 8}"
    if t.kind == "date" and t.bits == 32:
        return "<i4"
    return "<i8"  # timestamp, date64


def _empty(t: _Type) -> np.ndarray:
    """The values of an array of type t without rows."""
    if t.kind in ("null", "utf8", "large_utf8", "binary", "large_binary"):
        return np.empty(0, dtype=object)
    return np.empty(0, dtype=np.bool_ if t.kind == "bool" else _numpy_dtype(t))


def _tzinfo(tz: str) -> Any:
    """An Arrow time zone for pandas: a name it knows, or a fixed offset such as "+05:30"."""
    if len(tz) == 6 and tz[0] in "+-" and tz[3] == ":":
        offset = datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        return datetime.timezone(-offset if tz[0] == "-" else offset)
    return tz


def _to_pandas(name: str, t: _Type, values: np.ndarray, valid: np.ndarray | None) -> Any:
    """An array as pyarrow's to_pandas makes it, except that integers and
    bools with nulls take pandas' nullable dtypes, and timestamps are in
    nanoseconds whatever their unit."""
    missing = None if valid is None else ~valid
    if t.kind == "int":
        return values if missing is None else pd.arrays.IntegerArray(values.copy(), missing)
    if t.kind == "bool":
        return values if missing is None else pd.arrays.BooleanArray(values, missing)
    if t.kind == "float":
        if missing is None:
            return values
        out = values.copy()
        out[missing] = np.nan
        return out
    if t.kind in ("timestamp", "date"):
        ticks = values.astype(np.int64)
        unit = t.unit if t.kind == "timestamp" else ("D" if t.bits == 32 else "ms")
        if t.kind == "timestamp" and unit != "ns":
            limit = np.iinfo(np.int64).max // _NS_PER[unit]
            inside = ticks if valid is None else ticks[valid]
            if len(inside) and (inside.max() > limit or inside.min() < -limit):
                raise ValueError(f"column {name!r}: a timestamp outside pandas' range (the years 1677 to 2262)")
            ticks *= _NS_PER[unit]
            unit = "ns"
        if missing is not None:
            ticks[missing] = np.iinfo(np.int64).min  # NaT
        stamps = ticks.view(f"datetime64[{unit}]")
        if t.kind == "date":  # datetime.date objects, None for nulls
            return stamps.astype("datetime64[D]").astype(object)
        if t.tz is None:
            return stamps
        return pd.DatetimeIndex(stamps).tz_localize("UTC").tz_convert(_tzinfo(t.tz)).array
    if missing is not None:  # str, bytes
        values[missing] = None
    return values


def _categorical(f: _Field, indices: np.ndarray, valid: np.ndarray | None, dictionary: Any) -> pd.Categorical:
    """A dictionary-encoded column as a Categorical of its dictionary's values."""
    codes = indices.astype(np.int64)
    if valid is not None:
        codes[~valid] = -1
    if len(codes) and (codes.max() >= len(dictionary) or codes.min() < -1):
        raise ValueError(f"column {f.name!r}: a dictionary index out of range")
    # Categories are unique and not null; an Arrow dictionary's values need not be.
    remap, categories = pd.factorize(dictionary)
    codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return pd.Categorical.from_codes(codes, categories=categories, ordered=f.ordered)


def _read_batch(fields: list[_Field], dictionaries: dict[int, Any], length: int,
                arrays: list[tuple[np.ndarray, np.ndarray | None]]) -> pd.DataFrame:
    """A record batch's arrays (values and validity, by field) as a DataFrame."""
    columns = []
    for f, (values, valid) in zip(fields, arrays):
        if f.dict_id is None:
            columns.append(_to_pandas(f.name, f.type, values, valid))
            continue
        dictionary = dictionaries.get(f.dict_id)
        if dictionary is None:
            if len(values):
                raise ValueError(f"column {f.name!r}: no dictionary batch before its record batch")
            dictionary = _to_pandas(f.name, f.type, _empty(f.type), None)
        columns.append(_categorical(f, values, valid, dictionary))
    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(length))
    df = pd.DataFrame(dict(enumerate(columns)))  # copied: the frame does not hold on to the payload
    df.columns = [f.name for f in fields]
    return df


def _uncompressed(batch: _FBReader) -> _FBReader:
    """batch, a RecordBatch table, unless its buffers are compressed."""
    if batch.table(3) is not None:
        raise ValueError("the Arrow stream's buffers are compressed (LZ4 or ZSTD), which dfbatch_model reads only "
                         "with pyarrow: send it uncompressed, or install pyarrow")
    return batch


def ipc_to_pandas(payload: Any) -> pd.DataFrame:
    """Read an Arrow IPC stream into a DataFrame with numpy alone.

    A model sees the frame pyarrow's ``to_pandas()`` would give it, except
    that integer and bool columns with nulls take pandas' nullable dtypes
    (Int8 ... UInt64, boolean) rather than float64 and object, and
    timestamps are datetime64[ns] whatever their unit. Other Arrow types
    (decimal, time, duration, nested, views), big-endian and compressed
    streams are refused with a ValueError that says what to do.
    """
    buf = memoryview(payload)
    fields: list[_Field] | None = None
    dictionaries: dict[int, Any] = {}
    frames = []
    pos = 0
    try:
        while pos + 4 <= len(buf):
            (size,) = struct.unpack_from("<i", buf, pos)
            pos += 4
            if size == -1:  # the continuation marker, before the length since Arrow 0.15
                (size,) = struct.unpack_from("<i", buf, pos)
                pos += 4
            if size == 0:  # end of stream
                break
            message = _FBReader(buf, pos + struct.unpack_from("<I", buf, pos)[0])
            kind, header = message.scalar(1, "<B"), message.table(2)
            start = pos + size
            pos = start + message.scalar(3, "<q")
            if header is None or pos > len(buf):
                raise ValueError("a message without a header, or whose body goes past the end")
            body = buf[start:pos]
            if kind == _MSG_SCHEMA:
                fields = _read_schema(header)
            elif fields is None:
                raise ValueError("the Arrow stream does not start with a schema")
            elif kind == _MSG_DICTIONARY:
                dict_id, data = header.scalar(0, "<q"), _uncompressed(header.table(1))
                f = next((f for f in fields if f.dict_id == dict_id), None)
                if f is None:
                    raise ValueError(f"a dictionary batch of dictionary {dict_id}, which no column uses")
                array = _read_array(f.type, iter(data.pairs(1)), iter(data.pairs(2)), body)
                values = _to_pandas(f.name, f.type, *array)
                if header.scalar(2, "<?", False) and dict_id in dictionaries:  # a delta: values to append
                    values = pd.concat([pd.Series(dictionaries[dict_id]), pd.Series(values)], ignore_index=True).array
                dictionaries[dict_id] = values
            elif kind == _MSG_RECORD_BATCH:
                nodes, bufs = iter(_uncompressed(header).pairs(1)), iter(header.pairs(2))
                arrays = [_read_array(f.type if f.index is None else f.index, nodes, bufs, body) for f in fields]
                frames.append(_read_batch(fields, dictionaries, header.scalar(0, "<q"), arrays))
            else:
                raise ValueError(f"a message of type {kind}, not a schema, dictionary or record batch")
    except (struct.error, IndexError, KeyError, StopIteration, TypeError) as e:
        raise ValueError(f"a malformed Arrow IPC stream: {type(e).__name__}: {e}") from None
    if fields is None:
        raise ValueError("an Arrow IPC stream without a schema")
    if not frames:
        empty = [(_empty(f.type if f.index is None else f.index), None) for f in fields]
        return _read_batch(fields, dictionaries, 0, empty)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


class _Column(NamedTuple):
    """A column to write: its Arrow type, rows, nulls and buffers; a
    dictionary-encoded one has int32 indices, and its values in dictionary."""

    type: _Type  # dictionary-encoded: the values' type
    length: int
    nulls: int
    buffers: list[Any]  # bytes-like
    dictionary: _Column | None = None
    ordered: bool = False


def _bitmap(bools: np.ndarray) -> np.ndarray:
    """Bools packed into bits, least significant first."""
    return np.packbits(bools, bitorder="little")


def _validity(valid: np.ndarray | None) -> tuple[int, Any]:
    """A column's null count and validity buffer, empty when it has no nulls."""
    nulls = 0 if valid is None else len(valid) - int(np.count_nonzero(valid))
    return nulls, _bitmap(valid) if nulls else b""


def _fixed(t: _Type, values: np.ndarray, valid: np.ndarray | None) -> _Column:
    """A column of fixed-width values (bools are packed into bits)."""
    nulls, validity = _validity(valid)
    data = _bitmap(values) if t.kind == "bool" else np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    return _Column(t, len(values), nulls, [validity, data])


def _numbers(values: np.ndarray, valid: np.ndarray | None) -> _Column:
    """Bools, integers or floats; a float NaN is a null, as pyarrow's from_pandas makes it."""
    kind = values.dtype.kind
    if kind == "b":
        return _fixed(_Type("bool"), values, valid)
    if kind in "iu":
        return _fixed(_Type("int", bits=8 * values.dtype.itemsize, signed=kind == "i"), values, valid)
    if kind == "f" and values.dtype.itemsize in (2, 4, 8):
        nan = np.isnan(values)
        if nan.any():
            valid = ~nan if valid is None else valid & ~nan
        return _fixed(_Type("float", bits=8 * values.dtype.itemsize), values, valid)
    raise TypeError(f"numpy {values.dtype} values have no Arrow type")


def _text(items: np.ndarray, valid: np.ndarray | None, binary: bool) -> _Column:
    """str (utf8) or bytes (binary) values; large_ ones when they hold 2 GiB or more."""
    if valid is not None:
        items = np.where(valid, items, b"" if binary else "")
    encoded: Any = items
    if binary:
        data = b"".join(items)
    else:
        joined = "".join(items)
        if joined.isascii():  # one character a byte: the lengths of the str are those of the bytes
            data = joined.encode("ascii")
        else:
            encoded = [s.encode("utf-8") for s in items]
            data = b"".join(encoded)
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(items)), out=offsets[1:])
    large = len(data) >= 1 << 31
    kind = ("large_" if large else "") + ("binary" if binary else "utf8")
    nulls, validity = _validity(valid)
    return _Column(_Type(kind), len(items), nulls, [validity, offsets.astype("<i8" if large else "<i4"), data])


def _objects(values: np.ndarray) -> _Column:
    """An object column: strings, bytes, bools, integers, floats or dates, with
    None, NaN or pd.NA for nulls; one with nulls alone is a utf8 column."""
    missing = pd.isna(values)
    valid = ~missing if missing.any() else None
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):
        return _text(values, valid, binary=False)
    if kind == "bytes":
        return _text(values, valid, binary=True)
    filled = values.copy()
    if kind == "boolean":
        filled[missing] = False
        return _numbers(filled.astype(np.bool_), valid)
    if kind == "integer":
        filled[missing] = 0
        return _numbers(filled.astype(np.int64), valid)
    if kind in ("floating", "mixed-integer-float"):
        filled[missing] = np.nan
        return _numbers(filled.astype(np.float64), valid)
    if kind == "date":
        filled[missing] = None
        return _fixed(_Type("date", bits=32), filled.astype("datetime64[D]").astype("<i4"), valid)
    raise TypeError(f"its values are {kind}, which dfbatch_model writes as Arrow only with pyarrow: "
                    f"make them strings or numbers (e.g. with .astype(str)), install pyarrow, "
                    f"or use the csv payload format")


def _timestamps(stamps: np.ndarray, tz: str | None) -> _Column:
    """datetime64 values (UTC ones with a time zone) as timestamps of their unit, NaT as null."""
    unit = np.datetime_data(stamps.dtype)[0]
    nat = np.isnat(stamps)
    return _fixed(_Type("timestamp", unit=unit, tz=tz), stamps.view("<i8"), ~nat if nat.any() else None)


def _tz_name(tz: Any) -> str:
    """Arrow's name of a tzinfo: its zone name, or a fixed offset such as "+05:30"."""
    name = getattr(tz, "zone", None) or getattr(tz, "key", None)  # pytz, zoneinfo
    if name:
        return name
    offset = tz.utcoffset(None)
    if offset is None:
        return str(tz)
    minutes = int(offset.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _write_column(col: pd.Series) -> _Column:
    """A column of a DataFrame as Arrow (see pandas_to_ipc)."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        valid = codes >= 0
        values = _write_column(pd.Series(dtype.categories))
        indices = _fixed(_Type("int", bits=32), np.where(valid, codes, 0).astype("<i4"), None if valid.all() else valid)
        return indices._replace(type=values.type, dictionary=values, ordered=bool(dtype.ordered))
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _timestamps(col.dt.tz_convert(None).to_numpy(), _tz_name(dtype.tz))
    if isinstance(col.array, (pd.arrays.IntegerArray, pd.arrays.BooleanArray, pd.arrays.FloatingArray)):
        numpy_dtype = dtype.numpy_dtype
        values = col.to_numpy(dtype=numpy_dtype, na_value=numpy_dtype.type(0))
        missing = col.isna().to_numpy()
        return _numbers(values, ~missing if missing.any() else None)
    if isinstance(dtype, pd.StringDtype) or dtype == object:
        return _objects(col.to_numpy(dtype=object))
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return _timestamps(col.to_numpy(), None)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return _numbers(col.to_numpy(), None)
    raise TypeError("dfbatch_model writes this dtype as Arrow only with pyarrow: convert the column "
                    "(to strings or numbers), install pyarrow, or use the csv payload format")


def _type_table(t: _Type) -> _FBTable:
    """The flatbuffer table of a Field's type."""
    if t.kind == "int":
        return _FBTable([(0, "i", t.bits), (1, "?", t.signed)])
    if t.kind == "float":
        return _FBTable([(0, "h", {16: 0, 32: 1, 64: 2}[t.bits])])
    if t.kind == "timestamp":
        return _FBTable([(0, "h", _TIME_UNITS.index(t.unit))] + ([(1, "o", t.tz)] if t.tz else []))
    if t.kind == "date":
        return _FBTable([(0, "h", 0 if t.bits == 32 else 1)])  # DateUnit: DAY, MILLISECOND
    return _FBTable([])


def _field_table(name: str, c: _Column, dict_id: int) -> _FBTable:
    """The Field table of a column; a dictionary-encoded one's dictionary has id dict_id."""
    fields = [(0, "o", name), (1, "?", True), (2, "B", _TYPE_IDS[c.type.kind]), (3, "o", _type_table(c.type)),
              (5, "o", [])]
    if c.dictionary is not None:
        index = _type_table(_Type("int", bits=32))
        fields.append((4, "o", _FBTable([(0, "q", dict_id), (1, "o", index), (2, "?", c.ordered)])))
    return _FBTable(fields)


def _batch(length: int, columns: list[_Column]) -> tuple[_FBTable, list[Any], int]:
    """A RecordBatch table of columns, its body's parts (each buffer padded
    to 8 bytes) and the body's size."""
    nodes, buffers, body, size = [], [], [], 0
    for c in columns:
        nodes.append((c.length, c.nulls))
        for b in c.buffers:
            n = memoryview(b).nbytes
            buffers.append((size, n))
            body.append(b)
            if n % 8:
                body.append(bytes(-n % 8))
            size += n + -n % 8
    return _FBTable([(0, "q", length), (1, "o", _FBPairs(nodes)), (2, "o", _FBPairs(buffers))]), body, size


def _message(kind: int, header: _FBTable, body: list[Any], size: int) -> list[Any]:
    """A message's parts: the continuation marker, the metadata's length, the metadata, the body."""
    meta = _flatbuffer(_FBTable([(0, "h", _METADATA_V5), (1, "B", kind), (2, "o", header), (3, "q", size)]))
    meta += bytes(-len(meta) % 8)
    return [_CONTINUATION, struct.pack("<i", len(meta)), meta, *body]


def pandas_to_ipc(df: pd.DataFrame) -> bytes:
    """Write a DataFrame as an Arrow IPC stream with numpy alone.

    numpy bools, integers and floats keep their types (a float NaN is a
    null, as with pyarrow); pandas' nullable Int, UInt, Float and boolean
    dtypes become those types with nulls; object and string columns of str
    become utf8 (of bytes: binary; of bools, ints, floats or datetime.date:
    those types), with None, NaN or pd.NA as nulls; Categorical becomes a
    dictionary with int32 indices; datetime64 becomes a timestamp, with its
    time zone if it has one. Column names become strings and the index is
    dropped. A column of another dtype is a ValueError naming it.
    """
    columns = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        try:
            columns.append(_write_column(col))
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"column {str(df.columns[i])!r} of dtype {col.dtype}: {e}") from None
    return _write_stream([str(name) for name in df.columns], columns, len(df))


def _write_stream(names: list[str], columns: list[_Column], length: int) -> bytes:
    """A stream of one record batch: the schema, the dictionaries (column i's has id i), the batch."""
    fields = [_field_table(name, c, i) for i, (name, c) in enumerate(zip(names, columns))]
    parts = _message(_MSG_SCHEMA, _FBTable([(0, "h", 0), (1, "o", fields)]), [], 0)
    for i, c in enumerate(columns):
        if c.dictionary is not None:
            batch, body, size = _batch(c.dictionary.length, [c.dictionary])
            parts += _message(_MSG_DICTIONARY, _FBTable([(0, "q", i), (1, "o", batch)]), body, size)
    parts += _message(_MSG_RECORD_BATCH, *_batch(length, columns))
    parts.append(_CONTINUATION + bytes(4))  # end of stream
    return b"".join(parts)


# pandas' nullable dtypes of Arrow's integers and bools.
_PA_NULLABLE = {} if _pa is None else {
    _pa.int8(): pd.Int8Dtype(), _pa.int16(): pd.Int16Dtype(), _pa.int32(): pd.Int32Dtype(),
    _pa.int64(): pd.Int64Dtype(), _pa.uint8(): pd.UInt8Dtype(), _pa.uint16(): pd.UInt16Dtype(),
    _pa.uint32(): pd.UInt32Dtype(), _pa.uint64(): pd.UInt64Dtype(), _pa.bool_(): pd.BooleanDtype(),
}


def _pyarrow_to_pandas(payload: bytes) -> pd.DataFrame:
    """Read an Arrow IPC stream with pyarrow, giving integer and bool columns
    with nulls pandas' nullable dtypes as ipc_to_pandas does."""
    table = _pa.ipc.open_stream(_pa.py_buffer(payload)).read_all()
    df = table.to_pandas()
    for i, column in enumerate(table.columns):
        if column.type in _PA_NULLABLE and column.null_count:
            df.isetitem(i, _pa.table({"c": column}).to_pandas(types_mapper=_PA_NULLABLE.get)["c"])
    return df


def decode_table(payload: bytes, fmt: str) -> pd.DataFrame:
    """Turn a request payload in format `fmt` into a DataFrame."""
    if fmt == "csv":
        if len(payload) < 64 and not bytes(payload).strip():  # no header: no columns
            return pd.DataFrame()
        return pd.read_csv(io.BytesIO(payload), keep_default_na=True, low_memory=False)
    if fmt == "arrow":
        return ipc_to_pandas(payload) if _pa is None else _pyarrow_to_pandas(payload)
    raise ValueError(f"unsupported payload format {fmt!r}; this process reads {FORMATS}")


def _bool_text(v: Any) -> Any:
    """true/false for a boolean cell, the cell itself otherwise."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    return v


def encode_table(df: pd.DataFrame, fmt: str) -> bytes:
    """Turn a result DataFrame into a payload in format `fmt`."""
    if fmt == "csv":
        if df.shape[1] == 0:  # CSV without columns is empty, and cannot count rows
            if len(df):
                raise ValueError(f"predict returned {len(df)} rows without columns; CSV cannot carry them")
            return b""
        out = df
        names = list(df.columns)
        for i in range(df.shape[1]):
            col = df.iloc[:, i]
            if pd.api.types.is_bool_dtype(col.dtype) or col.dtype == object:
                text = col.astype(object).map(_bool_text)
                if out is df:
                    out = df.copy()
                    out.columns = range(len(names))
                out[i] = text
        if out is not df:
            out.columns = names
        try:
            text = out.to_csv(index=False, lineterminator="\n", na_rep="")
        except TypeError:  # pandas < 1.5 spells it line_terminator
            text = out.to_csv(index=False, line_terminator="\n", na_rep="")
        return text.encode("utf-8")
    if fmt == "arrow":
        if _pa is None:
            return pandas_to_ipc(df)
        table = _pa.Table.from_pandas(df, preserve_index=False)
        sink = _pa.BufferOutputStream()
        with _pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes()
    raise ValueError(f"unsupported payload format {fmt!r}; this process writes {FORMATS}")


def to_frame(result: Any) -> pd.DataFrame:
    """Coerce what predict returned to a DataFrame.

    A DataFrame is kept; a Series becomes one column named after it (or
    "prediction"); a numpy array of shape (n,) becomes column "prediction" and
    one of shape (n, k) columns "prediction_0" ... "prediction_{k-1}".
    """
    if isinstance(result, pd.DataFrame):
        return result
    if isinstance(result, pd.Series):
        name = result.name if result.name is not None else "prediction"
        return pd.DataFrame({name: result.to_numpy()})
    if isinstance(result, np.ndarray):
        if result.ndim == 1:
            return pd.DataFrame({"prediction": result})
        if result.ndim == 2:
            return pd.DataFrame(result, columns=[f"prediction_{j}" for j in range(result.shape[1])])
        raise TypeError(f"predict returned a numpy array of shape {result.shape}; want (n,) or (n, k)")
    raise TypeError(f"predict returned {type(result).__name__}; want a pandas DataFrame, Series or numpy array")


class _Environment:
    """Applies each batch's parameters as environment variables (PROTOCOL.md, step 3)."""

    def __init__(self) -> None:
        self._start = dict(os.environ)
        self._set: set[str] = set()

    def apply(self, parameters: dict[str, Any]) -> None:
        """Set every parameter; restore (or unset) those only an earlier batch set."""
        for key in self._set - parameters.keys():
            if key in self._start:
                os.environ[key] = self._start[key]
            else:
                os.environ.pop(key, None)
        self._set = set()
        for key, value in parameters.items():
            self._set.add(key)
            os.environ[key] = value if isinstance(value, str) else json.dumps(value)


def _predictor(model: Any) -> Callable[[pd.DataFrame], Any]:
    """The callable for a predict function, an object with .predict, or such a class."""
    if isinstance(model, type) and callable(getattr(model, "predict", None)):
        model = model()
    if callable(getattr(model, "predict", None)):
        return model.predict
    if callable(model):
        return model
    raise TypeError(f"model {model!r} is neither callable nor has a predict method")


def _score(predict: Callable[[pd.DataFrame], Any], env: _Environment, header: dict[str, Any],
           payload: bytes) -> tuple[dict[str, Any], bytes]:
    """Run one batch; exceptions propagate to the caller, which reports them."""
    fmt = header.get("format", "csv")
    params = header.get("parameters") or {}
    if not isinstance(params, dict):
        raise ValueError(f"parameters must be a JSON object, got {type(params).__name__}")
    env.apply(params)
    df = decode_table(payload, fmt)
    want = header.get("rows", len(df))
    out = to_frame(predict(df))
    if len(out) != want:
        raise ValueError(f"predict returned {len(out)} rows for a batch of {want} rows; "
                         f"the result must have one row per input row")
    return {"type": "result", "rows": len(out), "format": fmt}, encode_table(out, fmt)


# END_MARK is the stderr line that ends a batch's log (PROTOCOL.md, "marks").
END_MARK = "\x1edfbatch:end-of-batch"


def serve(model: Any) -> None:
    """Serve `model` over stdin/stdout until stdin ends, then return.

    `model` is a function ``predict(df) -> DataFrame``, an object with a
    ``predict(df)`` method, or a class with one (instantiated without
    arguments). A protocol error on input prints a message to stderr and
    exits with status 2.
    """
    global _served
    proto_in, proto_out = _claim_stdio()
    predict = _predictor(model)
    env = _Environment()
    _served = True
    write_frame(proto_out, {"type": "hello", "protocol": PROTOCOL, "formats": FORMATS, "pid": os.getpid(), "marks": True})
    while True:
        try:
            frame = read_frame(proto_in)
            if frame is None:  # end of input: the conversation is over
                for f in (proto_in, proto_out, sys.stdin):
                    f.close()
                return
            header, payload = frame
            if header.get("type") != "batch":
                raise ProtocolError(f"unexpected message type {header.get('type')!r}, want 'batch'")
        except ProtocolError as e:
            print(f"dfbatch_model: protocol error: {e}", file=sys.stderr, flush=True)
            sys.exit(2)
        try:
            reply, body = _score(predict, env, header, payload)
        except Exception as e:  # user code failed: report it and keep serving
            tb = traceback.format_exc()
            sys.stderr.write(tb)
            sys.stderr.flush()
            reply, body = {"type": "error", "error": f"{type(e).__name__}: {e}", "traceback": tb}, b""
        # Everything the batch logged is on stderr before its reply: the
        # mark tells dfbatch where this batch's log ends.
        sys.stderr.flush()
        sys.stderr.write(END_MARK + "\n")
        sys.stderr.flush()
        write_frame(proto_out, reply, body)


def _load(path: str) -> Any:
    """Load the model file at `path`; return its `predict` function or `Model`."""
    import importlib.util

    path = os.path.abspath(path)
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location("dfbatch_user_model", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    for name in ("predict", "Model"):
        obj = getattr(module, name, None)
        if obj is not None:
            return obj
    raise AttributeError(f"{path} defines neither a predict function nor a Model")


def main(argv: list[str] | None = None) -> int:
    """``python3 -m dfbatch_model path/to/predict.py``: load the file and serve it."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python3 -m dfbatch_model path/to/predict.py", file=sys.stderr)
        return 2
    # Let the user's `import dfbatch_model` find this module, not a second copy.
    sys.modules.setdefault("dfbatch_model", sys.modules[__name__])
    _claim_stdio()  # before the user's module runs, so its prints go to stderr
    model = _load(args[0])
    if not _served:  # the file may have served itself already
        serve(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
