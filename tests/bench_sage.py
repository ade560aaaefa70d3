#!/usr/bin/env python3
"""bench_sage.py [N] [RATE_N] - figures for the Sage half; prints, asserts nothing.

N orders (default 10,000) over 500 distinct SKUs are staged and mapped, then wsi-validate
and wsi-post run against the Sage simulator: Sage requests per order for each (aims: validate
at most 1 request per 20 distinct codes; post 1 create per order plus at most 1 reference
check per 20 orders). Then RATE_N orders (default 200) are posted with the simulator answering
each request after 200 ms, on 1 connection and on 8.
"""
import json, os, subprocess, sys, tempfile, time, urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 10000
RATE_N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
here = os.path.dirname(os.path.abspath(__file__))
bin_dir = os.environ.get('WSI_BIN', os.path.join(here, '..', 'build', 'bin'))
tmp = tempfile.mkdtemp(prefix='wsi-bench-sage.')
env = dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH'])

pf = os.path.join(tmp, 'port')
sim = subprocess.Popen([sys.executable, os.path.join(here, 'sagesim.py'), '--portfile', pf], stderr=subprocess.DEVNULL)


def ctl(path, body=None):
    req = urllib.request.Request(f'http://127.0.0.1:{port}{path}', json.dumps(body).encode() if body is not None else None,
                                 {'Content-Type': 'application/json'})
    return json.loads(urllib.request.urlopen(req).read())


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def setup(n, db):
    with open(os.path.join(tmp, 'wsi.conf'), 'w') as f:
        f.write(f'[sage]\nurl = http://127.0.0.1:{port}/Sage300WebApi/v1.0/-/SAMLTD\nuser = WEBAPI\n'
                f'password = sage-test-pw\ntimeout = 30\n[db]\npath = {db}\n')
    os.chmod(os.path.join(tmp, 'wsi.conf'), 0o600)
    env['WSI_CONFIG'] = os.path.join(tmp, 'wsi.conf')
    sh(f'python3 {here}/envelopes.py {n} woocommerce 500 | wsi-stage -q >/dev/null')
    sh("wsi-remap add customer '*' WEB; wsi-remap add payment stripe SEATAC CC; wsi-remap add tax 'US-CA-STATE TAX' CA; wsi-remap -a >/dev/null")


def requests():
    s = ctl('/_sim/stats')
    ctl('/_sim/reset_stats', {})
    return s


try:
    while not os.path.exists(pf):
        time.sleep(0.05)
    port = int(open(pf).read())
    ctl('/_sim/items', [{'UnformattedItemNumber': f'SKU{i:04d}', 'ItemNumber': f'SKU-{i:04d}', 'Description': f'Item {i}',
                         'Status': True, 'Sellable': True, 'BasePrice': 10} for i in range(1, 501)])
    setup(N, os.path.join(tmp, 'a.db'))
    skus = int(sh(f"sqlite3 {tmp}/a.db 'select count(distinct sku) from order_lines'").stdout)
    requests()
    t = time.monotonic()
    sh('wsi-validate -a >keys.txt')
    vt = time.monotonic() - t
    v = requests()
    t = time.monotonic()
    p = sh('wsi-post < keys.txt > posted.txt')
    pt = time.monotonic() - t
    po = requests()
    posted = open(os.path.join(tmp, 'posted.txt')).read().count('\n')
    codes = skus + 1 + 1 + 1  # items, the customer, the bank, the payment code
    print(f'wsi-validate, {N} orders, {skus} distinct SKUs: {v["requests"]} Sage requests '
          f'({v["requests"] / N:.4f} per order; {v["by_resource"].get("GET ICItems", 0)} item requests for {skus} SKUs, '
          f'{v["by_resource"].get("GET OEOrders", 0)} reference checks) in {vt:.1f} s')
    print(f'wsi-post, {posted} orders: {po["requests"]} Sage requests ({po["requests"] / max(posted, 1):.3f} per order: '
          f'{po["by_resource"].get("POST OEOrders", 0)} creates, {po["by_resource"].get("GET OEOrders", 0)} reference checks, '
          f'{po["by_resource"].get("GET OEInvoices", 0)} invoice read-backs) '
          f'in {pt:.1f} s, {posted / pt:.0f} orders/s')
    # the rate with Sage answering after 200 ms
    ctl('/_sim/latency', {'seconds': 0.2})
    rates = {}
    for j in (1, 8):
        ctl('/_sim/restore', {'keep': 0})
        setup(RATE_N, os.path.join(tmp, f'rate{j}.db'))
        sh('wsi-validate -a >/dev/null')
        t = time.monotonic()
        sh(f'wsi-post -a -j {j} >/dev/null')
        rates[j] = time.monotonic() - t
        print(f'wsi-post -j {j}, {RATE_N} orders, Sage answering after 200 ms: {rates[j]:.1f} s, {RATE_N / rates[j]:.1f} orders/s')
    print(f'-j 8 is {rates[1] / rates[8]:.1f}x as fast as -j 1')
finally:
    sim.kill()
    sim.wait()
    subprocess.run(['rm', '-rf', tmp])
