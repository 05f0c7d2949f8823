"""Tests of dfbatch_model: each spawns a model process and speaks the protocol to it.

Run from the repository root with a Python that has pandas:

    /usr/bin/python3 -m unittest discover -s model/subprocess/python -v
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from typing import Any

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

import dfbatch_model  # noqa: E402

TIMEOUT = 30.0

try:
    import pyarrow
except ImportError:
    pyarrow = None


class Model:
    """A model process started from a script, with helpers to speak the protocol."""

    def __init__(self, source: str, *, as_module: bool = False, env: dict[str, str] | None = None,
                 read_hello: bool = True) -> None:
        self.dir = tempfile.TemporaryDirectory()
        script = os.path.join(self.dir.name, "model.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
        self.stderr_path = os.path.join(self.dir.name, "stderr.log")
        self._stderr = open(self.stderr_path, "wb")
        penv = dict(os.environ)
        penv["PYTHONPATH"] = HERE
        penv.update(env or {})
        args = [sys.executable, "-m", "dfbatch_model", script] if as_module else [sys.executable, script]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=penv, cwd=self.dir.name)
        self.hello = self.read() if read_hello else None

    def _read_exact(self, n: int) -> bytes:
        buf = b""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + TIMEOUT
        while len(buf) < n:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"no reply in {TIMEOUT}s; stderr:\n{self.stderr()}")
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise EOFError(f"stdout ended after {len(buf)} of {n} bytes; stderr:\n{self.stderr()}")
            buf += chunk
        return buf

    def read(self) -> tuple[dict[str, Any], bytes]:
        """Read one frame from the process's stdout, checking its framing."""
        magic = self._read_exact(4)
        if magic != b"DFB1":
            raise AssertionError(f"bad magic {magic!r}; stderr:\n{self.stderr()}")
        (hlen,) = struct.unpack("<I", self._read_exact(4))
        header = json.loads(self._read_exact(hlen))
        (plen,) = struct.unpack("<Q", self._read_exact(8))
        return header, self._read_exact(plen) if plen else b""

    def write(self, header: dict[str, Any], payload: bytes = b"") -> None:
        raw = json.dumps(header).encode()
        self.proc.stdin.write(b"DFB1" + struct.pack("<I", len(raw)) + raw + struct.pack("<Q", len(payload)) + payload)
        self.proc.stdin.flush()

    def batch(self, payload: bytes, rows: int, parameters: dict[str, Any] | None = None,
              fmt: str = "csv") -> tuple[dict[str, Any], bytes]:
        """Send a batch and return the reply."""
        self.write({"type": "batch", "task": 0, "attempt": 1, "start": 0, "end": rows, "rows": rows,
                    "executor": 0, "format": fmt, "parameters": parameters or {}}, payload)
        return self.read()

    def close(self) -> int:
        """Close stdin and wait for the exit status."""
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        return self.proc.wait(TIMEOUT)

    def stderr(self) -> str:
        self._stderr.flush()
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        if not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        self._stderr.close()
        self.dir.cleanup()


ECHO = """
    import dfbatch_model

    def predict(df):
        return df

    if __name__ == "__main__":
        dfbatch_model.serve(predict)
"""


def rows_of(payload: bytes) -> list[list[str]]:
    """The cells of a CSV payload, header row first."""
    return list(csv.reader(io.StringIO(payload.decode("utf-8"), newline="")))


