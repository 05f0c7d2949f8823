package kubecluster

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// logServer is the part of the kubelet's HTTPS server that the API server
// calls for pods/log: GET /containerLogs/{namespace}/{pod}/{container},
// with tailLines, limitBytes and follow. Clients must present a
// certificate of the cluster's CA, as the API server's
// --kubelet-client-certificate is.
type logServer struct {
	srv  *http.Server
	port int
	done chan struct{}
}

func newLogServer(a *NodeAgent) (*logServer, error) {
	cert, err := tls.LoadX509KeyPair(a.ServerCert, a.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("kubecluster: the node agent's certificate: %w", err)
	}
	caPEM, err := os.ReadFile(a.ClientCA)
	if err != nil {
		return nil, fmt.Errorf("kubecluster: the node agent's client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("kubecluster: no certificate in %s", a.ClientCA)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		serveLog(a, w, r)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	s := &logServer{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{
				Certificates: []tls.Certificate{cert},
				ClientAuth:   tls.RequireAndVerifyClientCert,
				ClientCAs:    pool,
				MinVersion:   tls.VersionTLS12,
			},
		},
		port: ln.Addr().(*net.TCPAddr).Port,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logf("log server: %v", err)
		}
	}()
	return s, nil
}

func (s *logServer) close() {
	_ = s.srv.Close()
	<-s.done
}

func serveLog(a *NodeAgent, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("previous") == "true" {
		http.Error(w, "previous terminated container not found", http.StatusBadRequest)
		return
	}
	run, err := a.logOf(r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	tail := -1
	if v := q.Get("tailLines"); v != "" {
		if tail, err = strconv.Atoi(v); err != nil || tail < 0 {
			http.Error(w, "bad tailLines", http.StatusBadRequest)
			return
		}
	}
	limit := -1
	if v := q.Get("limitBytes"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			http.Error(w, "bad limitBytes", http.StatusBadRequest)
			return
		}
	}
	data, err := os.ReadFile(run.logPath)
	if err != nil && !os.IsNotExist(err) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if tail >= 0 {
		data = lastLines(data, tail)
	}
	w.Header().Set("Content-Type", "text/plain")
	written := 0
	write := func(b []byte) bool {
		if limit >= 0 && written+len(b) > limit {
			b = b[:limit-written]
		}
		n, err := w.Write(b)
		written += n
		return err == nil && (limit < 0 || written < limit)
	}
	if !write(data) || q.Get("follow") != "true" {
		return
	}
	// Follow: the rest of the log as it grows, until the process ends or
	// the client goes.
	offset := int64(len(data))
	if tail >= 0 {
		if info, err := os.Stat(run.logPath); err == nil {
			offset = info.Size()
		}
	}
	flusher, _ := w.(http.Flusher)
	for {
		if flusher != nil {
			flusher.Flush()
		}
		var finished bool
		select {
		case <-r.Context().Done():
			return
		case <-run.done:
			finished = true
		case <-time.After(200 * time.Millisecond):
		}
		f, err := os.Open(run.logPath)
		if err != nil {
			if finished {
				return
			}
			continue
		}
		more, _ := io.ReadAll(io.NewSectionReader(f, offset, 1<<40))
		f.Close()
		offset += int64(len(more))
		if len(more) > 0 && !write(more) {
			return
		}
		if finished {
			return
		}
	}
}

// lastLines returns the last n lines of data.
func lastLines(data []byte, n int) []byte {
	if n == 0 {
		return nil
	}
	end := len(bytes.TrimSuffix(data, []byte("\n")))
	start := end
	for range n {
		i := bytes.LastIndexByte(data[:start], '\n')
		if i < 0 {
			return data
		}
		start = i
	}
	return data[start+1:]
}
