# A TLS client in AnyIO, as in AnyIO's TLS guide (the seed's connect_tcp with
# tls=True), with the port and the certificate to trust taken from argv:
# python3 tls_client.py PORT CAFILE [HOST]
import ssl
import sys

from anyio import connect_tcp, run


async def main():
    # These two steps are only required for certificates that are not trusted by the
    # installed CA certificates on your machine
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=sys.argv[2])

    host = sys.argv[3] if len(sys.argv) > 3 else 'localhost'
    async with await connect_tcp(host, int(sys.argv[1]), ssl_context=context) as client:
        await client.send(b'Client\n')
        response = await client.receive()
        print(response)

run(main)