class ProtocolTest(unittest.TestCase):
    def start(self, source: str, **kw: Any) -> Model:
        m = Model(source, **kw)
        self.addCleanup(m.cleanup)
        return m

    def test_hello(self) -> None:
        m = self.start(ECHO)
        header, payload = m.hello
        self.assertEqual(header["type"], "hello")
        self.assertEqual(header["protocol"], 1)
        self.assertEqual(header["formats"], ["arrow", "csv"])
        self.assertEqual(header["pid"], m.proc.pid)
        self.assertEqual(payload, b"")
        self.assertEqual(m.close(), 0)

    def test_csv_round_trip(self) -> None:
        m = self.start(ECHO)
        payload = (
            'id,x,name,flag\n'
            '1,0.1,"a, b",true\n'
            '2,,"say ""hi""",false\n'
            '3,0.3333333333333333,"line1\nline2",true\n'
            '4,1e-300,,false\n'
            '5,2.0,plain,true\n'
        ).encode()
        header, out = m.batch(payload, 5)
        self.assertEqual(header, {"type": "result", "rows": 5, "format": "csv"}, m.stderr())
        self.assertEqual(rows_of(out), [
            ["id", "x", "name", "flag"],
            ["1", "0.1", "a, b", "true"],
            ["2", "", 'say "hi"', "false"],
            ["3", "0.3333333333333333", "line1\nline2", "true"],
            ["4", "1e-300", "", "false"],
            ["5", "2.0", "plain", "true"],
        ])
        self.assertNotIn(b"\r", out)
        self.assertTrue(out.endswith(b"\n"))
        # Floats read back to the same values.
        self.assertEqual(pd.read_csv(io.BytesIO(out))["x"].tolist()[2], 1 / 3)
        self.assertEqual(m.close(), 0)

    def test_empty_and_large_batches(self) -> None:
        m = self.start(ECHO)
        self.assertEqual(m.batch(b"a,b\n", 0), ({"type": "result", "rows": 0, "format": "csv"}, b"a,b\n"))
        self.assertEqual(m.batch(b"", 0), ({"type": "result", "rows": 0, "format": "csv"}, b""))
        n = 100_000
        payload = "i,s\n" + "".join(f"{i},row number {i}\n" for i in range(n))
        header, out = m.batch(payload.encode(), n)
        self.assertEqual(header["rows"], n, m.stderr())
        self.assertEqual(out, payload.encode())
        self.assertEqual(m.close(), 0)

    def test_computed_columns_and_missing_bools(self) -> None:
        m = self.start("""
            import numpy as np, pandas as pd, dfbatch_model

            def predict(df):
                return pd.DataFrame({"double": df["v"] * 2,
                                     "big": pd.array([True, None, False], dtype="boolean"),
                                     "mixed": [True, None, "s"]})

            dfbatch_model.serve(predict)
        """)
        header, out = m.batch(b"v\n1\n2\n3\n", 3)
        self.assertEqual(header["type"], "result", m.stderr())
        self.assertEqual(rows_of(out), [["double", "big", "mixed"], ["2", "true", "true"],
                                        ["4", "", ""], ["6", "false", "s"]])

    def test_parameters(self) -> None:
        m = self.start("""
            import os, pandas as pd, dfbatch_model

            NAMES = ["attribute", "KEPT", "EXTRA", "other", "number"]

            def predict(df):
                return pd.DataFrame({n: [os.getenv(n, "<unset>")] * len(df) for n in NAMES})

            dfbatch_model.serve(predict)
        """, env={"KEPT": "at-start"})

        def env_after(params: dict[str, Any]) -> dict[str, str]:
            header, out = m.batch(b"a\n1\n", 1, params)
            self.assertEqual(header["type"], "result", m.stderr())
            names, values = rows_of(out)
            return dict(zip(names, values))

        self.assertEqual(env_after({"attribute": "customer_a", "KEPT": "changed", "EXTRA": "x", "number": 7}),
                         {"attribute": "customer_a", "KEPT": "changed", "EXTRA": "x", "other": "<unset>",
                          "number": "7"})
        self.assertEqual(env_after({"other": "b"}),
                         {"attribute": "<unset>", "KEPT": "at-start", "EXTRA": "<unset>", "other": "b",
                          "number": "<unset>"})
        self.assertEqual(env_after({"attribute": "customer_b"}),
                         {"attribute": "customer_b", "KEPT": "at-start", "EXTRA": "<unset>",
                          "other": "<unset>", "number": "<unset>"})
        self.assertEqual(env_after({}),
                         {"attribute": "<unset>", "KEPT": "at-start", "EXTRA": "<unset>", "other": "<unset>",
                          "number": "<unset>"})
        self.assertEqual(m.close(), 0)

    def test_print_goes_to_stderr(self) -> None:
        m = self.start("""
            import os, sys, dfbatch_model

            def predict(df):
                print("print from predict")
                sys.stdout.write("sys.stdout from predict\\n")
                sys.stdout.flush()
                os.write(1, b"fd 1 from predict\\n")
                return df

            if __name__ == "__main__":
                dfbatch_model.serve(predict)
        """)
        header, out = m.batch(b"a\n1\n", 1)
        self.assertEqual(header["type"], "result")
        self.assertEqual(rows_of(out), [["a"], ["1"]])
        self.assertEqual(m.close(), 0)
        log = m.stderr()
        for text in ("print from predict", "sys.stdout from predict", "fd 1 from predict"):
            self.assertIn(text, log)
        self.assertEqual(m.proc.stdout.read(), b"")

    def test_exception_becomes_error_frame(self) -> None:
        m = self.start("""
            import dfbatch_model

            def predict(df):
                if "boom" in df.columns:
                    raise ValueError("no boom allowed")
                return df

            dfbatch_model.serve(predict)
        """)
        header, payload = m.batch(b"boom\n1\n", 1)
        self.assertEqual(header["type"], "error")
        self.assertEqual(header["error"], "ValueError: no boom allowed")
        self.assertIn('raise ValueError("no boom allowed")', header["traceback"])
        self.assertEqual(payload, b"")
        header, out = m.batch(b"ok\n1\n2\n", 2)
        self.assertEqual(header, {"type": "result", "rows": 2, "format": "csv"})
        self.assertEqual(rows_of(out), [["ok"], ["1"], ["2"]])
        self.assertEqual(m.close(), 0)
        self.assertIn("ValueError: no boom allowed", m.stderr())

    def test_wrong_row_count(self) -> None:
        m = self.start("""
            import dfbatch_model

            def predict(df):
                return df.head(3)

            dfbatch_model.serve(predict)
        """)
        header, _ = m.batch(b"a\n1\n2\n3\n4\n", 4)
        self.assertEqual(header["type"], "error")
        self.assertIn("3 rows", header["error"])
        self.assertIn("4 rows", header["error"])
        header, _ = m.batch(b"a\n1\n2\n", 2)
        self.assertEqual(header["type"], "result")
        self.assertEqual(m.close(), 0)

    def test_unsupported_format_is_an_error_frame(self) -> None:
        m = self.start(ECHO)
        header, _ = m.batch(b"", 0, fmt="parquet")
        self.assertEqual(header["type"], "error")
        self.assertIn("parquet", header["error"])
        self.assertEqual(m.close(), 0)

    def test_series_and_numpy_results(self) -> None:
        m = self.start("""
            import numpy as np, dfbatch_model

            def predict(df):
                if "two" in df.columns:
                    return np.column_stack([df["two"], df["two"] * 10])
                if "arr" in df.columns:
                    return df["arr"].to_numpy() + 1
                return (df["s"] * 2).rename(None)

            dfbatch_model.serve(predict)
        """)
        _, out = m.batch(b"s\n1\n2\n", 2)
        self.assertEqual(rows_of(out), [["prediction"], ["2"], ["4"]])
        _, out = m.batch(b"arr\n1\n", 1)
        self.assertEqual(rows_of(out), [["prediction"], ["2"]])
        _, out = m.batch(b"two\n1\n", 1)
        self.assertEqual(rows_of(out), [["prediction_0", "prediction_1"], ["1", "10"]])

    def test_eof_exits_zero(self) -> None:
        m = self.start(ECHO)
        self.assertEqual(m.close(), 0)
        m = self.start(ECHO)
        m.batch(b"a\n1\n", 1)
        self.assertEqual(m.close(), 0)
        # Nothing but the batch's end-of-log mark.
        self.assertEqual(m.stderr(), dfbatch_model.END_MARK + "\n")

    def assert_protocol_error(self, data: bytes, message: str) -> None:
        m = self.start(ECHO)
        m.proc.stdin.write(data)
        self.assertEqual(m.close(), 2)
        self.assertIn("protocol error", m.stderr())
        self.assertIn(message, m.stderr())

    def test_garbage_exits_two(self) -> None:
        self.assert_protocol_error(b"GET / HTTP/1.1\r\n\r\n", "bad magic")

    def test_truncated_frame_exits_two(self) -> None:
        self.assert_protocol_error(b"DFB1" + struct.pack("<I", 100) + b'{"type":', "truncated frame")
        self.assert_protocol_error(b"DF", "truncated frame")
        raw = b'{"type":"batch","rows":1,"format":"csv"}'
        self.assert_protocol_error(b"DFB1" + struct.pack("<I", len(raw)) + raw + struct.pack("<Q", 50) + b"a\n1\n",
                                   "truncated frame")

    def test_header_not_object_exits_two(self) -> None:
        self.assert_protocol_error(b"DFB1" + struct.pack("<I", 2) + b"[]" + struct.pack("<Q", 0), "JSON object")
        self.assert_protocol_error(b"DFB1" + struct.pack("<I", 20 << 20), "exceeds")

    def test_main_loads_model_class(self) -> None:
        m = self.start("""
            import os
            print("import-time print")

            class Model:
                def __init__(self):
                    print("loading")
                    self.factor = 3

                def predict(self, df):
                    return df * self.factor
        """, as_module=True)
        self.assertEqual(m.hello[0]["type"], "hello")
        header, out = m.batch(b"a\n1\n2\n", 2)
        self.assertEqual(header["type"], "result", m.stderr())
        self.assertEqual(rows_of(out), [["a"], ["3"], ["6"]])
        self.assertEqual(m.close(), 0)
        self.assertIn("import-time print", m.stderr())
        self.assertIn("loading", m.stderr())

    def test_main_with_script_that_serves_itself(self) -> None:
        m = self.start(ECHO.replace('if __name__ == "__main__":\n        ', ""), as_module=True)
        m.batch(b"a\n1\n", 1)
        self.assertEqual(m.close(), 0)  # one hello only: stdout ends after the reply
        self.assertEqual(m.proc.stdout.read(), b"")

    @unittest.skipIf(pyarrow is None, "pyarrow is not installed")
    def test_arrow_round_trip_with_pyarrow(self) -> None:  # pragma: no cover - needs pyarrow
        pa = pyarrow
        m = self.start(ECHO)
        table = pa.table({"a": [1, 2, None], "s": ["x", None, "z"]})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        header, out = m.batch(sink.getvalue().to_pybytes(), 3, fmt="arrow")
        self.assertEqual(header, {"type": "result", "rows": 3, "format": "arrow"})
        got = pa.ipc.open_stream(out).read_all()
        self.assertEqual(got.column("s").to_pylist(), ["x", None, "z"])
        self.assertEqual(got.column("a").to_pylist(), [1, 2, None])
        self.assertEqual(got.column("a").type, pa.int64(), "a nullable Int64 in the model, int64 again")

    def test_arrow_round_trip_without_pyarrow(self) -> None:
        m = self.start("""
            import pandas as pd, dfbatch_model

            def predict(df):
                assert dfbatch_model._pa is None
                assert str(df["n"].dtype) == "Int64" and str(df["f"].dtype) == "float32", df.dtypes
                assert df["code"].tolist() == ["001", None, "010"], df["code"].tolist()
                return df.assign(n2=df["n"] * 2)

            dfbatch_model.serve(predict)
        """, env={"DFBATCH_PYARROW": "0"})
        self.assertEqual(m.hello[0]["formats"], ["arrow", "csv"])
        df = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64"), "f": np.array([0.5, 1, 2], dtype=np.float32),
                           "code": ["001", None, "010"]})
        header, out = m.batch(dfbatch_model.pandas_to_ipc(df), 3, fmt="arrow")
        self.assertEqual(header, {"type": "result", "rows": 3, "format": "arrow"}, m.stderr())
        pd.testing.assert_frame_equal(dfbatch_model.ipc_to_pandas(out),
                                      df.assign(n2=pd.array([2, None, 6], dtype="Int64")))
        self.assertEqual(m.close(), 0)


