package streams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tether-go/tether/cancel"
	"github.com/tether-go/tether/internal/panics"
	"github.com/tether-go/tether/taskgroup"
)

// The back-off after a temporary accept error, as net/http's: 5 ms,
// doubling up to 1 s, back to the start after a successful Accept.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

// ServeOption configures [Serve]. Make one with [FailFast], [MaxConns],
// [Drain] or [OnError]. The zero ServeOption does nothing, as every zero
// option of the module. Options are values: one may be used by any number
// of Serve calls.
type ServeOption struct {
	apply func(*serveConfig)
}

type serveConfig struct {
	failFast bool
	maxConns int // 0: no limit
	drain    time.Duration
	hasDrain bool
	onError  func(error)
}

// FailFast makes a handler's error or panic fail the group, as AnyIO's
// serve does, instead of being reported and forgotten: the group (g, or
// Serve's own) is cancelled, the accept loop stops, every other handler is
// cancelled at once (even under [Drain]), and the failure is returned by
// the group's Wait — and by Serve itself when g is nil. A panic is left to
// the group, which recovers it as a [*taskgroup.PanicError]; Serve's own
// group returns it as an error. A cancellation error that a handler returns
// because Serve cancelled it is never a failure.
func FailFast() ServeOption {
	return ServeOption{apply: func(c *serveConfig) { c.failFast = true }}
}

// MaxConns lets at most n handlers run at once: when n are running, Serve
// does not call Accept until one of them returns, so that waiting
// connections stay in the listener's backlog rather than in memory. It is
// Serve's own limit; it never calls SetLimit on a caller's group. MaxConns
// panics if n < 1.
func MaxConns(n int) ServeOption {
	if n < 1 {
		panic(fmt.Sprintf("streams: MaxConns needs n >= 1, got %d", n))
	}
	return ServeOption{apply: func(c *serveConfig) { c.maxConns = n }}
}

// Drain makes shutdown graceful: whatever ends the serving — Serve's ctx
// being done, or the group being cancelled in any way (its Cancel, a
// failed task, its deadline, or the signal that [tether.Run] turns into
// its cancellation) — Serve stops accepting at once, but the running
// handlers' contexts stay alive for up to d more, so that they can finish
// what they are doing; then they are cancelled. During the drain a
// handler's ctx reports the drain's end as its Deadline.
//
// The first of these events starts the drain, and a later one neither
// extends nor shortens it. Only Serve's own decisions cut it short: a
// handler that fails under [FailFast], and an Accept that panics. Under
// [tether.Run], a second signal stops Run's wait for the drain: the
// handlers are abandoned with the process. Drain(0) cancels at once, as
// no Drain does. Drain panics if d < 0.
//
// Under Drain a handler's ctx is shielded from ctx and from the group
// (see [cancel.Shielded]): it keeps ctx's values but not its deadline,
// and the handler is still a task of the group, which waits for it.
//
// [tether.Run]: https://pkg.go.dev/github.com/tether-go/tether#Run
func Drain(d time.Duration) ServeOption {
	if d < 0 {
		panic(fmt.Sprintf("streams: Drain needs d >= 0, got %v", d))
	}
	return ServeOption{apply: func(c *serveConfig) { c.drain, c.hasDrain = d, true }}
}

// OnError makes Serve call fn with each error that it handles without
// returning it: a handler's error (as the handler returned it), a handler's
// panic (a [*taskgroup.PanicError], with the stack of the panic), and each
// temporary accept error that Serve retries after a pause (wrapped, with
// the pause in its message; errors.Is reaches the cause, e.g.
// syscall.EMFILE). Without OnError, these are logged with the default
// [slog.Logger]. fn may be called from several goroutines at once, and must
// not block for long: the handler's slot (see [MaxConns]) is held, or the
// accept loop waits, until it returns. Under [FailFast], handler failures
// fail the group and are not passed to fn. OnError panics if fn is nil.
func OnError(fn func(err error)) ServeOption {
	if fn == nil {
		panic("streams: OnError called with a nil function")
	}
	return ServeOption{apply: func(c *serveConfig) { c.onError = fn }}
}

