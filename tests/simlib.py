"""simlib.py - what both simulators do to start: TLS if asked, a free loopback port told
through a port file (written whole, then renamed) or stdout, then serve."""
import os
import ssl


def serve(srv, tls=None, portfile=None):
    srv.scheme = 'https' if tls else 'http'
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    if portfile:
        with open(portfile + '.tmp', 'w') as f:
            f.write(f'{port}\n')
        os.rename(portfile + '.tmp', portfile)
    else:
        print(port, flush=True)
    srv.serve_forever()
