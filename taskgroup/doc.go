// Package taskgroup runs goroutines as tasks of a group that outlives none
// of them: Trio's nurseries and AnyIO's task groups, with the shape of
// golang.org/x/sync/errgroup.
//
// The nursery form is the one to reach for first. [Run] returns only when
// its body and every task started in the group have returned:
//
//	err := taskgroup.Run(ctx, func(ctx context.Context, g *taskgroup.Group) error {
//		g.Go(func(ctx context.Context) error { return serve(ctx) })
//		g.GoNamed("janitor", func(ctx context.Context) error { return sweep(ctx) })
//		return nil
//	})
//
// [New] and [Group.Wait] are the errgroup form, and the zero [Group] works
// as errgroup's does (a group in context.Background): code written for
// errgroup moves over by changing the import and giving each task a ctx
// parameter:
//
//	g, ctx := taskgroup.New(ctx)
//	g.Go(func(ctx context.Context) error { return fetch(ctx, url) })
//	err := g.Wait()
//
// What it adds to errgroup:
//
//   - Every task receives the group's context, which is a cancel scope
//     ([Group.Scope], package cancel): the first task to fail cancels it,
//     with its error as context.Cause; [Group.Cancel] cancels it on purpose.
//   - Errors are not lost. Wait returns nil, the one error itself
//     (unwrapped), or several joined (first failure first), leaving out the
//     cancellation errors that the group's own cancellation caused, and
//     counting an error identical to the one that cancelled the group (a
//     task returning context.Cause(ctx)) as that failure. A cancellation
//     from outside the group comes back once.
//   - Panics are recovered, cancel the group, and are raised again from
//     Wait or Run as a [*PanicError] carrying the task's stack, once every
//     task has returned ([PanicsAsErrors] returns them instead).
//   - [Start] runs a task and waits until it reports that it is ready,
//     with a value: "listen, then tell me the address" in one call. Until
//     then the caller's ctx cancels it; a start cancelled by its caller
//     never reaches the group.
//   - A task handed to the group always runs, with the group's context,
//     even when the group is already cancelled, so that it always owns what
//     it was given. Under [Group.SetLimit], Go waits for a slot only while
//     the group is not cancelled; a cancelled group starts tasks at once.
//   - When Run's body ends with runtime.Goexit (t.Fatal in a test), Run
//     cancels the group and waits for its tasks before the goroutine
//     unwinds: no task outlives a failed test.
//   - Named tasks ([Group.GoNamed]) carry runtime/pprof labels, so that a
//     goroutine profile shows which group and task each goroutine is, and
//     [Tasks] lists those still running.
//
// A task that never returns keeps Wait waiting: every task must honour its
// ctx. Mistakes (a nil function, Go after Wait returned, SetLimit while
// tasks run, started called twice) panic with a "taskgroup: " message.
package taskgroup
