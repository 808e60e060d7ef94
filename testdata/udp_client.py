# The seed's connected UDP client (AnyIO, "Working with UDP sockets"), with
# the port taken from argv: python3 udp_client.py PORT [HOST]
import sys

from anyio import create_connected_udp_socket, run


async def main():
    host = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'
    async with await create_connected_udp_socket(
            remote_host=host, remote_port=int(sys.argv[1])) as udp:
        await udp.send(b'Hi there!\n')

run(main)
