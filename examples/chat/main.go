// Command chat is a chat server that shows tether's model at work: every
// line a client sends goes to every other client, through in-memory
// object streams (package memstream), with one task group per connection.
//
//	go run ./examples/chat                       # listens on 127.0.0.1:7000
//	nc 127.0.0.1 7000                            # in two or more terminals
//
// How it is built:
//
//   - One hub task owns the list of members. Handlers talk to it only
//     through one stream of events (join, a line, leave); nothing is shared
//     and nothing is locked.
//   - Each member has an outbox, a small memstream buffer, and a writer
//     task that sends what arrives there to the member's connection. The
//     hub fans each line out with TrySend, which never blocks: a client
//     that does not read fills its outbox, and is dropped, and nobody else
//     waits for it.
//   - A member who leaves (or is dropped, or whose connection breaks) ends
//     its handler's task group: the reader and the writer stop together,
//     the hub hears "leave" (sent from a shielded scope, so that it gets
//     through even though the handler was cancelled), closes the outbox,
//     and Serve closes the connection. Nothing stays behind.
//   - Ctrl-C cancels everything: Serve stops accepting, the handlers end,
//     the hub ends, and the program says it shut down cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/memstream"
	"github.com/tether-go/tether/sockets"
	"github.com/tether-go/tether/streams"
	"github.com/tether-go/tether/taskgroup"
)

func main() {
	tether.Main(func(ctx context.Context, _ *taskgroup.Group) error {
		return run(ctx, os.Args[1:], os.Stdout)
	})
}

// maxLine is the longest line a client may send; a longer one ends its
// connection.
const maxLine = 1024

// errTooSlow is the cause with which the hub cancels a member that does
// not read fast enough.
var errTooSlow = errors.New("chat: client too slow: its outbox is full")

// An event is what a handler tells the hub.
type event struct {
	kind   eventKind
	id     int
	text   string                    // say
	outbox *memstream.Sender[string] // join
	drop   func()                    // join: cancels the member's handler
}

type eventKind int

const (
	join eventKind = iota
	say
	leave
)

// member is the hub's record of a client.
type member struct {
	outbox *memstream.Sender[string]
	drop   func()
}

// hub owns the members; only its run method touches them.
type hub struct {
	members map[int]member
	log     io.Writer
}

// run handles events until the stream ends or ctx is done, then closes
// every outbox that is left.
func (h *hub) run(ctx context.Context, events *memstream.Receiver[event]) error {
	defer func() {
		for id := range h.members {
			h.remove(id)
		}
	}()
	for ev := range events.All(ctx) {
		name := fmt.Sprintf("client %d", ev.id)
		switch ev.kind {
		case join:
			h.members[ev.id] = member{outbox: ev.outbox, drop: ev.drop}
			ev.outbox.TrySend(fmt.Sprintf("* welcome, you are %s; %d online", name, len(h.members)))
			h.broadcast(ev.id, "* "+name+" joined")
			fmt.Fprintf(h.log, "chat: %s joined (%d online)\n", name, len(h.members))
		case say:
			h.broadcast(ev.id, name+": "+ev.text)
		case leave:
			if _, ok := h.members[ev.id]; !ok {
				continue // already dropped
			}
			h.remove(ev.id)
			h.broadcast(ev.id, "* "+name+" left")
			fmt.Fprintf(h.log, "chat: %s left (%d online)\n", name, len(h.members))
		}
	}
	return cancel.Checkpoint(ctx)
}

// broadcast sends line to every member but the one with id from, without
// ever waiting: a member whose outbox is full is dropped.
func (h *hub) broadcast(from int, line string) {
	var slow []int
	for id, m := range h.members {
		if id == from {
			continue
		}
		if err := m.outbox.TrySend(line); errors.Is(err, streams.ErrWouldBlock) {
			slow = append(slow, id)
		}
	}
	for _, id := range slow {
		h.members[id].drop()
		h.remove(id)
		fmt.Fprintf(h.log, "chat: client %d was too slow: dropped (%d online)\n", id, len(h.members))
		h.broadcast(id, fmt.Sprintf("* client %d was too slow and was dropped", id))
	}
}