def stream(columns: dict[str, Any], length: int) -> bytes:
    """An Arrow IPC stream of one record batch of the codec's _Column values."""
    return dfbatch_model._write_stream(list(columns), list(columns.values()), length)


def fixed(kind: str, values: Any, dtype: str, valid: Any = None, **params: Any) -> Any:
    """A _Column of fixed-width values of Arrow type kind."""
    t = dfbatch_model._Type(kind, **params)
    return dfbatch_model._fixed(t, np.array(values, dtype=dtype), None if valid is None else np.array(valid))


def text(values: list[Any], kind: str = "utf8") -> Any:
    """A _Column of str (or bytes) values, None for null, of Arrow type kind."""
    items = np.array(values + [None], dtype=object)[:-1]  # a 1-d object array, whatever the values
    valid = np.array([v is not None for v in values])
    c = dfbatch_model._text(items, valid, binary="binary" in kind)
    offsets = c.buffers[1].astype("<i8" if kind.startswith("large") else "<i4")
    return c._replace(type=dfbatch_model._Type(kind), buffers=[c.buffers[0], offsets, c.buffers[2]])


def without_continuations(payload: bytes) -> bytes:
    """The stream in the format before Arrow 0.15: each message's length without the 0xFFFFFFFF before it."""
    out, pos = [], 0
    while pos < len(payload):
        assert payload[pos:pos + 4] == b"\xff\xff\xff\xff"
        (size,) = struct.unpack_from("<i", payload, pos + 4)
        if size == 0:
            out.append(bytes(4))
            break
        meta = dfbatch_model._FBReader(payload, pos + 8 + struct.unpack_from("<I", payload, pos + 8)[0])
        end = pos + 8 + size + meta.scalar(3, "<q")
        out.append(payload[pos + 4:end])
        pos = end
    return b"".join(out)


