# Worker image for models in Python on the Kubernetes backend:
#
#   dfbatch run --cloud --image registry.example.com/churn-python:1.0.0 \
#       --command "python3 /model/predict.py" --input customers.csv ...
#
# Build from the repository root, with the folder that holds the model's
# script and files (here examples/python-model):
#
#   docker build -f deploy/python.Dockerfile --build-arg MODEL_DIR=examples/python-model \
#       -t registry.example.com/churn-python:1.0.0 .
#
# Each pod runs `dfbatch worker --command "python3 /model/predict.py"`: the
# worker reads its task (JOB_COMPLETION_INDEX) from the staging bucket,
# starts the command, which inherits the pod's environment (the run's
# parameters are environment variables, as the reference's models read them
# with os.getenv), sends it the task's rows over dfbatch's protocol
# (model/subprocess/PROTOCOL.md) and writes the output back. The model's
# stderr, a traceback included, is the pod's log and the failed task's
# error. The protocol's Python side, dfbatch_model, is inside the dfbatch
# binary, which writes it to $TMPDIR and puts it on the script's
# PYTHONPATH: the image needs Python with pandas and numpy, and pyarrow
# only if you want it (dfbatch_model speaks Arrow with numpy alone).
#
# PYTHON_PACKAGES are Debian packages, the same pandas and numpy dfbatch's
# CI tests against; a requirements.txt in MODEL_DIR is installed with pip
# on top of them.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/dfbatch ./cmd/dfbatch

FROM debian:bookworm-slim
ARG PYTHON_PACKAGES="python3 python3-numpy python3-pandas python3-pip"
RUN apt-get update \
 && apt-get install -y --no-install-recommends $PYTHON_PACKAGES \
 && rm -rf /var/lib/apt/lists/*
ARG MODEL_DIR=examples/python-model
COPY ${MODEL_DIR} /model
RUN if [ -f /model/requirements.txt ]; then pip3 install --no-cache-dir --break-system-packages -r /model/requirements.txt; fi
COPY --from=build /out/dfbatch /usr/local/bin/dfbatch
RUN useradd --uid 65532 --create-home nonroot
USER 65532
ENTRYPOINT ["/usr/local/bin/dfbatch"]
