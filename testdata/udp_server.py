# The seed's UDP "hello" server (AnyIO, "Working with UDP sockets"), with the
# port taken from argv, bound to loopback as the seed's note suggests:
# python3 udp_server.py PORT
import sys

from anyio import create_udp_socket, run


async def main():
    async with await create_udp_socket(local_host='127.0.0.1', local_port=int(sys.argv[1])) as udp:
        async for packet, (host, port) in udp:
            await udp.sendto(b'Hello, ' + packet, host, port)

run(main)
