# The seed's file descriptor client (AnyIO, "Sending and receiving file
# descriptors"), with the socket's path taken from argv:
# python3 fd_client.py PATH
import os
import sys

from anyio import connect_unix, run


async def main():
    async with await connect_unix(sys.argv[1]) as client:
        _, fds = await client.receive_fds(0, 1)
        with os.fdopen(fds[0]) as file:
            print(file.read())

run(main)