// Serve accepts connections from l until ctx is done or l fails for good,
// and runs handler(ctx, conn) for each as a task of g (AnyIO's
// Listener.serve). When g is nil, Serve runs the handlers in a group of its
// own, and waits for every one of them before it returns.
//
// Each connection is closed when its handler returns (if T implements
// io.Closer; the error of that Close is ignored), and none is ever leaked.
// A connection accepted while Serve is shutting down is closed without a
// handler. Otherwise it is owned by its handler's task from the moment
// Serve hands it to g (a task handed to a group always runs), and a task
// that finds the handlers already cancelled closes it without calling the
// handler. A handler's error or panic ends its connection only: it is
// reported (see [OnError]) and Serve goes on accepting, unless [FailFast]
// is given. A handler's ctx has the values of ctx; it is cancelled when ctx
// is done or g is cancelled (under [Drain], when the drain ends).
//
// Accept errors: a temporary one (EMFILE, ENFILE, ECONNABORTED: the
// process or the system is out of file descriptors, or a connection was
// aborted while it waited) is reported, and Accept is retried after a
// pause of 5 ms that doubles, up to 1 s, with each error in a row, and
// starts again at 5 ms after an Accept that succeeds. (The deprecated
// Temporary method of net.Error is not consulted.) A closed listener
// (errors.Is(err, net.ErrClosed), which [ErrClosed] matches) ends Serve
// with nil: closing l is a way to stop accepting. Any other accept error ends Serve with that error; with g nil,
// Serve then cancels its handlers and waits for them first.
//
// Cancellation: when ctx is done, Serve stops accepting at once (a blocked
// Accept is cancelled, and so is the pause after an error) and returns nil,
// a clean shutdown: with g nil, after every handler has returned. The
// handlers are cancelled at once, or after the drain set by [Drain]. When
// a caller's group g is cancelled itself (g.Cancel, a failed task, its
// deadline), Serve stops accepting and returns the group's cancellation
// error (which g's Wait leaves out), and the handlers are cancelled at
// once, or after the drain. A Close of l that races a blocked Accept is a
// closed listener.
//
// Panics: a panic in Accept (or in the [OnError] function, when it reports
// an accept error, or in a connection's RemoteAddr or Attribute method,
// which name its task; that connection is closed first) is not recovered.
// Before it goes on up Serve's caller's stack, with the stack of the
// panic, Serve stops accepting and cancels its handlers at once (a drain
// included); with g nil, it also waits for them, so that nothing of Serve
// outlives the panic. With a caller's group, the handlers end in g, whose
// Wait waits for them.
//
// Names: when g has a name ([taskgroup.Named]; the group of a
// tethertest.Run has the test's), each handler runs as a named task of g
// ([taskgroup.Group.GoNamed]). Naming costs memory and time on every
// connection (see below), so it is what a named group asks for; in an
// unnamed group, and in Serve's own (g nil), handlers are plain tasks.
// The name is "handler " and the address of the connection's peer, as in
// "handler 127.0.0.1:4242", when the connection has one: from a RemoteAddr
// method (net.Conn's, [ConnStream]'s), else from the [RemoteAddr]
// attribute, found through [Extra]. Otherwise (a memstream connection, or
// a UNIX socket's unnamed peer) it is "handler #n", where n counts the
// connections that this call of Serve handed to handlers, from 1. The name
// is in the runtime/pprof labels of the handler's goroutine ("task",
// beside "group", the name that [taskgroup.Named] gave g), which the
// goroutines that the handler starts inherit: a goroutine profile, or a
// leak report of package tethertest, shows a hung or leaked handler as
//
//	task "handler 127.0.0.1:4242" of group "server"
//
// and [taskgroup.Tasks] lists the handlers that are running. Without
// [OnError], a handler's failure is logged, with its name ("task") if it
// has one.
//
// Serve never closes l: the caller owns it (defer l.Close()), and may serve
// it again after Serve returned. With a caller's group, Serve returns when
// the accept loop stops, while the handlers go on in g, still under the
// rules above; g's Wait waits for them. Serve takes a task of g for a
// moment at its start; if g has a limit (SetLimit), starting each handler
// waits for a slot of g, a wait that ends when g is cancelled (the task
// then runs at once) but does not see ctx: prefer [MaxConns].
//
// Serve costs a goroutine per connection, as a plain accept loop does,
// and one small allocation more: as much memory per idle connection as a
// goroutine-per-connection server, within 10% with a socket (make load).
// A named handler costs a named task's bookkeeping on top (see
// [taskgroup.Group.GoNamed]): the name, the runtime/pprof labels, the
// call site, the entry that [taskgroup.Tasks] reads, five more small
// allocations and a deeper stack; on a 2-core machine, some 2 KiB more
// per idle connection, a round trip over in-memory connections about 1.9
// times as long as a bare accept loop's (BenchmarkServe), and 1.15 times
// as long over loopback TCP. Serve panics if l or handler is nil.
func Serve[T any](ctx context.Context, l Listener[T], handler func(ctx context.Context, conn T) error, g *taskgroup.Group, opts ...ServeOption) error {
	if l == nil {
		panic("streams: Serve called with a nil listener")
	}
	if handler == nil {
		panic("streams: Serve called with a nil handler")
	}
	s := &server[T]{handler: handler}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&s.cfg)
		}
	}

	own := g == nil
	if own {
		// The handlers' panics are recovered by Serve, or, under FailFast,
		// returned by Wait: Serve returns failures, it does not raise them.
		g, s.gctx = taskgroup.New(ctx, taskgroup.PanicsAsErrors())
	} else {
		// The group's context is what its tasks receive: take it from a
		// task that returns at once. It tells Serve when g is cancelled.
		gctx, err := taskgroup.Start(context.Background(), g, func(gctx context.Context, started func(context.Context)) error {
			started(gctx)
			return nil
		})
		if err != nil {
			// Not expected: fn calls started at once, a task always runs
			// (in a cancelled group too), and Start's ctx is never done.
			return err
		}
		s.gctx = gctx
	}
	s.g = g
	s.named = g.Name() != ""
	s.count = !own
	s.start(ctx)

	acceptErr := s.acceptOrPanic(ctx, l, own)
	s.stop.Close(nil)
	if own {
		if acceptErr != nil {
			s.hs.Cancel()
		}
		err := g.Wait()
		s.release()
		switch {
		case acceptErr == nil:
			return err // nil, or a failure under FailFast
		case err == nil:
			return acceptErr
		default:
			return errors.Join(acceptErr, err)
		}
	}
	s.done() // the accept loop's share of the count
	switch {
	case acceptErr != nil:
		return acceptErr
	case s.gctx.Err() != nil && g.Scope().CancelCalled():
		return cancel.Checkpoint(s.gctx)
	default:
		return nil
	}
}

