# The seed's file descriptor server (AnyIO, "Sending and receiving file
# descriptors"), with the socket's path and the file's path taken from argv:
# python3 fd_server.py SOCKET_PATH FILE_PATH
import sys
from pathlib import Path

from anyio import create_unix_listener, run


async def handle(client):
    async with client:
        with path.open('r') as file:
            await client.send_fds(b'this message is ignored', [file])


async def main():
    listener = await create_unix_listener(sys.argv[1])
    await listener.serve(handle)

path = Path(sys.argv[2])
path.write_text('Test file')
run(main)
