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
original stdout. Payloads are CSV, or Arrow IPC streams when pyarrow is installed.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import traceback
from typing import Any, BinaryIO, Callable

import numpy as np
import pandas as pd

try:
    import pyarrow as _pa
    import pyarrow.ipc  # noqa: F401  (makes _pa.ipc available)
except Exception:  # Arrow is optional (absent or broken): CSV is always spoken.
    _pa = None

__all__ = ["serve", "main", "ProtocolError", "FORMATS"]

MAGIC = b"DFB1"
PROTOCOL = 1
MAX_HEADER = 16 << 20  # 16 MiB
MAX_PAYLOAD = 64 << 30  # 64 GiB
FORMATS: list[str] = ["arrow", "csv"] if _pa is not None else ["csv"]

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


def decode_table(payload: bytes, fmt: str) -> pd.DataFrame:
    """Turn a request payload in format `fmt` into a DataFrame."""
    if fmt == "csv":
        if len(payload) < 64 and not bytes(payload).strip():  # no header: no columns
            return pd.DataFrame()
        return pd.read_csv(io.BytesIO(payload), keep_default_na=True, low_memory=False)
    if fmt == "arrow" and _pa is not None:
        return _pa.ipc.open_stream(_pa.py_buffer(payload)).read_all().to_pandas()
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
    if fmt == "arrow" and _pa is not None:
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