// server is the state of one Serve call, shared by its accept loop and its
// handlers, which may outlive the call when they run in a caller's group.
type server[T any] struct {
	cfg     serveConfig
	handler func(ctx context.Context, conn T) error
	g       *taskgroup.Group
	gctx    context.Context // the group's context

	// stop ends the accept loop: cancelled when ctx is done (its
	// parent) or when g's context is done.
	stop     *cancel.Scope
	stopCtx  context.Context
	hs       *cancel.Scope   // the handlers' scope
	hctx     context.Context // the handlers' context
	drainOne sync.Once
	unwatch  []func() bool // stops the context.AfterFunc watchers

	slots    chan struct{} // MaxConns; nil without a limit
	accepted uint64        // connections accepted so far; the accept loop's alone
	named    bool          // g has a name: handlers are named tasks

	// With a caller's group, live counts the handlers that have not
	// returned, plus one for the accept loop; who brings it to zero
	// releases the scopes. Serve's own group needs no count: Serve
	// releases them after Wait.
	count bool
	live  atomic.Int64
}

// start sets up the scopes, and the watchers that cancel them: without
// Drain, the handlers' scope is inside ctx, whose cancellation reaches it
// directly; with Drain, it is shielded from ctx, and a watcher on ctx
// starts the drain.
func (s *server[T]) start(ctx context.Context) {
	s.stop, s.stopCtx = cancel.Open(ctx)
	if s.cfg.hasDrain {
		s.hs, s.hctx = cancel.Open(ctx, cancel.Shielded())
		s.unwatch = append(s.unwatch, context.AfterFunc(ctx, s.drain))
	} else {
		s.hs, s.hctx = cancel.Open(ctx)
	}
	s.unwatch = append(s.unwatch, context.AfterFunc(s.gctx, s.groupDone))
	if s.cfg.maxConns > 0 {
		s.slots = make(chan struct{}, s.cfg.maxConns)
	}
	s.live.Store(1)
}

