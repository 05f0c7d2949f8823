// Package subprocess runs models in any language as long-lived processes:
// Command is a model.Loader that starts one process per executor and sends
// it each batch over stdin and stdout in the small, length-prefixed
// protocol of PROTOCOL.md (Arrow IPC stream or CSV payloads). The run's
// parameters are real environment variables inside the process while it
// scores that run's tasks, the process's stderr is each task's model log in
// the run's report, and a process that crashes, breaks the protocol or
// outlives its task's timeout is killed and started again.
//
// The model side is dfbatch_model.py for Python (shipped here and put on
// the process's PYTHONPATH: a script calls dfbatch_model.serve(predict))
// and Serve or Main for Go. dfbatch_model.py speaks Arrow with numpy alone
// where pyarrow is missing, so a Python model gets typed columns (nullable
// integers, "001" as a string, float32 as float32) in any image with
// pandas. A command that starts with python3 or python runs $DFBATCH_PYTHON
// instead where that is set (see Command.Args), the interpreter FindPython
// also returns first.
package subprocess
