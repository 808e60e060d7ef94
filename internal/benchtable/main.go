// Command benchtable turns `go test -bench` output into one table that sets
// each tether benchmark beside the plain-Go peer doing the same work.
//
// A benchmark takes part when its last name element is "tether" or names a
// peer: BenchmarkSpawnWait/tether is compared with BenchmarkSpawnWait/errgroup
// and BenchmarkSpawnWait/waitgroup. With -count above 1, the median of each
// figure is used.
//
// Usage:
//
//	go test -run='^$' -bench=. -benchmem -count=3 ./... | go run ./internal/benchtable
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// line matches a result line such as
// "BenchmarkX/tether-2   1000   1234 ns/op   56 B/op   2 allocs/op".
var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)

var allocsRe = regexp.MustCompile(`([\d.]+) allocs/op`)

type sample struct{ ns, allocs []float64 }

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	// Figures by package and full benchmark name: two packages may have
	// benchmarks of the same name.
	type key struct{ pkg, name string }
	samples := map[key]*sample{}
	var pkg string
	var order []key
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		text := sc.Text()
		if p, ok := strings.CutPrefix(text, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimPrefix(p, "github.com/tether-go/tether"), "/")
			if pkg == "" {
				pkg = "tether"
			}
			continue
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		name := m[1]
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return err
		}
		k := key{pkg, name}
		s := samples[k]
		if s == nil {
			s = &sample{}
			samples[k] = s
			order = append(order, k)
		}
		s.ns = append(s.ns, ns)
		if a := allocsRe.FindStringSubmatch(m[3]); a != nil {
			v, _ := strconv.ParseFloat(a[1], 64)
			s.allocs = append(s.allocs, v)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\toperation\tpeer\ttether ns/op\tpeer ns/op\tratio\ttether allocs/op\tpeer allocs/op\t")
	rows := 0
	for _, k := range order {
		op, impl, ok := cutLast(k.name)
		if !ok || impl != "tether" {
			continue
		}
		t := samples[k]
		for _, pk := range order {
			pop, peer, ok := cutLast(pk.name)
			if !ok || pop != op || peer == "tether" || pk.pkg != k.pkg {
				continue
			}
			p := samples[pk]
			tn, pn := median(t.ns), median(p.ns)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.1f\t%.2fx\t%s\t%s\t\n",
				k.pkg, strings.TrimPrefix(op, "Benchmark"), peer, tn, pn, tn/pn,
				allocs(t.allocs), allocs(p.allocs))
			rows++
		}
	}
	if rows == 0 {
		return fmt.Errorf("no pairs of tether and peer benchmarks in the input")
	}
	return tw.Flush()
}

// cutLast splits "BenchmarkX/sub/tether" into "BenchmarkX/sub" and "tether".
func cutLast(name string) (op, impl string, ok bool) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func allocs(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return strconv.FormatFloat(median(v), 'f', -1, 64)
}
