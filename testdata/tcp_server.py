# The seed's TCP server (AnyIO, "Working with TCP sockets"), with the port
# taken from argv and the listener kept on loopback:
# python3 tcp_server.py PORT
import sys

from anyio import create_tcp_listener, run


async def handle(client):
    async with client:
        name = await client.receive(1024)
        await client.send(b'Hello, %s\n' % name)


async def main():
    listener = await create_tcp_listener(local_host='127.0.0.1', local_port=int(sys.argv[1]))
    await listener.serve(handle)

run(main)
