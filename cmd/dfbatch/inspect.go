package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dfbatch/dfbatch/model/onnx"
)

const inspectUsage = "Usage: dfbatch inspect PATH   (an ONNX model's inputs, outputs and operators, and whether dfbatch runs them)"

func inspectCommand(args []string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintln(stdout, inspectUsage)
		return errHelpShown
	}
	if len(args) != 1 {
		//lint:ignore ST1005 the usage text is the error a wrong command line gets
		return usageError{errors.New(inspectUsage)}
	}
	s, err := onnx.Inspect(args[0])
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(stdout, "model:     %s\n", args[0])
	if s.Producer != "" {
		fmt.Fprintf(stdout, "producer:  %s\n", s.Producer)
	}
	domains := make([]string, 0, len(s.Opsets))
	for d, v := range s.Opsets {
		domains = append(domains, fmt.Sprintf("%s %d", d, v))
	}
	slices.Sort(domains)
	fmt.Fprintf(stdout, "ir:        %d\nopsets:    %s\n", s.IRVersion, strings.Join(domains, ", "))
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\ninputs:\t\t")
	for _, t := range s.Inputs {
		fmt.Fprintf(w, "  %s\t%s\t[%s]\n", t.Name, t.Type, strings.Join(t.Shape, ", "))
	}
	fmt.Fprintln(w, "outputs:\t\t")
	for _, t := range s.Outputs {
		fmt.Fprintf(w, "  %s\t%s\t[%s]\n", t.Name, t.Type, strings.Join(t.Shape, ", "))
	}
	fmt.Fprintln(w, "operators:\t\t")
	unsupported := 0
	for _, o := range s.Operators {
		status := "supported"
		if !o.Supported {
			status = "NOT SUPPORTED"
			unsupported++
		}
		fmt.Fprintf(w, "  %s\t%s x%d\t%s\n", o.Domain, o.Type, o.Nodes, status)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if unsupported > 0 {
		verb := "are"
		if unsupported == 1 {
			verb = "is"
		}
		fmt.Fprintf(stdout, "\n%s %s not supported: this model cannot run here.\n", plural(unsupported, "operator type"), verb)
	}
	return nil
}
