"""Tests of dfbatch_model: each spawns a model process and speaks the protocol to it.

Run from the repository root with a Python that has pandas:

    /usr/bin/python3 -m unittest discover -s model/subprocess/python -v
"""

from __future__ import annotations

import csv
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
        self.assertEqual(header["formats"], dfbatch_model.FORMATS)
        self.assertEqual(header["formats"][-1], "csv")
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

    @unittest.skipIf("arrow" not in dfbatch_model.FORMATS, "pyarrow is not installed")
    def test_arrow_round_trip(self) -> None:  # pragma: no cover - needs pyarrow
        import pyarrow as pa

        m = self.start(ECHO)
        table = pa.table({"a": [1, 2, None], "s": ["x", None, "z"]})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        header, out = m.batch(sink.getvalue().to_pybytes(), 3, fmt="arrow")
        self.assertEqual(header, {"type": "result", "rows": 3, "format": "arrow"})
        got = pa.ipc.open_stream(out).read_all()
        self.assertEqual(got.column("s").to_pylist(), ["x", None, "z"])


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
