#!/usr/bin/env python3
"""stage.py [N] - wsi-stage against py_stage.py (what a consultant would write instead), on the same
N envelopes from gen_orders.py, alternating A B A B A B; prints medians and ratios, asserts nothing.

Measured: first load into a new database, the same input again (unchanged), peak RSS of
wsi-stage at N/10 and N (it must not grow with N), and each database's size against the input.
gen_orders.py and py_stage.py are copies of the baseline the issue gives (bench/README).
"""
import os, statistics, subprocess, sys, tempfile

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 100000
PAIRS = int(os.environ.get('PAIRS', '3'))
here = os.path.dirname(os.path.abspath(__file__))
bin_dir = os.environ.get('WSI_BIN', os.path.join(here, '..', 'build', 'bin'))
tmp = tempfile.mkdtemp(prefix='wsi-bench-stage.')
env = dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH'], WSI_CONFIG=os.path.join(tmp, 'wsi.conf'))
with open(env['WSI_CONFIG'], 'w') as f:
    f.write('[store]\nname = shop\ntype = woocommerce\nurl = http://127.0.0.1:9\nkey = ck\nsecret = cs\n'
            f'[db]\npath = {tmp}/wsi.db\n')
os.chmod(env['WSI_CONFIG'], 0o600)

# Each measured command runs under a fresh python that reports its one child's wall time and peak RSS.
MEASURE = ("import resource, subprocess, sys, time; t = time.monotonic(); "
           "r = subprocess.run(sys.argv[1:]).returncode; s = time.monotonic() - t; "
           "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
           "print(r, s, u.ru_utime + u.ru_stime, u.ru_maxrss, file=sys.stderr)")


def run(cmd, infile):
    with open(infile, 'rb') as fin:
        p = subprocess.run([sys.executable, '-c', MEASURE] + cmd, stdin=fin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, cwd=tmp)
    rc, wall, cpu, rss = p.stderr.decode().strip().splitlines()[-1].split()
    if int(rc) != 0:
        sys.exit(f'{cmd[0]} failed ({rc}): {p.stderr.decode()[-800:]}')
    return float(wall), float(cpu), int(rss) / 1024


def fresh(db):
    for f in (db, db + '-wal', db + '-shm', db + '.sent'):
        if os.path.exists(f):
            os.remove(f)


def gen(n):
    path = os.path.join(tmp, f'env{n}.jsonl')
    with open(path, 'w') as out:
        subprocess.run([sys.executable, os.path.join(here, 'gen_orders.py'), str(n)], stdout=out, check=True)
    return path


WSI = ['wsi-stage', '-q']
PY = [sys.executable, os.path.join(here, 'py_stage.py'), os.path.join(tmp, 'py.db')]
wsi_db, py_db = os.path.join(tmp, 'wsi.db'), os.path.join(tmp, 'py.db')
envfile = gen(N)
size = os.path.getsize(envfile)
print(f'input: {N} envelopes from gen_orders.py, {size / 1e6:.1f} MB; {PAIRS} pairs, alternating')

first = {'wsi': [], 'py': []}
again = {'wsi': [], 'py': []}
for i in range(PAIRS):
    fresh(wsi_db)
    first['wsi'].append(run(WSI, envfile))
    fresh(py_db)
    first['py'].append(run(PY, envfile))
for i in range(PAIRS):
    again['wsi'].append(run(WSI, envfile))
    again['py'].append(run(PY, envfile))


def med(runs, k):
    return statistics.median(r[k] for r in runs)


for label, runs in (('first load', first), ('unchanged rerun', again)):
    w, p = med(runs['wsi'], 0), med(runs['py'], 0)
    wc, pc = med(runs['wsi'], 1), med(runs['py'], 1)
    print(f'{label}: wsi-stage {w:.2f} s (CPU {wc:.2f} s), py_stage.py {p:.2f} s (CPU {pc:.2f} s): '
          f'wall {w / p:.2f}x, CPU {wc / pc:.2f}x  [wsi {" ".join(f"{r[0]:.2f}" for r in runs["wsi"])}; '
          f'py {" ".join(f"{r[0]:.2f}" for r in runs["py"])}]')
wsi_size = sum(os.path.getsize(f) for f in (wsi_db, wsi_db + '-wal') if os.path.exists(f))
py_size = sum(os.path.getsize(f) for f in (py_db, py_db + '-wal') if os.path.exists(f))
print(f'database: wsi {wsi_size / 1e6:.1f} MB ({wsi_size / size:.2f}x the input), '
      f'py {py_size / 1e6:.1f} MB ({py_size / size:.2f}x)')
small = gen(max(N // 10, 1))
fresh(wsi_db)
s = run(WSI, small)
print(f'peak RSS of wsi-stage: {s[2]:.1f} MiB at {max(N // 10, 1)} orders, '
      f'{max(r[2] for r in first["wsi"]):.1f} MiB at {N}; py_stage.py {max(r[2] for r in first["py"]):.1f} MiB')
subprocess.run(['rm', '-rf', tmp])
