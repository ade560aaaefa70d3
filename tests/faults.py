#!/usr/bin/env python3
"""faults.py [--rounds N] [--seed S] [--prepayment order|receipt] - break wsi on purpose.

Each round changes the store (new orders, edits, cancellations, orders that are invalid and
fixed later by a mapping, an edit in the store or an item added in Sage), runs wsi-sync, and
injects faults at random: kill -9 of the run at any point (during a Sage POST too), Sage
"commit then drop", timeouts, 5xx, 429, truncated or hostile store answers, a restore of the
SQLite file from an earlier copy, a restore of Sage to an earlier state (each restore followed
by wsi-hwm set, as an operator would). After the faults stop it runs until quiet, then checks:
every postable web order is exactly one Sage order with its shipment, invoice and payment; none
twice; no sale half-made; every other order in a state that says why.
Prints rounds, faults by kind, lost / duplicated / half-done counts and the seed; exits 1 if any
count is not 0. Standard library only.
"""
import argparse, json, os, random, shutil, signal, sqlite3, subprocess, sys, tempfile, time, urllib.request

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument('--rounds', type=int, default=20)
ap.add_argument('--seed', type=int, default=None)
ap.add_argument('--prepayment', default='receipt', choices=['order', 'receipt'])
ap.add_argument('--keep', action='store_true', help='keep the work directory')
ap.add_argument('--together', type=float, default=0.3, help='share of rounds where tools run beside wsi-sync')
a = ap.parse_args()
seed = a.seed if a.seed is not None else random.randrange(1 << 30)
rnd = random.Random(seed)
bin_dir = os.environ.get('WSI_BIN', os.path.join(here, '..', 'build', 'bin'))
tmp = tempfile.mkdtemp(prefix='wsi-faults.')
env = dict(os.environ, PATH=bin_dir + ':' + os.environ['PATH'], WSI_CONFIG=os.path.join(tmp, 'wsi.conf'),
           WSI_BUSY_TIMEOUT_MS='20000')
for k in ('WSI_DB', 'WSI_STORE_SECRET', 'WSI_SAGE_PASSWORD', 'WSI_NOW'):
    env.pop(k, None)
procs = []
faults = {}
log = open(os.path.join(tmp, 'faults.log'), 'w')


def note(kind):
    faults[kind] = faults.get(kind, 0) + 1
    log.write(f'fault {kind}\n')


