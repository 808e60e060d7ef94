// Package tethertest helps the tests of programs built on tether prove
// that nothing leaks and that their servers survive bad peers. It is to
// tether what net/http/httptest is to net/http, and it leans on
// go.uber.org/goleak, testing/synctest and the toxics of toxiproxy.
//
// [Run] runs a test's concurrent part in a task group bound to the test:
// its context ends a little before the test's deadline, so that a hung
// test ends with a list of the tasks still running instead of go test's
// dump of every goroutine; a task's error or panic fails the test; and
// goroutines left behind fail it too.
//
//	func TestServer(t *testing.T) {
//		tethertest.Run(t, func(ctx context.Context, g *taskgroup.Group) error {
//			l := memstream.Listen()
//			g.GoNamed("server", func(ctx context.Context) error { return serve(ctx, l) })
//			c, err := l.Dial(ctx)
//			...
//			g.Cancel() // stop the server: the test is over
//			return nil
//		})
//	}
//
// [VerifyNone] and [Main] check for leaked goroutines as goleak does, and
// report the ones that run tether tasks by the names that
// taskgroup.Group.GoNamed gave them (from their runtime/pprof labels):
//
//	found 1000 unexpected goroutines:
//
//	1000 tasks of group "server": "handler 127.0.0.1:4000", "handler 127.0.0.1:4001", "handler 127.0.0.1:4002" and 997 more
//	  runs example.com/app.handle (/src/app/server.go:57), started by goroutine 21, which is now in example.com/app.serve (/src/app/server.go:31)
//	  goroutine 22 [chan receive] (and 999 more with the same stack):
//	    example.com/app.handle({0x5591c5?, 0xa536a51eff0?})
//	    	/src/app/server.go:57 +0x1c
//	    ...
//
// The handlers of streams.Serve are such tasks when they run in a named
// group (taskgroup.Named; Run's group is named after the test): pass Run's
// g, or a named group of your own, to Serve. Serve names each after its
// connection, "handler " and the client's address ("handler #n" over a
// memstream.Listener, whose connections have none), so a server whose
// handlers leak or hang is reported as above, with the handler's own
// function on the "runs" line rather than Serve's machinery around it.
// Names are listed in numeric order: "handler #2" before "handler #10".
//
// A report cannot tell which goroutine carries which labels when
// goroutines with the same stack but different labels were not all
// leaked (some started before the check); it says so.
//
// [Faulty] wraps a byte stream so that it misbehaves as a bad network or
// peer does — [Chunked], [Latency], [Bandwidth], [ResetAfter],
// [EOFAfter], [StallAfter], [SlowClose] — and [FaultyAccepts] does the same
// to every connection a listener accepts, so that a server can be tested
// against bad clients over a memstream.Listener, without sockets. Faults
// wait on timers, so under testing/synctest a Latency(time.Hour) costs no
// real time.
//
// Nothing else in tether imports this package: it imports testing.
package tethertest
