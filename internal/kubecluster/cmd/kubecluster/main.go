// Command kubecluster runs the tests' Kubernetes control plane
// (internal/kubecluster) by hand: it starts it, with the node agent
// running each given image as a local program, then runs a command with
// KUBECONFIG set to the cluster's admin kubeconfig and stops the cluster
// when the command ends; with no command it prints the kubeconfig's path
// and runs until interrupted.
//
//	eval "$(tools/kube/build.sh)"
//	go build -o /tmp/remote ./examples/remote
//	go run ./internal/kubecluster/cmd/kubecluster -image remote:1=/tmp/remote -- \
//	    /tmp/remote -image remote:1 -bucket file:///tmp/bucket
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/dfbatch/dfbatch/internal/kubecluster"
)

// images is the repeatable -image flag.
type images map[string]kubecluster.Image

func (m images) String() string { return fmt.Sprint(map[string]kubecluster.Image(m)) }

func (m images) Set(v string) error {
	name, program, ok := strings.Cut(v, "=")
	if !ok || name == "" || program == "" {
		return errors.New("want NAME=PROGRAM [ARGS...]")
	}
	m[name] = kubecluster.Image{Entrypoint: strings.Fields(program)}
	return nil
}

func main() {
	imgs := images{}
	flag.Var(imgs, "image", "an image the node runs, as NAME=PROGRAM (its entrypoint; space-separated arguments may follow); repeatable")
	bin := flag.String("bin", os.Getenv(kubecluster.BinEnv), "folder of the control plane's binaries (tools/kube/build.sh)")
	dir := flag.String("dir", "", "folder for the cluster's state and logs, kept afterwards (default: a temporary one, removed)")
	gpus := flag.Int("gpus", 0, "nvidia.com/gpu capacity of the node")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := kubecluster.Start(ctx, kubecluster.Config{BinDir: *bin, Dir: *dir, Images: imgs, Node: kubecluster.NodeConfig{GPUs: *gpus}, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Stop()
	if flag.NArg() == 0 {
		fmt.Println(c.Kubeconfig)
		<-ctx.Done()
		return
	}
	cmd := exec.CommandContext(ctx, flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		c.Stop()
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		c.Stop()
		os.Exit(1)
	}
}
