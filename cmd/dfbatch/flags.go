package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errHelpShown is a command's --help, printed: the command succeeded.
var errHelpShown = errors.New("help shown")

// commandFlags is a command's flag set, its flags in named groups for
// --help, with the errors of the Go tool's commands: a typo gets a short
// message with the closest flag, not the whole list.
type commandFlags struct {
	*flag.FlagSet
	name     string // "dfbatch run"
	synopsis string
	groups   []flagGroup
	footer   string
	// defined are the flags group's register defined through c, in order.
	defined []string
}

type flagGroup struct {
	title string
	names []string
}

func newCommandFlags(name, synopsis string) *commandFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &commandFlags{FlagSet: fs, name: name, synopsis: synopsis}
}

// group registers the flags that register defines under title in --help.
func (c *commandFlags) group(title string, register func()) {
	before := map[string]bool{}
	c.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
	c.defined = nil
	register()
	// The flags in the order they were defined, then those defined on the
	// bare FlagSet, by name.
	g := flagGroup{title: title, names: c.defined}
	c.VisitAll(func(f *flag.Flag) {
		if !before[f.Name] && !slices.Contains(g.names, f.Name) {
			g.names = append(g.names, f.Name)
		}
	})
	c.groups = append(c.groups, g)
}

// The definers of flag.FlagSet that dfbatch uses, recording the order of
// definition for --help.

func (c *commandFlags) StringVar(p *string, name, value, usage string) {
	c.defined = append(c.defined, name)
	c.FlagSet.StringVar(p, name, value, usage)
}

func (c *commandFlags) IntVar(p *int, name string, value int, usage string) {
	c.defined = append(c.defined, name)
	c.FlagSet.IntVar(p, name, value, usage)
}

func (c *commandFlags) Float64Var(p *float64, name string, value float64, usage string) {
	c.defined = append(c.defined, name)
	c.FlagSet.Float64Var(p, name, value, usage)
}

func (c *commandFlags) BoolVar(p *bool, name string, value bool, usage string) {
	c.defined = append(c.defined, name)
	c.FlagSet.BoolVar(p, name, value, usage)
}

func (c *commandFlags) Var(v flag.Value, name, usage string) {
	c.defined = append(c.defined, name)
	c.FlagSet.Var(v, name, usage)
}

// parse parses args; --help prints the help to stdout and returns
// errHelpShown, and a bad flag returns a usageError that points at --help.
func (c *commandFlags) parse(args []string, stdout io.Writer) error {
	err := c.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		c.printHelp(stdout)
		return errHelpShown
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = "unknown flag --" + name
		if near := c.closest(name); near != "" {
			msg += "; did you mean --" + near + "?"
		}
	} else {
		// The flag package names flags with one dash; dfbatch's help uses two.
		msg = strings.Replace(msg, " flag -", " flag --", 1)
		msg = strings.Replace(msg, "argument: -", "argument: --", 1)
	}
	//lint:ignore ST1005 a usage error is printed whole, its second line a sentence pointing to the help
	return usageError{fmt.Errorf("%s\nRun '%s --help' for the flags.", msg, c.name)}
}

// closest is the defined flag nearest to name by edit distance, "" when
// none is near enough to be a typo of it.
func (c *commandFlags) closest(name string) string {
	var names []string
	c.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return closestName(name, names)
}

// closestName is the name among candidates with the least edit distance
// to name, if that distance is small for its length (a typo, not another
// word); ties go to the earlier candidate.
func closestName(name string, candidates []string) string {
	best, bestDist := "", -1
	for _, cand := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(cand))
		if bestDist < 0 || d < bestDist {
			best, bestDist = cand, d
		}
	}
	if bestDist < 0 || bestDist > max(2, len(name)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, with a swap of
// two neighbouring characters counted as one edit (--outptu).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// printHelp prints the synopsis, the flags by group and the footer.
func (c *commandFlags) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n", c.synopsis)
	groups := c.groups
	if len(groups) == 0 {
		all := flagGroup{title: "Flags"}
		c.VisitAll(func(f *flag.Flag) { all.names = append(all.names, f.Name) })
		groups = []flagGroup{all}
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.names {
			f := c.Lookup(name)
			kind, usage := flag.UnquoteUsage(f)
			switch f.Value.(type) {
			case seconds:
				kind = "duration"
			case *list:
				kind = "names"
			case keyValues:
				kind = "key=value"
			case columnTypes:
				kind = "column=type"
			case *naValues:
				kind = "cells"
			case *separator:
				kind = "char"
			}
			line := "  --" + name
			if kind != "" {
				line += " " + kind
			}
			if !isZeroDefault(f.DefValue) {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "%s\n%s", line, wrap(usage, "      ", 96))
		}
	}
	if c.footer != "" {
		fmt.Fprintf(w, "\n%s", c.footer)
	}
}

func isZeroDefault(v string) bool {
	return slices.Contains([]string{"", "0", "false", "0s", "map[]", "[]"}, v)
}

// wrap breaks text into lines of at most width characters, each starting
// with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}

// seconds is a duration flag that also takes a bare number of seconds, the
// unit of the platform's job_timeout and task_timeout: --task-timeout 5 is
// 5s.
type seconds struct{ d *time.Duration }

func (s seconds) String() string {
	if s.d == nil || *s.d == 0 {
		return ""
	}
	return s.d.String()
}

func (s seconds) Set(v string) error {
	if d, err := time.ParseDuration(v); err == nil {
		*s.d = d
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("want a duration such as 30s, 5m or 1h30m, or a number of seconds")
	}
	*s.d = time.Duration(n * float64(time.Second))
	return nil
}

// keyValues collects repeated k=v flags.
type keyValues map[string]string

func (kv keyValues) String() string {
	if len(kv) == 0 {
		return ""
	}
	return fmt.Sprint(map[string]string(kv))
}

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	kv[k] = v
	return nil
}

// list parses comma-separated names; repeated flags add up.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		if name = strings.TrimSpace(name); name != "" {
			*l = append(*l, name)
		}
	}
	return nil
}
