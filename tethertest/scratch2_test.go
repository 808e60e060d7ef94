package tethertest

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/tether-go/tether/taskgroup"
)

func TestScratch2(t *testing.T) {
	stop := make(chan struct{})
	g, _ := taskgroup.New(context.Background(), taskgroup.Named("server"))
	g.GoNamed("accept", func(ctx context.Context) error { <-stop; return nil })
	time.Sleep(10 * time.Millisecond)
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	for b := range strings.SplitSeq(buf.String(), "\n\n") {
		if strings.Contains(b, "Scratch2") {
			fmt.Println(b)
		}
	}
	for sig, l := range parseProfile(buf.String()) {
		if strings.Contains(sig, "Scratch2") {
			fmt.Printf("%q %v\n", sig, l)
		}
	}
	for _, gr := range snapshot() {
		if strings.Contains(gr.text, "Scratch2") {
			fmt.Printf("%q\n", signature(gr.frames))
		}
	}
	close(stop)
	g.Wait()
}