// groupDone runs when the group's context is done, however it was
// cancelled: that ends the serving, which drains under Drain. (A signal
// under tether.Run is a Cancel of the group: telling "the group's own
// cancellation" from "a shutdown" would cancel at once exactly the case
// that Drain is for.)
func (s *server[T]) groupDone() {
	cause := context.Cause(s.gctx)
	s.stop.CancelWithCause(cause)
	if s.cfg.hasDrain {
		s.drain()
		return
	}
	s.hs.CancelWithCause(cause)
}

// drain starts the drain: the handlers' scope gets a deadline d from now.
// Only the first call counts, so that a second trigger cannot extend it.
func (s *server[T]) drain() {
	s.drainOne.Do(func() { s.hs.SetDeadline(time.Now().Add(s.cfg.drain)) })
}

// done ends a handler, or the accept loop, when they are counted; the
// last one out releases the scopes.
func (s *server[T]) done() {
	if s.count && s.live.Add(-1) == 0 {
		s.release()
	}
}

// release closes the handlers' scope and stops the watchers, so that
// nothing stays registered in ctx.
func (s *server[T]) release() {
	for _, stop := range s.unwatch {
		stop()
	}
	s.hs.Close(nil)
}

// acceptOrPanic runs the accept loop. If it panics (in Accept, or in the
// OnError hook), the panic goes on once Serve's handlers are cancelled and,
// in Serve's own group, waited for: deferred without recover, so that the
// panic keeps its stack.
func (s *server[T]) acceptOrPanic(ctx context.Context, l Listener[T], own bool) error {
	panicking := true
	defer func() {
		if !panicking {
			return
		}
		s.stop.Close(nil)
		s.hs.Cancel()
		if own {
			_ = s.g.Wait() // what the handlers failed with is lost to the panic
			s.release()
			return
		}
		s.done() // the accept loop's share of the count
	}()
	err := s.acceptLoop(ctx, l)
	panicking = false
	return err
}

// acceptLoop accepts until stopCtx is done (nil), the listener is closed
// (nil) or fails otherwise (that error).
func (s *server[T]) acceptLoop(ctx context.Context, l Listener[T]) error {
	var delay time.Duration
	for {
		if s.slots != nil {
			select {
			case s.slots <- struct{}{}:
			case <-s.stopCtx.Done():
				return nil
			}
		}
		conn, err := l.Accept(s.stopCtx)
		if err != nil {
			s.releaseSlot()
			switch {
			case s.stopCtx.Err() != nil:
				return nil
			case errors.Is(err, net.ErrClosed):
				return nil
			case !isTemporary(err):
				return err
			}
			delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
			s.reportAccept(ctx, err, delay)
			if cancel.Sleep(s.stopCtx, delay) != nil {
				return nil
			}
			continue
		}
		delay = 0
		if s.stopCtx.Err() != nil {
			// Accepted as the shutdown began: no handler will serve it.
			closeConn(conn)
			s.releaseSlot()
			return nil
		}
		s.accepted++
		name := ""
		if s.named {
			name = s.taskName(conn)
		}
		if s.count {
			s.live.Add(1)
		}
		// From here the task owns conn: a task handed to a group always
		// runs, also in a cancelled group, and also when Go first waits
		// for a slot of a group with a limit.
		if name == "" {
			s.g.Go(func(context.Context) error { return s.serveConn(conn, "") })
		} else {
			s.g.GoNamed(name, func(context.Context) error { return s.serveConn(conn, name) })
		}
	}
}

