#!/usr/bin/env python3
"""bench_memory.py [N] [LINES] - peak memory of the tools on big input; prints, asserts nothing.

wsi-validate -a over N staged and mapped orders (default 100,000) against the Sage simulator:
its peak RSS, time and Sage requests, and at N/10 to show it does not grow with N. Then one
order of LINES lines (default 100,000): the peak RSS of wsi-stage, wsi-validate and wsi-post.
"""
import json, os, subprocess, sys, tempfile, time, urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 100000
LINES = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else 100000
here = os.path.dirname(os.path.abspath(__file__))
bin_dir = os.environ.get('WSI_BIN', os.path.join(here, '..', 'build', 'bin'))
tmp = tempfile.mkdtemp(prefix='wsi-bench-mem.')
env = dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH'], WSI_CONFIG=os.path.join(tmp, 'wsi.conf'))
MEASURE = ("import resource, subprocess, sys, time; t = time.monotonic(); "
           "r = subprocess.run(sys.argv[1], shell=True).returncode; s = time.monotonic() - t; "
           "print('MEASURED', r, s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)")


def measured(cmd):
    """Run a shell command; (exit status, seconds, peak RSS in MiB of its largest process)."""
    p = subprocess.run([sys.executable, '-c', MEASURE, cmd], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    last = [l for l in p.stderr.decode().splitlines() if l.startswith('MEASURED')][-1].split()
    return int(last[1]), float(last[2]), int(last[3]) / 1024


def sh(cmd):
    return subprocess.run(cmd, shell=True, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def ctl(path, body=None):
    req = urllib.request.Request(f'http://127.0.0.1:{port}{path}', json.dumps(body).encode() if body is not None else None,
                                 {'Content-Type': 'application/json'})
    return json.loads(urllib.request.urlopen(req).read())


def setup(db):
    with open(env['WSI_CONFIG'], 'w') as f:
        f.write(f'[sage]\nurl = http://127.0.0.1:{port}/Sage300WebApi/v1.0/-/SAMLTD\nuser = WEBAPI\n'
                f'password = sage-test-pw\ntimeout = 600\n[db]\npath = {db}\n')
    os.chmod(env['WSI_CONFIG'], 0o600)


def validate_all(n):
    setup(os.path.join(tmp, f'v{n}.db'))
    sh(f'python3 {here}/envelopes.py {n} woocommerce 500 | wsi-stage -q >/dev/null')
    sh("wsi-remap add customer '*' WEB; wsi-remap add payment stripe SEATAC CC; "
       "wsi-remap add tax 'US-CA-STATE TAX' CA; wsi-remap -a >/dev/null")
    ctl('/_sim/reset_stats', {})
    rc, secs, rss = measured('wsi-validate -q -a >/dev/null')
    req = ctl('/_sim/stats')['requests']
    print(f'wsi-validate -a, {n} orders: {secs:.1f} s, {req} Sage requests, peak RSS {rss:.1f} MiB (exit {rc})')


def one_big_order(lines):
    setup(os.path.join(tmp, 'big.db'))
    o = json.loads(subprocess.run([sys.executable, f'{here}/envelopes.py', '1'], stdout=subprocess.PIPE,
                                  check=True).stdout.decode().splitlines()[0])
    line = o['order']['line_items'][0]
    items = []
    for i in range(lines):
        l = dict(line, id=i + 1, sku=f'SKU-{i % 500 + 1:04d}', quantity=1, subtotal='1.00', total='1.00',
                 subtotal_tax='0.00', total_tax='0.00', taxes=[], price=1)
        items.append(l)
    r = o['order']
    r.update(line_items=items, total=f'{lines + float(r["shipping_total"]):.2f}', total_tax='0.00', cart_tax='0.00',
             shipping_tax='0.00', tax_lines=[], discount_total='0.00', coupon_lines=[], fee_lines=[])
    for s in r['shipping_lines']:
        s.update(total_tax='0.00', taxes=[])
    with open(os.path.join(tmp, 'big.jsonl'), 'w') as f:
        f.write(json.dumps(o, separators=(',', ':')) + '\n')
    size = os.path.getsize(os.path.join(tmp, 'big.jsonl'))
    figures = []
    for tool, cmd in (('wsi-stage', 'wsi-stage -q < big.jsonl'),
                      ('wsi-remap', "wsi-remap add customer '*' WEB >/dev/null; wsi-remap add payment stripe SEATAC CC >/dev/null; wsi-remap -a"),
                      ('wsi-validate', 'wsi-validate -q -a'), ('wsi-post', 'wsi-post -q -a')):
        rc, secs, rss = measured(cmd + ' >/dev/null 2>>err.txt')
        figures.append(f'{tool} {rss:.1f} MiB in {secs:.1f} s (exit {rc})')
    state = sh(f"sqlite3 {tmp}/big.db 'select state from orders'").stdout.decode().strip()
    print(f'one order of {lines} lines ({size / 1e6:.1f} MB), peak RSS: ' + '; '.join(figures) + f'; it is {state}')


pf = os.path.join(tmp, 'port')
sim = subprocess.Popen([sys.executable, os.path.join(here, 'sagesim.py'), '--portfile', pf], stderr=subprocess.DEVNULL)
try:
    while not os.path.exists(pf):
        time.sleep(0.05)
    port = int(open(pf).read())
    ctl('/_sim/items', [{'UnformattedItemNumber': f'SKU{i:04d}', 'ItemNumber': f'SKU-{i:04d}', 'Description': f'Item {i}',
                         'Status': True, 'Sellable': True, 'BasePrice': 10} for i in range(1, 501)])
    if N:
        validate_all(max(N // 10, 1))
        validate_all(N)
    one_big_order(LINES)
finally:
    sim.kill()
    sim.wait()
    if not os.environ.get('KEEP'):
        subprocess.run(['rm', '-rf', tmp])
    else:
        print('kept', tmp)
