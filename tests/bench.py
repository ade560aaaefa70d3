#!/usr/bin/env python3
"""bench.py [N] - figures for wsi's store half; prints, asserts nothing.

A generated WooCommerce store of N realistic orders (1-5 lines, 2-3 KB each) is served by
the simulator on loopback. Measured: the requests wsi-fetch makes, wsi-stage's orders per
second and peak RSS (new orders, then the same envelopes again, unchanged), beside loading
the same envelopes into SQLite with the sqlite3 shell, and peak RSS at N/10 to show it
does not grow with N.
"""
import json, os, resource, subprocess, sys, tempfile, time, urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 100000
here = os.path.dirname(os.path.abspath(__file__))
bin_dir = os.environ.get('WSI_BIN', os.path.join(here, '..', 'build', 'bin'))
tmp = tempfile.mkdtemp(prefix='wsi-bench.')
env = dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH'])


# ru_maxrss of RUSAGE_CHILDREN is a maximum over every child so far (the simulator too), so
# each measured tool runs under a fresh python that reports its one child's peak.
MEASURE = ("import resource, subprocess, sys, time; t = time.monotonic(); "
           "r = subprocess.run(sys.argv[1:]).returncode; s = time.monotonic() - t; "
           "print(r, s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)")


def run(cmd, stdin=None, stdout=None):
    """Run cmd; return (seconds, peak RSS in KiB of that process alone)."""
    p = subprocess.run([sys.executable, '-c', MEASURE] + cmd, stdin=stdin, stdout=stdout or subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env, cwd=tmp)
    rc, secs, rss = p.stderr.decode().strip().splitlines()[-1].split()
    if int(rc) not in (0, 1):
        sys.exit(f'{cmd[0]} failed ({rc}): {p.stderr.decode()[-500:]}')
    return float(secs), int(rss), 0


def conf(port, db):
    path = os.path.join(tmp, 'wsi.conf')
    with open(path, 'w') as f:
        f.write(f'[store]\nname = shop\ntype = woocommerce\nurl = http://127.0.0.1:{port}\n'
                f'key = ck_test\nsecret = cs_test\nsettle = 0\n[db]\npath = {db}\n')
    os.chmod(path, 0o600)
    env['WSI_CONFIG'] = path


def stage(envfile, db, label):
    for f in (db, db + '-wal', db + '-shm'):
        if os.path.exists(f) and label.startswith('new'):
            os.remove(f)
    env['WSI_DB'] = db
    with open(envfile) as fin:
        secs, rss, _ = run(['wsi-stage', '-q'], stdin=fin)
    return secs, rss


# a small store first, for the peak RSS that must not grow with N
small = max(N // 10, 1000)
pf = os.path.join(tmp, 'port')
sim = subprocess.Popen([sys.executable, os.path.join(here, 'storesim.py'), '--kind', 'woocommerce',
                        '--portfile', pf, '--now', '2026-11-27T12:00:00Z'], stderr=subprocess.DEVNULL)
try:
    while not os.path.exists(pf):
        time.sleep(0.05)
    port = int(open(pf).read())
    ctl = lambda p, b: urllib.request.urlopen(urllib.request.Request(
        f'http://127.0.0.1:{port}{p}', json.dumps(b).encode(), {'Content-Type': 'application/json'})).read()
    ctl('/_sim/generate', {'n': N, 'ago': 30 * 86400, 'spread': 29 * 86400, 'skus': 500})
    conf(port, os.path.join(tmp, 'fetch.db'))
    envfile = os.path.join(tmp, 'envelopes.jsonl')
    t = time.monotonic()
    with open(envfile, 'w') as out:
        p = subprocess.run(['wsi-fetch', '-v'], stdout=out, stderr=subprocess.PIPE, env=env, cwd=tmp)
    fetch_secs = time.monotonic() - t
    stats = json.loads(urllib.request.urlopen(f'http://127.0.0.1:{port}/_sim/stats').read())
finally:
    sim.kill()
    sim.wait()
lines = open(envfile).read().count('"order":')
size = os.path.getsize(envfile)
print(f'store: {N} orders, {size / N / 1024:.1f} KB each on average')
print(f'wsi-fetch: {lines} orders in {fetch_secs:.1f} s, {stats["requests"]} requests '
      f'({stats["requests"] / N * 100:.2f} per 100 orders); {p.stderr.decode().strip().splitlines()[-1]}')

smallfile = os.path.join(tmp, 'small.jsonl')
with open(envfile) as fin, open(smallfile, 'w') as fout:
    k = 0
    for line in fin:
        fout.write(line)
        k += line.startswith('{"store"')
        if k >= small:
            break
s_secs, s_rss = stage(smallfile, os.path.join(tmp, 'small.db'), 'new small')
secs, rss = stage(envfile, os.path.join(tmp, 'stage.db'), 'new')
again, _ = stage(envfile, os.path.join(tmp, 'stage.db'), 'again')
print(f'wsi-stage, {small} new orders: {small / s_secs:,.0f} orders/s, peak RSS {s_rss / 1024:.1f} MiB')
print(f'wsi-stage, {lines} new orders: {secs:.2f} s, {lines / secs:,.0f} orders/s, peak RSS {rss / 1024:.1f} MiB')
print(f'wsi-stage, the same {lines} again (unchanged): {again:.2f} s, {lines / again:,.0f} orders/s')

base_db = os.path.join(tmp, 'baseline.db')
script = f""".mode ascii
.separator "\\037" "\\n"
PRAGMA journal_mode=WAL;
CREATE TABLE lines(line TEXT);
CREATE TABLE orders(store TEXT, id TEXT, modified TEXT, source TEXT, raw TEXT, PRIMARY KEY(store, id));
.import {envfile} lines
INSERT OR REPLACE INTO orders SELECT json_extract(line,'$.store'), json_extract(line,'$.id'),
  json_extract(line,'$.modified'), json_extract(line,'$.source'), json_extract(line,'$.order')
  FROM lines WHERE json_extract(line,'$.order') IS NOT NULL;
"""
t = time.monotonic()
subprocess.run(['sqlite3', base_db], input=script.encode(), check=True, stdout=subprocess.DEVNULL)
base = time.monotonic() - t
print(f'baseline, sqlite3 shell importing the same envelopes: {base:.2f} s, {lines / base:,.0f} orders/s; '
      f'wsi-stage takes {secs / base:.2f}x as long')
subprocess.run(['rm', '-rf', tmp])
