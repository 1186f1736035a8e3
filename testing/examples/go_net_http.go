// Go's net/http with http.Flusher: the stream every Go SSE tutorial writes (no library).
// Usage: go run testing/examples/go_net_http.go PORT  (binds 127.0.0.1; path /events)
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Connection", "keep-alive")
	for i := 0; i < 5; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		fmt.Fprintf(w, "data: %d\n\n", i)
		flusher.Flush()
	}
}

func main() {
	http.HandleFunc("/events", events)
	if err := http.ListenAndServe("127.0.0.1:"+os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
