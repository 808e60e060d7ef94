package tethertest

import (
	"bufio"
	"bytes"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
)

// goroutine is one goroutine of a stack dump (runtime.Stack with all set),
// parsed.
type goroutine struct {
	id      int
	state   string  // "chan receive", "select, 2 minutes", ...
	frames  []frame // innermost first, as printed
	creator string  // the "created by" line, without its position: "pkg.f in goroutine 7"
	created string  // the position of the go statement: "/path/file.go:12"
	text    string  // the stack as printed, without the header
}

// frame is one function call of a stack.
type frame struct {
	fn  string // "pkg.(*T).m", without arguments
	pos string // "/path/file.go:12", without the PC offset
}

// snapshot returns every goroutine but the calling one.
func snapshot() []goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := parseStacks(buf)
	if len(all) > 0 {
		all = all[1:] // runtime.Stack prints the calling goroutine first
	}
	return all
}

// parseStacks parses a stack dump in the format of runtime.Stack. Lines it
// does not understand are kept in the text and otherwise ignored: the dump
// is only ever shown to people, and a new runtime's extra line must not
// lose a goroutine.
func parseStacks(dump []byte) []goroutine {
	var (
		all  []goroutine
		cur  *goroutine
		text strings.Builder
	)
	end := func() {
		if cur != nil {
			cur.text = strings.TrimRight(text.String(), "\n")
			all = append(all, *cur)
			cur = nil
		}
		text.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if id, state, ok := parseHeader(line); ok {
			end()
			cur = &goroutine{id: id, state: state}
			continue
		}
		if cur == nil {
			continue
		}
		if line == "" {
			end()
			continue
		}
		text.WriteString(line)
		text.WriteByte('\n')
		if strings.HasPrefix(line, "\t") {
			pos := trimOffset(strings.TrimPrefix(line, "\t"))
			if cur.creator != "" && cur.created == "" {
				cur.created = pos
			} else if n := len(cur.frames); n > 0 && cur.frames[n-1].pos == "" {
				cur.frames[n-1].pos = pos
			}
			continue
		}
		if c, ok := strings.CutPrefix(line, "created by "); ok {
			cur.creator = c
			continue
		}
		if cur.creator == "" && strings.HasSuffix(line, ")") {
			cur.frames = append(cur.frames, frame{fn: trimArgs(line)})
		}
	}
	end()
	return all
}

// parseHeader parses "goroutine 7 [chan receive]:" (whatever follows the
// state in the brackets, such as labels, is kept in state; what comes
// between the ID and the brackets, such as GOTRACEBACK=system's
// "gp=0xc000 m=nil", is dropped).
func parseHeader(line string) (id int, state string, ok bool) {
	rest, ok := strings.CutPrefix(line, "goroutine ")
	if !ok || !strings.HasSuffix(rest, "]:") {
		return 0, "", false
	}
	num, _, _ := strings.Cut(rest, " ")
	_, state, ok = strings.Cut(rest, " [")
	if !ok {
		return 0, "", false
	}
	id, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	return id, strings.TrimSuffix(state, "]:"), true
}

// trimArgs turns "pkg.(*T).m(0x1, {0x2, 0x3})" into "pkg.(*T).m": the
// arguments are the last parenthesised part, and contain no parentheses.
func trimArgs(line string) string {
	if i := strings.LastIndexByte(line, '('); i > 0 {
		return line[:i]
	}
	return line
}

// trimOffset turns "/path/file.go:12 +0x1d" into "/path/file.go:12".
func trimOffset(pos string) string {
	if i := strings.LastIndex(pos, " +0x"); i >= 0 {
		return pos[:i]
	}
	return pos
}

// signature is the part of a stack by which a goroutine dump and a
// goroutine profile can be matched: the functions and positions of the
// frames outside package runtime, which the two formats show alike, up to
// a depth that both print in full.
func signature(frames []frame) string {
	var b strings.Builder
	n := 0
	for _, f := range frames {
		if strings.HasPrefix(f.fn, "runtime.") {
			continue
		}
		b.WriteString(f.fn)
		b.WriteByte(' ')
		b.WriteString(f.pos)
		b.WriteByte('\n')
		if n++; n == maxSignatureFrames {
			break
		}
	}
	return b.String()
}

// maxSignatureFrames bounds the frames that a signature compares, well
// within what both a stack dump (100 frames) and a goroutine profile (at
// least 32) show.
const maxSignatureFrames = 24

// labelled is a set of goroutines with the same stack and the same
// runtime/pprof labels, as the goroutine profile counts them.
type labelled struct {
	labels map[string]string
	count  int
}

// labelsBySignature reads the goroutine profile at debug=1, which groups
// goroutines by stack and labels and counts each group, and returns its
// groups by stack signature.
//
// A goroutine dump (runtime.Stack) has goroutine IDs but no labels (unless
// GODEBUG=tracebacklabels=1), the profile has labels but no IDs: matching
// the two by stack is what tells which goroutines run which task. Where
// goroutines of one stack carry several label sets, the match is by count
// (see [classify]).
func labelsBySignature() map[string][]labelled {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return nil
	}
	return parseProfile(buf.String())
}

// parseProfile parses a goroutine profile printed at debug=1:
//
//	3 @ 0x4a1b 0x4a2c
//	# labels: {"group":"server", "task":"handler"}
//	#	0x4a1b	pkg.f+0x1d		/path/file.go:12
//
// with a blank line after each group.
func parseProfile(text string) map[string][]labelled {
	out := make(map[string][]labelled)
	for block := range strings.SplitSeq(text, "\n\n") {
		var (
			count  int
			labels map[string]string
			frames []frame
		)
		for line := range strings.SplitSeq(block, "\n") {
			switch {
			case strings.HasPrefix(line, "# labels: "):
				labels = parseLabels(strings.TrimPrefix(line, "# labels: "))
			case strings.HasPrefix(line, "#\t"):
				// "#\t0x4a1b\tpkg.f+0x1d\t\t/path/file.go:12": the
				// columns are aligned with tabs (a tabwriter).
				parts := strings.FieldsFunc(line[2:], func(r rune) bool { return r == '\t' })
				if len(parts) != 3 {
					continue
				}
				fn := parts[1]
				if i := strings.LastIndex(fn, "+0x"); i >= 0 {
					fn = fn[:i]
				}
				frames = append(frames, frame{fn: fn, pos: parts[2]})
			case strings.Contains(line, " @ "):
				n, _, _ := strings.Cut(line, " @ ")
				count, _ = strconv.Atoi(n)
			}
		}
		if count > 0 && len(frames) > 0 {
			sig := signature(frames)
			out[sig] = append(out[sig], labelled{labels: labels, count: count})
		}
	}
	return out
}

// parseLabels parses `{"group":"server", "task":"handler 1"}`, whose keys
// and values are quoted with %q.
func parseLabels(s string) map[string]string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	labels := make(map[string]string)
	for s != "" {
		key, rest, ok := unquotePrefix(s)
		if !ok || !strings.HasPrefix(rest, ":") {
			break
		}
		val, rest, ok := unquotePrefix(rest[1:])
		if !ok {
			break
		}
		labels[key] = val
		s = strings.TrimPrefix(rest, ", ")
	}
	return labels
}

func unquotePrefix(s string) (v, rest string, ok bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, false
	}
	v, err = strconv.Unquote(q)
	return v, s[len(q):], err == nil
}
