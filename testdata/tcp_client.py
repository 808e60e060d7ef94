# The seed's TCP client (AnyIO, "Working with TCP sockets"), with the port
# taken from argv: python3 tcp_client.py PORT [HOST]
import sys

from anyio import connect_tcp, run


async def main():
    host = sys.argv[2] if len(sys.argv) > 2 else 'localhost'
    async with await connect_tcp(host, int(sys.argv[1])) as client:
        await client.send(b'Client\n')
        response = await client.receive()
        print(response)

run(main)
