# The seed's UNIX socket client (AnyIO, "Working with UNIX sockets"), with the
# socket's path taken from argv: python3 unix_client.py PATH
import sys

from anyio import connect_unix, run


async def main():
    async with await connect_unix(sys.argv[1]) as client:
        await client.send(b'Client\n')
        response = await client.receive(1024)
        print(response)

run(main)
