#!/usr/bin/env bash
# Builds the control plane that the kubecluster tests (engine/k8s/kubecluster)
# run the Kubernetes backend against: etcd v3.7.3 and kube-apiserver,
# kube-controller-manager and kube-scheduler v1.37.2, from the Go module proxy
# through the nested modules beside this script (tools/kube/etcd and
# tools/kube/kubernetes), so that neither enters dfbatch's go.mod.
#
# The binaries go to a cache outside the tree, keyed by version:
#
#   ${DFBATCH_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dfbatch/kube}/v1.37.2-etcd3.7.3/bin
#
# and a second run with the cache in place does nothing. Its standard output
# is only the line that exports DFBATCH_KUBE_BIN (progress goes to standard
# error), for a script to eval:
#
#   eval "$(tools/kube/build.sh)"
#
# Cold (empty GOCACHE, modules already downloaded), both builds took 1,264
# CPU-seconds (1,057 user, 207 system) and 2.8 GB at their peak, while
# linking kube-apiserver: about 11-12 minutes on 2 idle cores; 33 minutes of
# wall time when other work left it 0.64 of a core. Cached, it returns at
# once. The tests that use the binaries: internal/kubecluster.
set -euo pipefail
cd "$(dirname "$0")"

kube_version=v1.37.2
etcd_version=v3.7.3
cache=${DFBATCH_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dfbatch/kube}
bin="$cache/$kube_version-etcd${etcd_version#v}/bin"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler)

cached=true
for b in "${binaries[@]}"; do
  [ -x "$bin/$b" ] || cached=false
done
if $cached; then
  echo "build.sh: cached in $bin" >&2
  echo "export DFBATCH_KUBE_BIN=$bin"
  exit 0
fi

# Build into a fresh folder beside the cache's, and move each binary in only
# once it is whole, so that an interrupted build leaves nothing that looks
# cached.
mkdir -p "$bin"
work=$(mktemp -d "$bin.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The binaries say which version they are (kube-apiserver --version, /version),
# as a release build's would; the minor version also sets the default
# emulation version the components agree on.
minor=${kube_version#v1.}
minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"

if [ ! -x "$bin/etcd" ]; then
  echo "build.sh: building etcd $etcd_version" >&2
  (cd etcd && go build -trimpath -ldflags="-s -w" -o "$work/etcd" go.etcd.io/etcd/server/v3) >&2
  mv "$work/etcd" "$bin/etcd"
fi

missing=()
for b in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$bin/$b" ] || missing+=("k8s.io/kubernetes/cmd/$b")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build.sh: building Kubernetes $kube_version: ${missing[*]} (about 12 minutes on 2 cores)" >&2
  (cd kubernetes && go build -trimpath -ldflags="$ldflags" -o "$work/" "${missing[@]}") >&2
  for p in "${missing[@]}"; do
    mv "$work/${p##*/}" "$bin/${p##*/}"
  done
fi

for b in "${binaries[@]}"; do
  [ -x "$bin/$b" ] || { echo "build.sh: $bin/$b is missing after the build" >&2; exit 1; }
done
echo "build.sh: built into $bin" >&2
echo "export DFBATCH_KUBE_BIN=$bin"
