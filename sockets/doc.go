// Package sockets is tether's network: TCP and UNIX stream sockets (and,
// in files of their own, UDP, UNIX datagrams and the passing of open
// files) whose every connect, accept, send and receive takes a context and
// returns promptly when it is done, leaving the socket usable.
//
// It is package net with structured concurrency on top, not a replacement
// for it: each socket is a net.TCPConn, net.UnixConn or net.Listener
// underneath, and its streams are [streams.ByteStream]s, so the wrappers of
// package streams (Buffered, Text, AsConn for crypto/tls and net/http)
// work on them. What it adds to net:
//
//   - [ConnectTCP] implements Happy Eyeballs v2 (RFC 8305) with a task
//     group, where net.Dialer races two families RFC 6555-style.
//   - [ListenTCP] listens on every family the machine has, on one port, as
//     one [MultiListener].
//   - Every listener has Accept(ctx) and Serve(ctx, handler, g, opts...),
//     one handler per connection in a task group (streams.Serve), and
//     [Combine] serves several as one (TCP and UNIX, through [Streams]).
//   - Errors follow the streams contract: io.EOF for the peer's close,
//     [streams.ErrBroken] for a reset (the OS error reachable),
//     [streams.ErrClosed] for our own Close, [streams.ErrBusy] for two
//     concurrent receives.
//
// Options are one type, [Option], shared by every constructor; the zero
// Option does nothing, and a bad value is an error naming the option.
// Attributes (LocalAddr, RemoteAddr, LocalPort, RemotePort, Family,
// RawConn) are read with [streams.Extra].
package sockets
