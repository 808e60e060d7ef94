// Package tlsstream is TLS over any [streams.ByteStream]: a socket, an
// in-memory pipe, any stream a user wrote. It is AnyIO's TLSStream and
// TLSListener in Go's shape, built on crypto/tls (through
// [streams.AsConn]) rather than beside it.
//
// [Client] and [Server] are shaped like tls.Client and tls.Server, but
// they run the handshake before they return, under ctx and a
// [HandshakeTimeout] (10 s by default), and close the stream under them
// when it fails, with a [*HandshakeError] whose chain reaches crypto/tls's
// own errors:
//
//	s, err := tlsstream.Client(ctx, conn, &tls.Config{ServerName: "example.com"})
//	if err != nil {
//		return err // conn is closed
//	}
//	defer s.Close()
//
// What a [Stream] adds to tls.Conn:
//
//   - a context on every call: a cancelled Receive consumes nothing and
//     the stream stays usable; a Send cancelled while blocked breaks the
//     stream, and every later call says so ([streams.ErrBroken]), since
//     crypto/tls cannot resume an interrupted write;
//   - the end of the stream made explicit: Close sends close_notify, and
//     a peer that closes without one is ErrBroken, unless
//     [StandardCompatible] is off (HTTPS-style peers);
//   - TLS half-close: SendEOF sends close_notify and keeps receiving;
//   - a Close that never waits long for a peer that does not read;
//   - typed attributes ([ConnectionState], [ALPNProtocol], [ServerName],
//     [PeerCertificates]) read with [streams.Extra], which also reaches
//     the attributes of the stream under it (a socket's ports, say).
//
// [NewListener] wraps any [streams.Listener] of byte streams. Each
// handshake runs in a task of its own, so a slow or hostile client holds
// up nobody; a failed handshake is reported ([OnError]) and never reaches
// Accept or a handler of [Listener.Serve]. sockets.ConnectTLS connects
// with Happy Eyeballs and then runs [Client].
//
// Package tlstest, beside this one, makes throwaway certificates for
// tests.
package tlsstream
