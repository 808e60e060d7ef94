package streamtest

import (
	"fmt"
	"io"
	mrand "math/rand"
	"reflect"
	"testing"
	"testing/quick"
	"time"

	"github.com/tether-go/tether/streams"
)

// TestObjectStream runs the conformance checks for [streams.ObjectSender]
// and [streams.ObjectReceiver] on pairs made by makePair (a sender and the
// receiver it feeds), each as a subtest of t with a fresh pair. The maker
// releases anything besides the two handles with t.Cleanup; the suite
// closes the handles itself.
//
// The values sent are made by testing/quick.Value, so T may be any type it
// can make: T may implement quick.Generator to choose its values; an
// interface type that int or string implements gets ints or strings;
// other interfaces, channels, functions and structs with unexported fields
// fail at once. Received values are compared with reflect.DeepEqual, in
// order.
//
// The checks: ordering, the zero value delivered as an item, the end of
// the stream after the sender closed, ErrBroken after the receiver closed,
// ErrClosed on a closed handle, Close idempotent and waking blocked calls,
// cancellation while blocked (nothing consumed, and a cancelled Send
// delivers nothing), and, under concurrent cancellations, that every value
// whose Send returned nil is received exactly once and in order. Each is
// bounded in time (10 s) as [TestByteStream]'s are.
//
// The subtests: Order, ZeroValue, ReceiveAfterSenderClose,
// SendAfterReceiverClose, UseAfterClose, CloseIdempotent,
// CloseWhileReceiving, SenderCloseWhileReceiving, CloseWhileSending,
// ReceiverCloseWhileSending, CancelWhileReceiving,
// CancelledSendNotDelivered and ConcurrentStress.
func TestObjectStream[T any](t *testing.T, makePair func(t *testing.T) (streams.ObjectSender[T], streams.ObjectReceiver[T])) {
	t.Helper()
	if _, err := newValueGen[T](0); err != nil {
		t.Fatalf("streamtest: %v", err)
	}
	for i, c := range objectChecks[T]() {
		t.Run(c.name, func(t *testing.T) {
			runObjectCheck(t, t, checkTimeout, makePair, int64(i+1), c.run)
		})
	}
}

// objectCheck is one check of the object stream contract, run on a fresh
// pair with its own deterministic value generator.
type objectCheck[T any] struct {
	name string
	run  func(e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T])
}

// objectChecks lists the checks in the order they run; the names are the
// subtest names.
func objectChecks[T any]() []objectCheck[T] {
	return []objectCheck[T]{
		{"Order", checkObjectOrder[T]},
		{"ZeroValue", checkObjectZeroValue[T]},
		{"ReceiveAfterSenderClose", checkObjectReceiveAfterSenderClose[T]},
		{"SendAfterReceiverClose", checkObjectSendAfterReceiverClose[T]},
		{"UseAfterClose", checkObjectUseAfterClose[T]},
		{"CloseIdempotent", checkObjectCloseIdempotent[T]},
		{"CloseWhileReceiving", checkObjectCloseWhileReceiving[T]},
		{"SenderCloseWhileReceiving", checkObjectSenderCloseWhileReceiving[T]},
		{"CloseWhileSending", checkObjectCloseWhileSending[T]},
		{"ReceiverCloseWhileSending", checkObjectReceiverCloseWhileSending[T]},
		{"CancelWhileReceiving", checkObjectCancelWhileReceiving[T]},
		{"CancelledSendNotDelivered", checkObjectCancelledSend[T]},
		{"ConcurrentStress", checkObjectStress[T]},
	}
}

// runObjectCheck makes a pair with t, runs check on it reporting to tb (t
// itself, or a recorder in the suite's own tests), and closes the pair.
func runObjectCheck[T any](t *testing.T, tb testing.TB, timeout time.Duration,
	makePair func(t *testing.T) (streams.ObjectSender[T], streams.ObjectReceiver[T]), seed int64,
	check func(e *env, g *valueGen[T], s streams.ObjectSender[T], r streams.ObjectReceiver[T]),
) {
	t.Helper()
	g, err := newValueGen[T](seed)
	if err != nil {
		tb.Fatalf("streamtest: %v", err)
	}
	s, r := makePair(t)
	if s == nil || r == nil {
		tb.Fatalf("streamtest: makePair returned a nil handle (sender=%v, receiver=%v)", s, r)
	}
	run(tb, timeout, []io.Closer{s, r}, func(e *env) { check(e, g, s, r) })
}

// valueGen makes values of T with testing/quick, deterministically from
// its seed. It is not safe for concurrent use.
type valueGen[T any] struct {
	rng *mrand.Rand
	typ reflect.Type // T, or the concrete type used for an interface T
}

// newValueGen returns a generator for T, or an error saying why
// testing/quick cannot make values of T.
func newValueGen[T any](seed int64) (*valueGen[T], error) {
	typ := reflect.TypeFor[T]()
	if typ.Kind() == reflect.Interface {
		for _, c := range []reflect.Type{reflect.TypeFor[int](), reflect.TypeFor[string]()} {
			if c.Implements(typ) {
				typ = c
				break
			}
		}
	}
	g := &valueGen[T]{rng: mrand.New(mrand.NewSource(seed)), typ: typ}
	if _, err := g.make(); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *valueGen[T]) make() (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("testing/quick cannot make values of type %v: %v", reflect.TypeFor[T](), p)
		}
	}()
	rv, ok := quick.Value(g.typ, g.rng)
	if !ok {
		return v, fmt.Errorf("testing/quick cannot make values of type %v; implement quick.Generator or use another type", reflect.TypeFor[T]())
	}
	v, ok = rv.Interface().(T)
	if !ok {
		return v, fmt.Errorf("testing/quick made a %v, which is not a %v", rv.Type(), reflect.TypeFor[T]())
	}
	return v, nil
}

// values returns n new values.
func (g *valueGen[T]) values(n int) []T {
	vs := make([]T, n)
	for i := range vs {
		vs[i], _ = g.make() // newValueGen checked that it works
	}
	return vs
}

// wantSequence reports the first difference between got and want.
func wantSequence[T any](e *env, got, want []T, what string) bool {
	e.t.Helper()
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			e.t.Errorf("%s: item %d: got %s, want %s", what, i, show(got[i]), show(want[i]))
			return false
		}
	}
	if len(got) != len(want) {
		e.t.Errorf("%s: got %d items, want %d (lost or duplicated items)", what, len(got), len(want))
		return false
	}
	return true
}

// show formats a value of any type for a message, shortened.
func show(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