class NumpyCodecTest(unittest.TestCase):
    """dfbatch_model's Arrow IPC stream codec without pyarrow."""

    def round_trip(self, df: pd.DataFrame) -> pd.DataFrame:
        return dfbatch_model.ipc_to_pandas(dfbatch_model.pandas_to_ipc(df))

    def test_every_dtype_round_trips(self) -> None:
        ints = {f"{k}{b}": np.array([0, 1, np.iinfo(f"{k}{b}").max], dtype=f"{k}{b}")
                for k in ("int", "uint") for b in (8, 16, 32, 64)}
        nullable = {f"{k}{b}n": pd.array([np.iinfo(f"{k.lower()}{b}").min, None, 1], dtype=f"{k}{b}")
                    for k in ("Int", "UInt") for b in (8, 16, 32, 64)}
        df = pd.DataFrame({
            **ints, **nullable,
            "f16": np.array([1.5, np.nan, -2], dtype=np.float16),
            "f32": np.array([0.1, np.nan, 3.4e38], dtype=np.float32),
            "f64": np.array([1e-300, np.nan, -1 / 3]),
            "b": [True, False, True],
            "bn": pd.array([True, None, False], dtype="boolean"),
            "s": ["001", None, "héllo\n"],
            "bytes": [b"\x00\xff", None, b""],
            "cat": pd.Categorical(["b", None, "a"], categories=["b", "a", "unused"], ordered=True),
            "ts": pd.to_datetime(["2024-02-29T13:14:15.123456789", None, "1677-09-22"]),
            "tz": pd.to_datetime(["2024-03-31T01:30", None, "2000-01"]).tz_localize("UTC").tz_convert("Europe/Paris"),
            "date": [datetime.date(2024, 2, 29), None, datetime.date(1, 1, 1)],
        })
        back = self.round_trip(df)
        pd.testing.assert_frame_equal(back, df)
        self.assertEqual(back["s"].tolist(), ["001", None, "héllo\n"])

    def test_nullable_dtypes_without_nulls_come_back_as_numpy(self) -> None:
        df = pd.DataFrame({"n": pd.array([1, 2], dtype="Int16"), "b": pd.array([True, False], dtype="boolean"),
                           "f": pd.array([0.5, None], dtype="Float32")})
        back = self.round_trip(df)
        self.assertEqual([str(t) for t in back.dtypes], ["int16", "bool", "float32"])
        self.assertEqual(back["n"].tolist(), [1, 2])
        self.assertTrue(np.isnan(back["f"].iloc[1]))

    def test_nulls_in_object_columns(self) -> None:
        df = pd.DataFrame({
            "s": np.array(["a", None, np.nan, pd.NA], dtype=object),
            "none": [None] * 4,
            "i": np.array([1, None, 3, np.nan], dtype=object),
            "f": np.array([1, 2.5, None, 4], dtype=object),
            "b": np.array([True, None, False, pd.NA], dtype=object),
            "str": pd.array(["x", None, "z", "w"], dtype="string"),
        })
        back = self.round_trip(df)
        self.assertEqual(back["s"].tolist(), ["a", None, None, None])
        self.assertEqual(back["none"].tolist(), [None] * 4, "all nulls: a utf8 column")
        self.assertEqual(back["i"].tolist(), [1, pd.NA, 3, pd.NA])
        self.assertEqual(str(back["i"].dtype), "Int64")
        self.assertEqual(str(back["f"].dtype), "float64")
        self.assertEqual(back["b"].tolist(), [True, pd.NA, False, pd.NA])
        self.assertEqual(back["str"].tolist(), ["x", None, "z", "w"])

    def test_strings(self) -> None:
        values = ["", "001", "ü", "€uro", "😀x", "a\x00b", "line\nbreak", None, "ascii"]
        df = pd.DataFrame({"s": values, "ascii": ["a", "bb", "", None, "ccc", "d", "e", "f", "g"]})
        back = self.round_trip(df)
        self.assertEqual(back["s"].tolist(), values)
        self.assertEqual(back["ascii"].tolist(), df["ascii"].tolist())
        for kind in ("large_utf8", "binary", "large_binary"):
            raw = [None if v is None else (v.encode() if "binary" in kind else v) for v in values]
            got = dfbatch_model.ipc_to_pandas(stream({"s": text(raw, kind)}, len(raw)))
            self.assertEqual(got["s"].tolist(), raw, kind)

    def test_empty_frames(self) -> None:
        df = pd.DataFrame({
            "i": np.array([], dtype=np.int32), "f": np.array([], dtype=np.float32), "b": np.array([], dtype=bool),
            "s": np.array([], dtype=object), "cat": pd.Categorical([], categories=["x"]),
            "ts": pd.to_datetime([]), "tz": pd.to_datetime([]).tz_localize("UTC"),
        })
        pd.testing.assert_frame_equal(self.round_trip(df), df)
        self.assertEqual(self.round_trip(pd.DataFrame(index=range(5))).shape, (5, 0), "rows without columns")
        self.assertEqual(self.round_trip(pd.DataFrame()).shape, (0, 0))

    def test_dictionaries(self) -> None:
        df = pd.DataFrame({"n": pd.Categorical([3, 1, None, 3]), "s": pd.Categorical(["x", "y", "x", None])})
        back = self.round_trip(df)
        pd.testing.assert_frame_equal(back, df)
        self.assertEqual(back["n"].cat.categories.tolist(), [1, 3])
        # Arrow dictionaries may repeat a value or hold a null; categories cannot.
        values = text(["a", None, "a", "b"])
        indices = fixed("int", [0, 1, 2, 3, 0], "<i4", [True, True, True, True, False], bits=32)
        column = indices._replace(type=values.type, dictionary=values)
        got = dfbatch_model.ipc_to_pandas(stream({"d": column}, 5))["d"]
        self.assertEqual(got.cat.categories.tolist(), ["a", "b"])
        self.assertEqual(got.cat.codes.tolist(), [0, -1, 0, 1, -1])

    def test_time_zones(self) -> None:
        stamps = pd.to_datetime(["2024-01-01T00:00:00", "2024-07-01T12:00:00"]).tz_localize("UTC")
        for tz in ("UTC", "America/New_York", datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
                   datetime.timezone(-datetime.timedelta(hours=8))):
            df = pd.DataFrame({"t": stamps.tz_convert(tz)})
            back = self.round_trip(df)
            self.assertEqual(back["t"].tolist(), df["t"].tolist(), tz)
            self.assertEqual(str(back["t"].iloc[0]), str(df["t"].iloc[0]), tz)

    def test_timestamp_units_and_dates(self) -> None:
        second = 1_700_000_000
        columns = {
            "s": fixed("timestamp", [second, 0], "<i8", [True, False], unit="s"),
            "ms": fixed("timestamp", [second * 1000 + 5, -1], "<i8", unit="ms", tz="+01:00"),
            "us": fixed("timestamp", [second * 10**6 + 7, 1], "<i8", unit="us"),
            "d64": fixed("date", [86_400_000, 0], "<i8", [True, False], bits=64),
            "null": dfbatch_model._Column(dfbatch_model._Type("null"), 2, 2, []),
        }
        df = dfbatch_model.ipc_to_pandas(stream(columns, 2))
        self.assertEqual(str(df["s"].dtype), "datetime64[ns]")
        self.assertEqual(df["s"].iloc[0], pd.Timestamp(second, unit="s"))
        self.assertTrue(pd.isna(df["s"].iloc[1]))
        self.assertEqual(str(df["ms"].iloc[1]), "1970-01-01 00:59:59.999000+01:00")
        self.assertEqual(df["us"].iloc[0], pd.Timestamp(second * 10**9 + 7000))
        self.assertEqual(df["d64"].tolist(), [datetime.date(1970, 1, 2), None])
        self.assertEqual(df["null"].tolist(), [None, None])
        with self.assertRaisesRegex(ValueError, "column 'far': a timestamp outside pandas' range"):
            dfbatch_model.ipc_to_pandas(stream({"far": fixed("timestamp", [32503680000], "<i8", unit="s")}, 1))

    def test_streams_of_other_shapes(self) -> None:
        df = pd.DataFrame({"i": [1, 2], "c": pd.Categorical(["a", "b"])})
        payload = dfbatch_model.pandas_to_ipc(df)
        pd.testing.assert_frame_equal(dfbatch_model.ipc_to_pandas(without_continuations(payload)), df)
        pd.testing.assert_frame_equal(dfbatch_model.ipc_to_pandas(payload[:-8]), df, "no end-of-stream marker")
        # Two record batches, the second after a delta of its dictionary.
        m = dfbatch_model
        cat = text(["a"])
        first = fixed("int", [0], "<i4", bits=32)._replace(type=cat.type, dictionary=cat)
        delta = text(["b"])
        second = fixed("int", [1, 0], "<i4", bits=32)
        schema = m._write_stream(["c"], [first], 1)
        end = schema.index(b"\xff\xff\xff\xff\x00\x00\x00\x00")
        batch, body, size = m._batch(1, [delta])
        parts = m._message(m._MSG_DICTIONARY, m._FBTable([(0, "q", 0), (1, "o", batch), (2, "?", True)]), body, size)
        parts += m._message(m._MSG_RECORD_BATCH, *m._batch(2, [second]))
        got = m.ipc_to_pandas(schema[:end] + b"".join(parts))
        self.assertEqual(got["c"].tolist(), ["a", "b", "a"])

    def test_refusals_say_what_to_do(self) -> None:
        m = dfbatch_model
        decimal = m._FBTable([(0, "o", "price"), (1, "?", True), (2, "B", m._TYPE_IDS["decimal"]),
                              (3, "o", m._FBTable([])), (5, "o", [])])
        payload = b"".join(m._message(m._MSG_SCHEMA, m._FBTable([(1, "o", [decimal])]), [], 0))
        with self.assertRaisesRegex(ValueError, "column 'price' is of Arrow type decimal, which dfbatch_model "
                                                "reads only with pyarrow: install pyarrow"):
            m.ipc_to_pandas(payload)
        big = b"".join(m._message(m._MSG_SCHEMA, m._FBTable([(0, "h", 1), (1, "o", [])]), [], 0))
        with self.assertRaisesRegex(ValueError, "big-endian"):
            m.ipc_to_pandas(big)
        column = fixed("int", [1], "<i8", bits=64)
        batch, body, size = m._batch(1, [column])
        compressed = m._FBTable(batch.fields + [(3, "o", m._FBTable([(0, "b", 1)]))])
        payload = m._write_stream(["x"], [column], 0)
        payload = payload[:payload.index(b"\xff\xff\xff\xff", 8)]  # the schema alone
        with self.assertRaisesRegex(ValueError, "compressed"):
            m.ipc_to_pandas(payload + b"".join(m._message(m._MSG_RECORD_BATCH, compressed, body, size)))
        whole = m.pandas_to_ipc(pd.DataFrame({"x": np.arange(100)}))
        with self.assertRaisesRegex(ValueError, "malformed|past the end"):
            m.ipc_to_pandas(whole[:-100])
        with self.assertRaisesRegex(ValueError, "without a schema"):
            m.ipc_to_pandas(b"")

    def test_unwritable_columns_are_named(self) -> None:
        cases = [
            (pd.DataFrame({"wait": pd.to_timedelta([1], unit="s")}),
             "column 'wait' of dtype timedelta64[ns]: dfbatch_model writes this dtype as Arrow only with pyarrow"),
            (pd.DataFrame({"m": np.array([1, "a"], dtype=object)}),
             "column 'm' of dtype object: its values are mixed-integer"),
            (pd.DataFrame({"c": np.array([1j])}), "column 'c' of dtype complex128"),
            (pd.DataFrame({"big": np.array([2**70], dtype=object)}), "column 'big' of dtype object"),
        ]
        for df, message in cases:
            with self.assertRaises(ValueError) as e:
                dfbatch_model.pandas_to_ipc(df)
            self.assertIn(message, str(e.exception))

    def test_names_become_strings_and_the_index_is_dropped(self) -> None:
        df = pd.DataFrame(np.eye(2), index=["a", "b"])
        back = self.round_trip(df)
        self.assertEqual(list(back.columns), ["0", "1"])
        self.assertEqual(list(back.index), [0, 1])

    @unittest.skipIf(pyarrow is None, "pyarrow is not installed")
    def test_pyarrow_reads_what_it_writes_and_sees_the_same_frame(self) -> None:  # pragma: no cover - needs pyarrow
        df = pd.DataFrame({
            "i": pd.array([1, None], dtype="Int32"), "u": np.array([1, 2], dtype=np.uint64),
            "f": np.array([0.5, np.nan], dtype=np.float32), "b": pd.array([True, None], dtype="boolean"),
            "s": ["001", None], "y": [b"\x00", None], "c": pd.Categorical(["x", None]),
            "ts": pd.to_datetime(["2024-01-01", None]), "tz": pd.to_datetime(["2024-01-01", None]).tz_localize("UTC"),
            "d": [datetime.date(2024, 1, 1), None],
        })
        payload = dfbatch_model.pandas_to_ipc(df)
        table = pyarrow.ipc.open_stream(payload).read_all()
        self.assertEqual(str(table.schema.field("c").type), "dictionary<values=string, indices=int32, ordered=0>")
        self.assertEqual(table.column("s").to_pylist(), ["001", None])
        numpy_frame = dfbatch_model.ipc_to_pandas(payload)
        pd.testing.assert_frame_equal(numpy_frame, df)
        pyarrow_frame = dfbatch_model._pyarrow_to_pandas(payload)
        for name in ("ts", "tz"):  # pyarrow with pandas 2 keeps Arrow's unit, here nanoseconds anyway
            pyarrow_frame[name] = pyarrow_frame[name].astype(numpy_frame[name].dtype)
        pd.testing.assert_frame_equal(pyarrow_frame, numpy_frame)


