//go:build cuda

package onnx

import (
	"fmt"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
)

// Builds with the cuda tag leave out the gorgonia fallback: gorgonia's own
// files under that tag include the CUDA toolkit's headers, so a cuda build
// that imported it would need the toolkit, which dfbatch's CUDA support,
// loading the driver at run time, does not.

// fallbackName names the runtime of graphs the compiled plan cannot take.
const fallbackName = "no runtime in cuda builds"

// gorgonnxOperators is empty: there is no gorgonia fallback.
var gorgonnxOperators []string

// checkFallback refuses a graph the compiled plan cannot take (why).
func (l *Loader) checkFallback(g *onnxpb.GraphProto, why *errNotPlanned) error {
	return fmt.Errorf("the compiled plan cannot run this graph (%w), and builds with -tags cuda have no gorgonia fallback, whose own CUDA code needs the CUDA toolkit's headers; run it with Options.Runtime = RuntimeORT, or from a build without the cuda tag", why)
}

// loadFallback is never reached: checkFallback refused the graph.
func (l *Loader) loadFallback() (model.Model, error) {
	return nil, fmt.Errorf("onnx: %s: no gorgonia fallback in cuda builds", l.name)
}
