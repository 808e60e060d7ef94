# A TLS server in AnyIO, as in AnyIO's TLS guide (the seed points to it:
# "See the section on TLS"), with the port and the certificate's files taken
# from argv and the listener kept on loopback:
# python3 tls_server.py PORT CERTFILE KEYFILE
import ssl
import sys

from anyio import create_tcp_listener, run
from anyio.streams.tls import TLSListener


async def handle(client):
    async with client:
        name = await client.receive()
        await client.send(b'Hello, %s\n' % name)


async def main():
    # Create a context for the purpose of authenticating clients
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)

    # Load the server certificate and private key
    context.load_cert_chain(certfile=sys.argv[2], keyfile=sys.argv[3])

    # Create the listener and start serving connections
    listener = TLSListener(
        await create_tcp_listener(local_host='127.0.0.1', local_port=int(sys.argv[1])), context)
    await listener.serve(handle)

run(main)