def start(script, *args):
    pf = os.path.join(tmp, script + '.port')
    p = subprocess.Popen([sys.executable, os.path.join(here, script), '--portfile', pf, *args],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    while not os.path.exists(pf):
        time.sleep(0.05)
    return int(open(pf).read())


def ctl(port, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f'http://127.0.0.1:{port}{path}', data, {'Content-Type': 'application/json'})
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


def tool(*cmd, check=False):
    p = subprocess.run(list(cmd), env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    log.write(f'$ {" ".join(cmd)} -> {p.returncode}\n{p.stderr.decode()[-2000:]}')
    if check and p.returncode not in (0, 1):
        raise SystemExit(f'{cmd} failed: {p.returncode} {p.stderr.decode()[-500:]}')
    return p.returncode


def sync(kill_after=None):
    """wsi-sync; with kill_after, kill -9 the whole run after that many seconds."""
    p = subprocess.Popen(['wsi-sync'], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                         stderr=log, start_new_session=True)
    if kill_after is not None:
        try:
            p.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            note('kill -9')
    try:
        return p.wait(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        return p.wait()


def spawn(*cmd):
    return subprocess.Popen(list(cmd), env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


held = []  # orders a person held during a round: released when the faults stop


def unposted_key():
    db = sqlite3.connect(os.path.join(tmp, 'wsi.db'))
    try:
        rows = db.execute("select store||':'||id from orders where state in ('staged','mapped','valid','invalid','failed')").fetchall()
    finally:
        db.close()
    return rnd.choice(rows)[0] if rows else None


def beside(kind):
    """A person beside cron: other tools run while wsi-sync runs, Sage slowed so that they overlap."""
    ctl(sage, '/_sim/latency', {'seconds': rnd.choice([0.02, 0.05])})
    procs_ = [spawn('wsi-sync')]
    time.sleep(rnd.uniform(0, 0.8))
    if kind == 'two-posts':
        procs_ += [spawn('wsi-post', '-a', '-j', '2'), spawn('wsi-post', '-a')]
    elif kind == 'post-beside-sync':
        procs_ += [spawn('wsi-post', '-a', '-j', '4')]
    elif kind == 'validate-beside-post':
        procs_ += [spawn('wsi-validate', '-a'), spawn('wsi-post', '-a', '-j', '2')]
    elif kind == 'hold-remap-during-validate':
        procs_ += [spawn('wsi-validate', '-a')]
        time.sleep(rnd.uniform(0, 0.3))
        key = unposted_key()
        if key and tool('wsi-sync', 'hold', key) == 0:
            held.append(key)
        tool('wsi-remap', 'add', 'customer', '*', 'WEB')
    elif kind == 'hwm-set-during-sync':
        m = mark()
        if m:
            t = time.mktime(time.strptime(m, '%Y-%m-%dT%H:%M:%SZ')) - time.timezone - rnd.randint(0, 600)
            tool('wsi-hwm', 'set', iso(t))
    for p in procs_:
        try:
            p.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    ctl(sage, '/_sim/latency', {'seconds': 0})


store = start('storesim.py', '--kind', 'woocommerce')
sage = start('sagesim.py')
with open(env['WSI_CONFIG'], 'w') as f:
    f.write(f"""[store]
name = shop
type = woocommerce
url = http://127.0.0.1:{store}
key = ck_test
secret = cs_test
settle = 0
overlap = 120
retries = 1
timeout = 3
[sage]
url = http://127.0.0.1:{sage}/Sage300WebApi/v1.0/-/SAMLTD
user = WEBAPI
password = sage-test-pw
prepayment = {a.prepayment}
retries = 1
timeout = 3
reconcile_after = 8
[db]
path = {tmp}/wsi.db
""")
os.chmod(env['WSI_CONFIG'], 0o600)
tool('wsi-remap', 'add', 'customer', '*', 'WEB', check=True)
tool('wsi-remap', 'add', 'payment', 'stripe', 'SEATAC', 'CC', check=True)
tool('wsi-remap', 'add', 'tax', 'US-CA-STATE TAX', 'CA', check=True)

template = [o for o in json.load(open(os.path.join(here, 'fixtures', 'lamp-orders.json'))) if o['id'] == 10232][0]
SKUS = ['A1-103/0', 'A1-105/0', 'A1-310/0', 'A1-320/0', 'A1-400/0', 'A1-401/0', 'A1-450/0', 'A1-900/0']
next_id = [70000]
unknown = {}  # unknown SKU -> how it will be fixed
fixed = []    # (sku, how): a restore may undo a fix; the operator re-does them at the end


def money(c):
    return f'{c // 100}.{c % 100:02d}'


def make_order(sku=None):
    o = json.loads(json.dumps(template))
    oid = next_id[0]
    next_id[0] += 1
    o['id'], o['number'] = oid, str(oid)
    lines, total, taxsum = [], 0, 0
    for k in range(rnd.randint(1, 3)):
        q, c = rnd.randint(1, 3), rnd.randint(100, 9999)
        tax = q * c * 6 // 100
        lines.append({'id': oid * 10 + k, 'name': f'Lamp {k}', 'product_id': 1, 'variation_id': 0, 'quantity': q,
                      'subtotal': money(q * c), 'subtotal_tax': money(tax), 'total': money(q * c),
                      'total_tax': money(tax), 'taxes': [{'id': 75, 'total': money(tax), 'subtotal': money(tax)}],
                      'meta_data': [], 'sku': rnd.choice(SKUS), 'price': c / 100})
        total += q * c + tax
        taxsum += tax
    if sku:
        lines[0]['sku'] = sku
    o['line_items'] = lines
    o['shipping_lines'] = [{'id': 1, 'method_title': 'Flat', 'method_id': 'flat_rate', 'total': '5.00', 'total_tax': '0.00', 'taxes': []}]
    o['total'] = money(total + 500)
    o['total_tax'] = o['cart_tax'] = money(taxsum)
    o['tax_lines'] = [{'id': 318, 'rate_code': 'US-CA-STATE TAX', 'rate_id': 75, 'label': 'State Tax', 'compound': False,
                       'tax_total': money(taxsum), 'shipping_tax_total': '0.00'}]
    return o


def add_orders(n):
    orders = []
    for _ in range(n):
        sku = None
        if rnd.random() < 0.15:
            sku = f'NEW-{next_id[0]}'
            unknown[sku] = rnd.choice(['mapping', 'store', 'sage'])
        orders.append(make_order(sku))
    ctl(store, '/_sim/orders', {'orders': orders, 'touch': True})


def fix_unknown(all_of_them=False):
    for sku, how in list(unknown.items()):
        if not all_of_them and rnd.random() < 0.5:
            continue
        fixed.append((sku, how))
        if how == 'mapping':
            tool('wsi-remap', 'add', 'item', sku, 'A1-104/0')
        elif how == 'sage':
            ctl(sage, '/_sim/items', [{'UnformattedItemNumber': sku.replace('-', ''), 'ItemNumber': sku,
                                      'Description': 'added', 'Status': True, 'Sellable': True, 'BasePrice': 1}])
        else:
            for o in ctl(store, '/_sim/orders'):
                for i, li in enumerate(o['line_items']):
                    if li.get('sku') == sku:
                        ctl(store, '/_sim/edit', {'id': o['id'], 'set': {'line_items': [dict(x, sku='A1-103/0') if x.get('sku') == sku else x for x in o['line_items']]}})
                        break
        del unknown[sku]
        log.write(f'fixed {sku} by {how}\n')


def change_store():
    add_orders(rnd.randint(0, 5))
    orders = ctl(store, '/_sim/orders')
    for o in rnd.sample(orders, min(len(orders), rnd.randint(0, 2))):
        if rnd.random() < 0.3:
            ctl(store, '/_sim/edit', {'id': o['id'], 'set': {'status': 'cancelled'}})
        else:
            ctl(store, '/_sim/edit', {'id': o['id'], 'set': {'customer_note': f'edited {time.time()}'}})
    fix_unknown()


db_copies = []      # (path, mark)
sage_snaps = []     # (name, as of): what Sage held at a snapshot is Sage as of that time, or as of an
                    # earlier restore whose gap it inherits: the time an operator gives wsi-hwm set
sage_as_of = [float('inf')]  # the start of the earliest gap in Sage's current history


def mark():
    db = sqlite3.connect(os.path.join(tmp, 'wsi.db'))
    try:
        r = db.execute("select value from marks where kind='time'").fetchone()
        return r[0] if r else None
    finally:
        db.close()


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


TOGETHER = ['two-posts', 'post-beside-sync', 'validate-beside-post', 'hold-remap-during-validate', 'hwm-set-during-sync']


def inject():
    log.write(f'inject at {time.time():.1f}\n')
    if rnd.random() < a.together:
        kind = rnd.choice(TOGETHER)
        note(kind)
        beside(kind)
        return
    kind = rnd.choice(['kill', 'kill-in-post', 'commit-drop', 'commit-drop-receipt', 'timeout', 'sage-5xx', 'sage-429',
                       'store-5xx', 'store-429', 'store-truncated', 'store-hostile', 'db-restore', 'sage-restore', 'none'])
    if kind == 'kill':
        ctl(sage, '/_sim/latency', {'seconds': rnd.choice([0, 0.02, 0.05])})
        sync(kill_after=rnd.uniform(0, 1.5))
        ctl(sage, '/_sim/latency', {'seconds': 0})
        return
    if kind == 'kill-in-post':
        ctl(sage, '/_sim/fault', {'delay': 1.5, 'method': 'POST', 'count': 1, 'skip': rnd.randint(0, 2)})
        sync(kill_after=rnd.uniform(0.5, 2.5))
        ctl(sage, '/_sim/fault', {'clear': True})
        note('kill-in-post')
        return
    if kind == 'commit-drop':
        ctl(sage, '/_sim/fault', {'commit_then_drop': True, 'method': 'POST', 'match': 'OEOrders', 'skip': rnd.randint(0, 2)})
    elif kind == 'commit-drop-receipt':
        ctl(sage, '/_sim/fault', {'commit_then_drop': True, 'method': 'POST', 'match': 'ARReceipt'})
    elif kind == 'timeout':
        ctl(sage, '/_sim/fault', {'delay': 4, 'method': rnd.choice(['POST', 'GET']), 'count': 1})
    elif kind == 'sage-5xx':
        ctl(sage, '/_sim/fault', {'status': rnd.choice([500, 502, 503]), 'count': rnd.randint(1, 3), 'skip': rnd.randint(0, 3)})
    elif kind == 'sage-429':
        ctl(sage, '/_sim/fault', {'status': 429, 'count': rnd.randint(1, 2), 'retry_after': 0.2})
    elif kind == 'store-5xx':
        ctl(store, '/_sim/fault', {'status': rnd.choice([500, 503]), 'count': rnd.randint(1, 3)})
    elif kind == 'store-429':
        ctl(store, '/_sim/fault', {'status': 429, 'count': 1, 'retry_after': '0.2'})
    elif kind == 'store-truncated':
        ctl(store, '/_sim/fault', {'truncate': True, 'count': rnd.randint(1, 2), 'match': 'orderby=id'})
    elif kind == 'store-hostile':
        body = rnd.choice(['[' * 5000 + ']' * 5000, '[{"id": 1}, 3, "x"]', '{"orders": 7}', '[{"id":99999999,"date_modified_gmt":"soon"}]',
                           '\x00\x01garbage', '[' + ','.join(['{"id":%d}' % i for i in range(50)]) + ']'])
        ctl(store, '/_sim/fault', {'status': 200, 'body': body, 'count': 1, 'match': 'orderby=id'})
    elif kind == 'db-restore':
        if db_copies:
            path, m = rnd.choice(db_copies)
            for suffix in ('', '-wal', '-shm'):
                if os.path.exists(os.path.join(tmp, 'wsi.db' + suffix)):
                    os.remove(os.path.join(tmp, 'wsi.db' + suffix))
            shutil.copy(path, os.path.join(tmp, 'wsi.db'))
            # the operator sets the mark back to before the backup, less a margin
            t = m if m else iso(time.time() - 3600)
            t = time.mktime(time.strptime(t, '%Y-%m-%dT%H:%M:%SZ')) - time.timezone - 600
            # what the copy believes posted after Sage's earliest gap may be gone from Sage
            tool('wsi-hwm', 'set', iso(min(t, sage_as_of[0] - 2)))
            note(kind)
        return
    elif kind == 'sage-restore':
        if sage_snaps:
            name, t = rnd.choice(sage_snaps)
            ctl(sage, '/_sim/rollback', {'name': name})
            sage_as_of[0] = t
            tool('wsi-hwm', 'set', iso(t - 2))
            note(kind)
        return
    if kind != 'none':
        note(kind)
    sync()
    ctl(sage, '/_sim/fault', {'clear': True})
    ctl(store, '/_sim/fault', {'clear': True})


add_orders(15)
t0 = time.time()
for r in range(a.rounds):
    log.write(f'--- round {r}\n')
    change_store()
    if rnd.random() < 0.3:
        path = os.path.join(tmp, f'copy{r}.db')
        subprocess.run(['sqlite3', os.path.join(tmp, 'wsi.db'), f'.backup {path}'], check=False)
        db_copies.append((path, mark()))
    if rnd.random() < 0.3:
        time.sleep(1)
        sage_snaps.append((f's{r}', min(time.time(), sage_as_of[0])))
        ctl(sage, '/_sim/snapshot', {'name': f's{r}'})
        time.sleep(1)
    for _ in range(rnd.randint(1, 2)):
        inject()

# the faults stop: fix what waits (again, where a restore undid a fix), then run until quiet
for key in held:
    tool('wsi-sync', 'release', key)
fix_unknown(all_of_them=True)
for sku, how in fixed:
    if how == 'mapping':
        tool('wsi-remap', 'add', 'item', sku, 'A1-104/0')
    elif how == 'sage':
        ctl(sage, '/_sim/items', [{'UnformattedItemNumber': sku.replace('-', ''), 'ItemNumber': sku,
                                  'Description': 'added', 'Status': True, 'Sellable': True, 'BasePrice': 1}])
ctl(sage, '/_sim/fault', {'clear': True})
ctl(store, '/_sim/fault', {'clear': True})
time.sleep(8.5)  # [sage] reconcile_after: what was sent last may still be saving
last = None
for i in range(12):
    rc = sync()
    st = ctl(sage, '/_sim/state')
    db = sqlite3.connect(os.path.join(tmp, 'wsi.db'))
    states = db.execute('select store, id, state from orders order by 1, 2').fetchall()
    db.close()
    now = (len(st['orders']), len(st['receipts']), tuple(states))
    if now == last and rc in (0, 1):
        break
    last = now
    time.sleep(1.1)

# the invariants
st = ctl(sage, '/_sim/state')
json.dump(st, open(os.path.join(tmp, 'sage-state.json'), 'w'), indent=1)
store_orders = {str(o['id']): o for o in ctl(store, '/_sim/orders')}
db = sqlite3.connect(os.path.join(tmp, 'wsi.db'))
rows = {r[0]: r[1:] for r in db.execute('select id, state, (select count(*) from reasons x where x.store=o.store and x.id=o.id) from orders o')}
db.close()
by_ref = {}
for o in st['orders']:
    by_ref.setdefault(o['OrderReference'], []).append(o)
receipts = {}
for rc_ in st['receipts']:
    receipts[rc_.get('Description')] = receipts.get(rc_.get('Description'), 0) + 1
lost = dup = half = unexplained = 0
problems = []
for oid, o in store_orders.items():
    ref = f'shop:{oid}'
    made = by_ref.get(ref, [])
    state, nreasons = rows.get(oid, (None, 0))
    if len(made) > 1:
        dup += 1
        problems.append(f'{ref}: {len(made)} Sage orders')
    postable = o['status'] in ('processing', 'completed')
    if postable and not made and state != 'conflict':
        lost += 1
        problems.append(f'{ref}: postable, state {state}, not in Sage')
    for so in made:
        if so['NumberOfInvoices'] != 1 or so['NumberOfShipments'] != 1:
            half += 1
            problems.append(f'{ref}: Sage order {so["OrderNumber"]} without its shipment or invoice')
        paid = (a.prepayment == 'order' and so['OrderTotalPayment'] > 0) or (a.prepayment == 'receipt' and receipts.get(ref, 0) >= 1)
        # a conflict (cancelled or changed in the store after Sage got it) waits for a person,
        # who decides on the credit note: its receipt is not to be made behind their back
        if not paid and state != 'conflict':
            half += 1
            problems.append(f'{ref}: Sage order {so["OrderNumber"]} without its payment')
        if a.prepayment == 'receipt' and receipts.get(ref, 0) > 1:
            dup += 1
            problems.append(f'{ref}: {receipts[ref]} receipts')
    if made and state not in ('posted', 'conflict'):
        unexplained += 1
        problems.append(f'{ref}: in Sage but {state} here')
    if not made:
        ok = state == 'skipped' or state == 'conflict' or (state in ('invalid', 'failed') and nreasons) or (state is None and not postable)
        if not ok:
            unexplained += 1
            problems.append(f'{ref}: store status {o["status"]}, state {state}, no Sage order, no reason')
print(f'faults: seed {seed}, {a.rounds} rounds, prepayment {a.prepayment}, {time.time() - t0:.0f} s, '
      f'{len(store_orders)} web orders, {len(st["orders"])} Sage orders')
print('faults injected: ' + ', '.join(f'{k} {v}' for k, v in sorted(faults.items())))
print(f'lost {lost}, duplicated {dup}, half-done {half}, unexplained {unexplained}')
for p in problems[:20]:
    print('  ' + p)
for p in procs:
    p.kill()
    p.wait()
bad = lost or dup or half or unexplained
if bad or a.keep:
    print(f'work directory kept: {tmp} (faults.log); replay with --seed {seed}')
else:
    shutil.rmtree(tmp)
sys.exit(1 if bad else 0)