func (s *server[T]) releaseSlot() {
	if s.slots != nil {
		<-s.slots
	}
}

// serveConn runs the handler for conn, then closes conn and gives back its
// slot: the body of a connection's task. A task that starts once the
// handlers are cancelled (it waited for a slot of the group, say) closes
// conn without calling the handler.
func (s *server[T]) serveConn(conn T, name string) error {
	defer s.end(conn)
	if s.handlersCancelled() {
		return nil
	}
	if s.cfg.failFast {
		return s.serveFailFast(conn)
	}
	// Isolated: a failure ends this connection only. The error or the
	// panic is reported, and the task returns nil.
	defer s.recoverIsolated(name)
	if err := s.handler(s.hctx, conn); s.failed(err) {
		s.report(err, name)
	}
	return nil
}

// handlersCancelled reports whether the handlers are cancelled, or about
// to be: without Drain, a group whose context is done cancels them as
// soon as its watcher runs.
func (s *server[T]) handlersCancelled() bool {
	return s.hctx.Err() != nil || (!s.cfg.hasDrain && s.gctx.Err() != nil)
}

// recoverIsolated, deferred, recovers an isolated handler's panic and
// reports it, with the stack of the panic.
func (s *server[T]) recoverIsolated(name string) {
	if r := recover(); r != nil {
		s.report(panics.New(r), name)
	}
}

// serveFailFast runs the handler so that its failure fails the group: its
// error is returned to the group, and a panic goes on to the group, which
// recovers it with its stack. Either way the other handlers are cancelled
// at once, even when the group was already cancelled from outside (so
// that its cancellation no longer signals) and a drain is running.
func (s *server[T]) serveFailFast(conn T) error {
	panicking := true
	defer func() {
		if panicking {
			s.hs.Cancel()
		}
	}()
	err := s.handler(s.hctx, conn)
	panicking = false
	if !s.failed(err) {
		return nil
	}
	s.hs.CancelWithCause(err)
	return err
}

// end closes conn once its handler has returned and gives back its slot.
func (s *server[T]) end(conn T) {
	closeConn(conn)
	s.releaseSlot()
	s.done()
}

// failed reports whether a handler's error is a failure: any error except
// the cancellation that Serve itself caused.
func (s *server[T]) failed(err error) bool {
	return err != nil && (s.hctx.Err() == nil || !cancel.IsCancelled(err))
}

// report reports the failure of the handler of the task named name.
func (s *server[T]) report(err error, name string) {
	if s.cfg.onError != nil {
		s.cfg.onError(err)
		return
	}
	msg := "streams: connection handler failed"
	var pe *taskgroup.PanicError
	if errors.As(err, &pe) {
		msg = "streams: connection handler panicked"
	}
	if name == "" {
		slog.Default().ErrorContext(s.hctx, msg, "error", err)
		return
	}
	slog.Default().ErrorContext(s.hctx, msg, "error", err, "task", name)
}

func (s *server[T]) reportAccept(ctx context.Context, err error, delay time.Duration) {
	if s.cfg.onError != nil {
		s.cfg.onError(fmt.Errorf("streams: accept failed, retrying in %v: %w", delay, err))
		return
	}
	slog.Default().WarnContext(ctx, "streams: accept failed, retrying", "error", err, "delay", delay)
}

// isTemporary reports whether an accept error is one to retry after a
// pause: the process or the system is out of file descriptors, or a
// connection was aborted while queued. Not the Temporary method of
// net.Error: deprecated, because it said true of errors that are not.
func isTemporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED)
}

// closeConn closes a connection if its type can be closed.
func closeConn[T any](conn T) {
	if c, ok := any(conn).(io.Closer); ok {
		_ = c.Close()
	}
}
