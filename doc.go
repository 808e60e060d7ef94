// Package tether is a structured-concurrency runtime for Go, in the spirit
// of Python's Trio and AnyIO, made idiomatic for Go. This package is the
// top-level entry: [Run] and [Main] run a program's tasks in one task group
// that a SIGINT or SIGTERM cancels. The work itself is done by the
// packages below it.
//
// # The rules
//
//  1. Every goroutine belongs to a task group, and no task outlives its
//     group: [taskgroup.Run] returns only when every task it started has
//     returned.
//  2. Every blocking call takes a context.Context first, and returns
//     promptly when it is done, with a cancellation error that satisfies
//     errors.Is(err, context.Canceled) (or context.DeadlineExceeded) and
//     keeps its cause (context.Cause) reachable.
//  3. Cancellation flows down a tree of cancel scopes (cancel.Scope): a
//     scope is cancelled by its own Cancel or deadline, or by any scope
//     around it that is not shielded from it.
//  4. A scope catches only its own cancellation; a cancellation from
//     further out passes through it, to the scope it belongs to.
//  5. The first task to fail cancels its group; the group reports the
//     failures, never the cancellations it caused itself.
//  6. A panic in a task cancels its group and is raised again where the
//     group is waited for, with the task's stack.
//  7. Cleanup that must finish during shutdown runs in a shielded scope,
//     bounded by a timeout of its own.
//
// Package taskgroup is errgroup with these rules; package cancel is
// context with scopes on top; the streams are net.Conn and channels that
// honour them.
//
// # AnyIO's concepts in tether
//
//	anyio.run                               tether.Run, tether.Main
//	create_task_group()                     taskgroup.Run (taskgroup.New + Wait: errgroup's shape)
//	TaskGroup.start_soon                    Group.Go, Group.GoNamed
//	TaskGroup.start                         taskgroup.Start
//	CancelScope                             cancel.Open, cancel.Run
//	move_on_after, fail_after               cancel.MoveOnAfter, cancel.FailAfter
//	CancelScope(shield=True)                cancel.Shielded
//	sleep, checkpoint                       cancel.Sleep, cancel.Checkpoint
//	create_memory_object_stream             memstream.New
//	abc.ByteStream, ObjectStream, Listener  streams.ByteStream, streams.ObjectStream, streams.Listener
//	BufferedByteReceiveStream               streams.NewBuffered
//	TextStream                              streams.NewText
//	StapledByteStream                       streams.Staple
//	Listener.serve                          streams.Serve
//	connect_tcp, create_tcp_listener        sockets.ConnectTCP, sockets.ListenTCP
//	connect_unix, create_unix_listener      sockets.ConnectUnix, sockets.ListenUnix
//	send_fds, receive_fds                   UnixStream.SendFDs, UnixStream.ReceiveFDs
//	create_udp_socket                       sockets.ListenUDP, sockets.ListenUnixDatagram
//	create_connected_udp_socket             sockets.ConnectUDP, sockets.ConnectUnixDatagram
//	connect_tcp(tls=True)                   sockets.ConnectTLS
//	TLSStream, TLSListener                  tlsstream.Client, tlsstream.Server, tlsstream.NewListener
//	anyio.pytest plugin, trio.testing       package tethertest (leak checks, faulty streams)
//
// Exception groups become plain Go errors: one failure is returned as it
// is, several are joined (errors.Join), and errors.Is and errors.As reach
// each one.
//
// # A tour
//
// A program is a task group. Tasks start with Go, and end when they
// return or when the group is cancelled:
//
//	func main() {
//		tether.Main(func(ctx context.Context, g *taskgroup.Group) error {
//			g.Go(func(ctx context.Context) error {
//				for {
//					if err := cancel.Sleep(ctx, time.Second); err != nil {
//						return err // Ctrl-C: a cancellation, not a failure
//					}
//					fmt.Println("tick")
//				}
//			})
//			return nil
//		})
//	}
//
// Start runs a task and waits until it reports that it is ready, with a
// value: "listen, then tell me the port" is one call.
//
//	port, err := taskgroup.Start(ctx, g, func(ctx context.Context, started func(int)) error {
//		l := listen()
//		started(l.Port())
//		return serve(ctx, l)
//	})
//
// Timeouts are scopes with a deadline. MoveOnAfter gives up quietly;
// FailAfter returns an error for which errors.Is(err, cancel.ErrTimeout)
// holds:
//
//	timedOut, err := cancel.MoveOnAfter(ctx, time.Second, fetch)
//	err = cancel.FailAfter(ctx, time.Second, fetch)
//
// Cleanup that must finish even though the task was cancelled runs in a
// shielded scope:
//
//	<-ctx.Done()
//	return cancel.Run(ctx, flush, cancel.Shielded(), cancel.WithTimeout(5*time.Second))
//
// A panic in a task is raised again by Wait, or returned as a
// [*taskgroup.PanicError] under [taskgroup.PanicsAsErrors]. Cancelling a
// group (Group.Cancel) ends its tasks; Wait then returns nil, since the
// group itself asked for the cancellations.
//
// A server is a task of the run's group too. Under Run, with the run's
// group, streams.Serve with streams.Drain shuts down gracefully on SIGTERM:
// it stops accepting at once, lets the running handlers finish for up to
// the drain's length, and then cancels them; a second signal stops
// waiting for them.
//
//	tether.Main(func(ctx context.Context, g *taskgroup.Group) error {
//		l := listen()
//		defer l.Close()
//		return streams.Serve(ctx, l, handle, g, streams.Drain(10*time.Second))
//	})
//
// Run and Main watch SIGINT and SIGTERM; [Signals] chooses others, or
// none.
//
// The program in examples/tour runs each of these and prints what happens:
//
//	go run ./examples/tour
package tether
