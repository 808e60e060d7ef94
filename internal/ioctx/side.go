// Package ioctx makes blocking calls on Go's network types (a net.Conn's
// Read and Write, a UNIX socket's ReadMsgUnix, a UDP socket's
// ReadFromUDPAddrPort, a listener's Accept) return when a context is done.
// It is the one home of that machinery: streams.FromConn and every socket
// of package sockets use it.
//
// The trick is the one net/http uses: a context.AfterFunc sets a deadline
// in the past, which makes the blocked call return with a timeout, and the
// caller maps that timeout back to the context's error. A [Side] does it
// for one direction of one object, and keeps its registration from one
// call to the next while they share a context, so that a loop passing the
// same ctx pays for context.AfterFunc once and allocates nothing after.
package ioctx

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/tether-go/tether/internal/busy"
)

// aLongTimeAgo is the deadline that makes a blocked call return at once
// (as net/http does).
var aLongTimeAgo = time.Unix(1, 0)

// Side is the machinery of one direction of a connection (its receive
// side, its send side) or of a listener's accept: a [busy.Guard], so that two
// calls never run at once, and the registration that interrupts a blocked
// call when its context is done. Set it up with [Side.Init]; the zero value
// is not usable, and a Side must not be copied after Init.
//
// A call goes: Acquire (or refuse), cancel.Checkpoint, Watch(ctx), the
// blocking call, Finish(ctx, err), Release. Between Acquire and Release
// the caller owns the deadline the Side was given; nobody else may set it.
//
// Cost: Watch does nothing when ctx.Done() is nil. Otherwise the first
// call with a context registers a function with it, and later calls with
// the same context reuse that registration and allocate nothing. A context
// with an AfterFunc method (a cancel scope's, a task's) takes the function
// itself, which costs three small allocations and runs it on the goroutine
// that cancels; any other goes through context.AfterFunc, which costs a
// derived context and a goroutine when it fires.
type Side struct {
	busy  busy.Guard
	write bool // the Side guards owner's writes, else its reads
	// owner is the connection or listener whose calls the Side guards:
	// an interface, not two func values, which would cost an allocation
	// each on every socket.
	owner   Owner
	pending sync.WaitGroup
	// The registration of abortCall with the context of the last call,
	// which is kept for the next one. Owned by the busy holder.
	watched context.Context
	stop    func() bool
}

// Owner is what a [Side] guards the calls of: a connection or a listener.
type Owner interface {
	// Closed reports whether the owner was closed: its Close sets that
	// before it closes what it holds, and then calls [Side.AfterClose] on
	// each of its Sides.
	Closed() bool
	// SetReadDeadline sets the deadline of the calls of a Side of reads
	// (a listener's: of its Accept); SetWriteDeadline, of a Side of
	// writes.
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// Init sets the Side up to guard owner's writes (write is true) or its
// reads.
func (d *Side) Init(owner Owner, write bool) {
	d.owner, d.write = owner, write
}

// setDeadline sets the deadline of the calls the Side guards.
func (d *Side) setDeadline(t time.Time) {
	if d.write {
		d.owner.SetWriteDeadline(t)
	} else {
		d.owner.SetReadDeadline(t)
	}
}

// abortCall runs once the watched context is done: on a goroutine of its
// own (context.AfterFunc's), or on the one that cancelled the context
// (an AfterFunc method's). It sets a deadline in the past, which makes a
// blocked call return, and then says so on pending (Done), which each
// registration counts (Add): a WaitGroup costs nothing per Side, where a
// channel would cost an allocation on every socket. It never blocks.
func (d *Side) abortCall() {
	d.setDeadline(aLongTimeAgo)
	d.pending.Done()
}

// afterFuncer is a context that runs a function once it is done, as
// package context's propagateCancel knows it: a cancel scope's context is
// one.
type afterFuncer interface {
	AfterFunc(f func()) (stop func() bool)
}

// Acquire claims the Side for one call and reports whether it could. When
// it could not, the owner is closed (the caller's ErrClosed: Close may hold
// the flag for a moment) if [Side.Closed] says so, and otherwise another
// call is running (ErrBusy). A successful Acquire must be paired with
// [Side.Release].
func (d *Side) Acquire() bool {
	if !d.busy.TryAcquire() {
		return false
	}
	if d.owner.Closed() {
		d.Release()
		return false
	}
	return true
}

// Closed reports whether the owner was closed.
func (d *Side) Closed() bool { return d.owner.Closed() }

// Release ends a call. If the owner was closed meanwhile, whoever of Close
// and the call comes last drops the registration (see AfterClose): each
// sets its flag before it looks at the other's.
func (d *Side) Release() {
	d.busy.Release()
	if d.owner.Closed() {
		d.AfterClose()
	}
}

// AfterClose drops the registration once the owner is closed, so that a
// long-lived context does not keep it reachable, unless a call is running:
// that call does it in Release. Close calls it on each Side after setting
// the closed flag and closing the connection (which wakes a blocked call).
func (d *Side) AfterClose() {
	if d.busy.TryAcquire() {
		d.unwatch()
		d.busy.Release()
	}
}

// Watch makes sure that the blocked call is interrupted if ctx is done
// during it, and that no registration with another context can interrupt
// it meanwhile. The caller holds the Side.
func (d *Side) Watch(ctx context.Context) {
	if d.stop != nil && d.watched == ctx {
		return
	}
	d.unwatch()
	if ctx.Done() == nil { // never done: nothing to watch, nothing to pay
		return
	}
	d.pending.Add(1)
	d.watched = ctx
	if af, ok := ctx.(afterFuncer); ok {
		// Straight to the context's own list: no derived context, no
		// goroutine when it fires.
		d.stop = af.AfterFunc(d.abortCall)
	} else {
		d.stop = context.AfterFunc(ctx, d.abortCall)
	}
}

// unwatch drops the registration, and reports whether abort ran. stop
// does not wait for abort, and an abort that set its deadline after the
// reset below would make the next call fail: so when abort has started,
// wait for it to finish first (net/http's abortPendingRead does the same).
func (d *Side) unwatch() (aborted bool) {
	if d.stop == nil {
		return false
	}
	if d.stop() {
		d.pending.Done() // abort will never run
	} else {
		d.pending.Wait()
		d.setDeadline(time.Time{})
		aborted = true
	}
	d.watched, d.stop = nil, nil
	return aborted
}

// Finish ends the blocking call made under ctx, which returned err, and
// reports whether its failure came from ctx: then the caller returns
// cancel.Checkpoint(ctx) (the context's error, with its cause) in place
// of err, unless the call also transferred data, which it must not lose.
// Once ctx is done its registration is of no more use: dropping it here
// lifts the past deadline, so the next call works.
func (d *Side) Finish(ctx context.Context, err error) (cancelled bool) {
	select {
	case <-ctx.Done(): // cheaper than Err, which may look up the cause
	default:
		return false
	}
	aborted := d.unwatch()
	return aborted && IsTimeout(err)
}

// IsTimeout reports whether err is a deadline's.
func IsTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsBroken reports whether err says that the peer went away: the
// connection was reset or aborted, or the pipe is broken.
func IsBroken(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}
