"""simlib.py - what both simulators do to start: TLS if asked, a free loopback port told
through a port file (written whole, then renamed) or stdout, then serve."""
import os
import ssl
import threading


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


class Faults:
    """The faults a test queued (POST /_sim/fault): each matches a method when it names one and a
    substring of the path ('match'), lets 'skip' matching requests by first, then fires 'count'
    times (default 1). take() hands back a copy of the one that fires, or None."""

    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def add(self, fault):
        with self.lock:
            self.items.append(fault)

    def clear(self):
        with self.lock:
            self.items = []

    def take(self, method, path):
        with self.lock:
            for f in self.items:
                if f.get('method', method) == method and f.get('match', '') in path:
                    if f.get('skip', 0) > 0:
                        f['skip'] -= 1
                        continue
                    f['count'] = f.get('count', 1) - 1
                    if f['count'] <= 0:
                        self.items.remove(f)
                    return dict(f)
        return None
