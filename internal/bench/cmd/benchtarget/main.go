// Command benchtarget is the HTTP server `make bench` points every load
// generator at: it answers each request at once with a two-byte body, so
// what the benchmark measures is the generator, not the target. It listens
// on loopback and prints its URL on the first line of stdout.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s/\n", ln.Addr())
	os.Stdout.Sync()
	ok := []byte("ok")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		w.Write(ok)
	})}
	log.Fatal(srv.Serve(ln))
}
