# The seed's UNIX socket server (AnyIO, "Working with UNIX sockets"), with the
# socket's path taken from argv: python3 unix_server.py PATH
import sys

from anyio import create_unix_listener, run


async def handle(client):
    async with client:
        name = await client.receive(1024)
        await client.send(b'Hello, %s\n' % name)


async def main():
    listener = await create_unix_listener(sys.argv[1])
    await listener.serve(handle)

run(main)