class ExampleTest(unittest.TestCase):
    """examples/python-model/predict.py scores customers.csv through the protocol."""

    def test_churn_example(self) -> None:
        script = os.path.join(REPO, "examples", "python-model", "predict.py")
        customers = os.path.join(REPO, "examples", "churn", "customers.csv")
        if not (os.path.exists(script) and os.path.exists(customers)):
            self.skipTest("example files not present")
        with open(script, encoding="utf-8") as f:
            m = Model(f.read())
        self.addCleanup(m.cleanup)
        with open(customers, "rb") as f:
            payload = f.read()
        n = len(pd.read_csv(customers))
        results = {}
        for attribute in (None, "customer_segment", "support_calls"):
            params = {} if attribute is None else {"attribute": attribute}
            header, out = m.batch(payload, n, params)
            self.assertEqual(header, {"type": "result", "rows": n, "format": "csv"}, m.stderr())
            df = pd.read_csv(io.BytesIO(out))
            self.assertEqual(list(df.columns), ["customer_id", "Churn_Probability", "dropped"])
            self.assertTrue(((df["Churn_Probability"] > 0) & (df["Churn_Probability"] < 1)).all())
            self.assertEqual(df["dropped"].unique().tolist(), [attribute or "default_customer"])
            results[attribute] = df["Churn_Probability"].to_numpy()
        # Dropping a string column changes nothing; dropping a feature does.
        np.testing.assert_array_equal(results[None], results["customer_segment"])
        self.assertFalse(np.array_equal(results[None], results["support_calls"]))
        self.assertEqual(m.close(), 0)


class ToFrameTest(unittest.TestCase):
    def test_conversions(self) -> None:
        df = pd.DataFrame({"a": [1]})
        self.assertIs(dfbatch_model.to_frame(df), df)
        self.assertEqual(list(dfbatch_model.to_frame(pd.Series([1], name="p")).columns), ["p"])
        self.assertEqual(list(dfbatch_model.to_frame(np.zeros((2, 2))).columns), ["prediction_0", "prediction_1"])
        with self.assertRaises(TypeError):
            dfbatch_model.to_frame([1, 2])
        with self.assertRaises(TypeError):
            dfbatch_model.to_frame(np.zeros((1, 1, 1)))


if __name__ == "__main__":
    unittest.main()