// remove forgets a member and closes its outbox: its writer sends what is
// left in it, then sees the end of the stream.
func (h *hub) remove(id int) {
	h.members[id].outbox.Close()
	delete(h.members, id)
}

// server is what the handlers share: the sending end of the hub's events.
type server struct {
	events *memstream.Sender[event]
	outbox int // capacity of each member's outbox
	nextID atomic.Int64
}

// handle runs one member: a reader that turns lines into events and a
// writer that sends the outbox to the connection, in one task group, so
// that when either ends, both do.
func (s *server) handle(ctx context.Context, conn *sockets.SocketStream) error {
	id := int(s.nextID.Add(1))
	scope, ctx := cancel.Open(ctx)
	defer scope.Close(nil)
	outbox, inbox := memstream.New[string](s.outbox)
	defer inbox.Close()
	err := s.events.Send(ctx, event{kind: join, id: id, outbox: outbox,
		drop: func() { scope.CancelWithCause(errTooSlow) }})
	if err != nil {
		return err
	}
	// Whatever ends the handler, the hub must hear that the member left:
	// send it from a shielded scope, which the handler's cancellation does
	// not reach, bounded by a timeout of its own.
	defer cancel.Run(ctx, func(ctx context.Context) error {
		return s.events.Send(ctx, event{kind: leave, id: id})
	}, cancel.Shielded(), cancel.WithTimeout(time.Second))

	err = taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		g.Go(func(ctx context.Context) error { // the writer
			for line := range inbox.All(ctx) {
				if err := conn.Send(ctx, []byte(line+"\n")); err != nil {
					return err
				}
			}
			g.Cancel() // the hub closed the outbox: stop reading too
			return nil
		})
		in := streams.NewBuffered(conn)
		for {
			line, err := in.ReceiveUntil(ctx, []byte("\n"), maxLine)
			if errors.Is(err, streams.ErrIncompleteRead) {
				// The client left, maybe after a last line without "\n".
				if last := in.Buffer(); len(last) > 0 {
					s.events.Send(ctx, event{kind: say, id: id, text: string(trimCR(last))})
				}
				g.Cancel() // stop writing too
				return nil
			}
			if err != nil {
				return err
			}
			if err := s.events.Send(ctx, event{kind: say, id: id, text: string(trimCR(line))}); err != nil {
				return err
			}
		}
	})
	if errors.Is(context.Cause(ctx), errTooSlow) {
		return nil // dropped by the hub, which said so
	}
	return err
}

// trimCR drops the carriage return of a line that ended with "\r\n".
func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

// run listens, prints "chat: listening on ADDR", and serves until ctx is
// cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 7000, "port to listen on (0: any free port)")
	outbox := fs.Int("outbox", 64, "lines buffered for each client before it counts as too slow")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return nil // -h: fs printed the usage
	case err != nil:
		return err
	}
	if *outbox < 1 {
		return fmt.Errorf("chat: -outbox must be at least 1, got %d", *outbox)
	}
	listener, err := sockets.ListenTCP(sockets.LocalHost(*host), sockets.Port(*port))
	if err != nil {
		return err
	}
	defer listener.Close()
	addr, _ := streams.Extra(listener, sockets.LocalAddr)
	fmt.Fprintf(stdout, "chat: listening on %v\n", addr)

	err = taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
		send, events := memstream.New[event](64)
		s := &server{events: send, outbox: *outbox}
		h := &hub{members: make(map[int]member), log: stdout}
		g.Go(func(ctx context.Context) error {
			defer events.Close()
			return h.run(ctx, events)
		})
		defer send.Close()
		return listener.Serve(ctx, s.handle, nil)
	})
	if err != nil && !(cancel.IsCancelled(err) && ctx.Err() != nil) {
		return err
	}
	fmt.Fprintf(stdout, "chat: %v: shut down cleanly\n", context.Cause(ctx))
	return nil
}
