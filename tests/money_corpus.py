#!/usr/bin/env python3
"""money_corpus.py orders | check MODE - the money corpus: 30 WooCommerce orders (the lamp store's
shape, from the WooCommerce docs) over three Sage tax groups (CALIF: CA 6 %, by detail; WASEA:
WAST 6.5 % + WAKC 3.6 %, by detail; BCTAX: GST 5 % + PST 7 %, by summary), ten variants each:
one line, three lines rounded per line or on the total, an untaxed line, taxed shipping, a taxed
and an untaxed fee, a 10 % coupon, prices including tax, 4-decimal amounts, and (the eleventh)
a 10 % coupon in a store keeping 4 decimals, whose nets and taxes Sage gets in cents, each
rounded down and the cents the store's rounded totals hold beyond them on the largest remainders.

33 orders in all. `orders` prints them for the store simulator. `check store|sage` reads the Sage simulator's state
(stdin), the bodies it was sent (WSI_BODIES, a file of /_sim/bodies) and wsi's states (WSI_DB),
compares each body sent with the one money.md asks for (each detail whole, the header's tax and
prepayment), and prints the table: case, outcome, Sage per authority, web per
authority, and checks each line as Sage keeps it (quantity, price or amount, tax per authority in
store mode, the exempt class where the store charged none, the rounding line); exits 1 if any order
is not what money.md says: in `store` mode every order posted with
Sage = web per authority to the cent; in `sage` mode posted with Sage's own tax and the web total
(a short cent on the rounding charge) when within 0.02 per authority, else waiting as tax-differs.
"""
import copy, json, os, sqlite3, sys
from decimal import Decimal, ROUND_DOWN, ROUND_HALF_UP

HERE = os.path.dirname(os.path.abspath(__file__))
C = Decimal('0.01')
GROUPS = {  # customer id -> (Sage group, [(web rate code, rate id, Sage authority, rate %)], summary?)
    1: ('CALIF', [('US-CA-STATE TAX', 75, 'CA', Decimal(6))], False),
    777: ('WASEA', [('US-WA-STATE', 80, 'WAST', Decimal('6.5')), ('US-WA-KING', 81, 'WAKC', Decimal('3.6'))], False),
    888: ('BCTAX', [('CA-BC-GST', 90, 'GST', Decimal(5)), ('CA-BC-PST', 91, 'PST', Decimal(7))], True),
}
VARIANTS = ['one line', 'three lines, per line', 'three lines, on the total', 'an untaxed line', 'taxed shipping',
            'taxed fee', 'untaxed fee', '10% coupon', 'prices include tax', '4 decimals', '4-decimal coupon']
N = len(VARIANTS)


def r2(x):
    return x.quantize(C, ROUND_HALF_UP)


def r4(x):
    return x.quantize(Decimal('0.0001'), ROUND_HALF_UP)


def spread(amounts, target):
    """The amounts in cents: each rounded down, the cents `target` holds beyond them one each to the
    largest remainders, the first on a tie."""
    floors = [x.quantize(C, ROUND_DOWN) for x in amounts]
    cents = int((target - sum(floors, Decimal(0))) / C)
    for k in sorted(range(len(amounts)), key=lambda k: (floors[k] - amounts[k], k))[:cents]:
        floors[k] += C
    return floors


def case(n):
    cust = [1, 777, 888][n // N]
    v = n % N
    prices = [Decimal('10.05'), Decimal('10.10'), Decimal('7.33')]
    lines = [(1, prices[n % 3], True)] if v == 0 else [(q, p, True) for q, p in ((1, prices[0]), (2, prices[1]), (1, prices[2]))]
    if v == 3:
        lines[1] = (lines[1][0], lines[1][1], False)
    return {'id': 60000 + n, 'name': f'{GROUPS[cust][0]} {VARIANTS[v]}', 'cust': cust, 'lines': lines,
            'ship': (Decimal('10.00'), v == 4), 'fee': (Decimal('2.50'), v == 5) if v in (5, 6) else None,
            'coupon': Decimal('0.10') if v in (7, 10) else Decimal(0), 'on_total': v == 2, 'incl': v == 8,
            'dp4': v in (9, 10), 'exact': v == 10}


def store_tax(c):
    """What the store charges: parts [(kind, net, {auth: tax})] and the web tax per authority."""
    _, taxes, _ = GROUPS[c['cust']]
    parts = []
    for q, p, taxed in c['lines']:
        sub = p * q
        net = r4(sub - sub * c['coupon']) if c['exact'] else sub - r2(sub * c['coupon'])
        parts.append(['line', net, taxed, sub])
    parts.append(['shipping', c['ship'][0], c['ship'][1], c['ship'][0]])
    if c['fee']:
        parts.append(['fee', c['fee'][0], c['fee'][1], c['fee'][0]])
    for part in parts:
        part.append({})
    for code, rid, auth, rate in taxes:
        taxed = [p for p in parts if p[2]]
        for p in taxed:
            p[4][auth] = (r4 if c['exact'] else r2)(p[1] * rate / 100)
        if c['on_total'] and taxed:  # rounded on the total, the last line taking the difference
            whole = r2(sum(p[1] for p in taxed) * rate / 100)
            taxed[-1][4][auth] += whole - sum(p[4][auth] for p in taxed)
    web = {auth: sum((p[4].get(auth, Decimal(0)) for p in parts), Decimal(0)) for _, _, auth, _ in taxes}
    return parts, web


def sent(parts, web):
    """What Sage is sent, in cents: the parts with their nets and taxes spread (a store keeping 4
    decimals), each authority's tax rounded once, the nets to the total less that."""
    total = r2(sum(p[1] for p in parts) + sum(web.values(), Decimal(0)))
    out = [list(p[:4]) + [dict(p[4])] for p in parts]
    for a in web:
        taxed = [p for p in out if a in p[4]]
        for p, x in zip(taxed, spread([p[4][a] for p in taxed], r2(web[a]))):
            p[4][a] = x
    for p, x in zip(out, spread([p[1] for p in parts], total - sum((r2(w) for w in web.values()), Decimal(0)))):
        p[1] = x
    return out


def sage_tax(c, parts):
    """What Sage calculates (sagesim, money.md section 1) on the nets it is sent: untaxed parts in
    the exempt class (0 %)."""
    _, taxes, summary = GROUPS[c['cust']]
    out = {}
    for _, _, auth, rate in taxes:
        exact = [p[1] * (rate if p[2] else 0) / 100 for p in parts]
        out[auth] = r2(sum(exact)) if summary else sum((r2(x) for x in exact), Decimal(0))
    return out


def amt(x, c):
    return f'{x:.4f}' if c['dp4'] else f'{x:.2f}'


def order(c, base):
    o = copy.deepcopy(base)
    parts, web = store_tax(c)
    _, taxes, _ = GROUPS[c['cust']]
    o.update(id=c['id'], number=str(c['id']), customer_id=c['cust'], prices_include_tax=c['incl'])
    l0 = o['line_items'][0]
    o['line_items'] = []
    for k, ((q, p, _), part) in enumerate(zip(c['lines'], parts)):
        t = sum(part[4].values(), Decimal(0))
        o['line_items'].append(dict(copy.deepcopy(l0), id=c['id'] * 10 + k, sku='A1-103/0', quantity=q, price=float(p),
                                    subtotal=amt(part[3], c), subtotal_tax=amt(t, c), total=amt(part[1], c), total_tax=amt(t, c),
                                    taxes=[{'id': rid, 'total': amt(part[4][auth], c), 'subtotal': amt(part[4][auth], c)}
                                           for _, rid, auth, _ in taxes if auth in part[4]]))
    ship = next(p for p in parts if p[0] == 'shipping')
    st = sum(ship[4].values(), Decimal(0))
    o['shipping_lines'] = [dict(o['shipping_lines'][0], total=amt(ship[1], c), total_tax=amt(st, c),
                                taxes=[{'id': rid, 'total': amt(ship[4][auth], c)} for _, rid, auth, _ in taxes if auth in ship[4]])]
    o['fee_lines'] = []
    for p in parts:
        if p[0] == 'fee':
            ft = sum(p[4].values(), Decimal(0))
            o['fee_lines'].append({'id': c['id'] * 10 + 8, 'name': 'Gift wrap', 'tax_class': '', 'tax_status': 'taxable' if p[2] else 'none',
                                   'total': amt(p[1], c), 'total_tax': amt(ft, c),
                                   'taxes': [{'id': rid, 'total': amt(p[4][auth], c)} for _, rid, auth, _ in taxes if auth in p[4]]})
    disc = sum((p[3] - p[1] for p in parts if p[0] == 'line'), Decimal(0))
    o['coupon_lines'] = [{'id': 1, 'code': 'TENOFF', 'discount': amt(disc, c), 'discount_tax': '0.00'}] if disc else []
    tax = sum(web.values(), Decimal(0))
    o.update(discount_total=amt(disc, c), shipping_total=amt(ship[1], c), shipping_tax=amt(st, c), cart_tax=amt(tax - st, c),
             total_tax=amt(tax, c), total=amt(r2(sum(p[1] for p in parts) + tax), c),
             tax_lines=[{'id': k + 1, 'rate_code': code, 'rate_id': rid, 'label': auth, 'compound': False,
                         'tax_total': amt(web[auth] - ship[4].get(auth, 0), c), 'shipping_tax_total': amt(ship[4].get(auth, 0), c)}
                        for k, (code, rid, auth, _) in enumerate(taxes)])
    return o


CASES = [case(n) for n in range(3 * N)]
CUSTOMERS = {1: 'WEB', 777: 'SEA01', 888: 'BCUSD'}
HEADER = ['CustomerNumber', 'TaxGroup', 'AutoTaxCalculationStatus', 'BankCode', 'ReceiptType', 'PaymentAppliedTo',
          'PaymentInCustomerCurrency'] + [f'{k}{a}' for k in ('TaxClass', 'TaxBase', 'ExcludedTaxAmount') for a in range(1, 6)]


def expected_body(c, parts, mode, idx, total, pred):
    """The Sage body money.md asks for (decisions 3, 5, 6, 7): the header's customer, tax group, tax
    mode, sums per authority (store mode) and prepayment; each detail whole."""
    group, taxes, _ = GROUPS[c['cust']]
    auths = [a for _, _, a, _ in taxes]
    details, base, tax = [], {}, {}
    quantities = iter(c['lines'])
    for p in parts:
        if p[0] == 'line':
            q = next(quantities)[0]
            d = {'LineType': 'Item', 'Item': 'A1-103/0', 'QuantityOrdered': q, 'QuantityShipped': q, 'PriceOverride': True,
                 'OrderUnitPrice': float(p[1] / q)}
        else:
            d = {'LineType': 'Miscellaneous', 'MiscellaneousChargesCode': 'SHIP' if p[0] == 'shipping' else 'FEE',
                 'ExtendedAmount': float(p[1])}
        for a in auths:
            if not p[4].get(a):
                d[f'TaxClass{idx[a]}'] = 2
        for a in auths:
            if mode == 'store' and p[4].get(a):
                d.update({f'TaxIncluded{idx[a]}': False, f'TaxBase{idx[a]}': float(p[1]), f'TaxAmount{idx[a]}': float(p[4][a])})
                base[a] = base.get(a, Decimal(0)) + p[1]
                tax[a] = tax.get(a, Decimal(0)) + p[4][a]
        details.append(d)
    short = sum((p[4].get(a, Decimal(0)) for p in parts for a in auths), Decimal(0)) - sum(pred.values(), Decimal(0))
    if mode == 'sage' and short > 0:
        details.append({'LineType': 'Miscellaneous', 'MiscellaneousChargesCode': 'ROUND', 'ExtendedAmount': float(short),
                        **{f'TaxClass{idx[a]}': 2 for a in auths}})
    # in this order: the customer and its tax group before the details, the sums after, the prepayment last
    body = {'CustomerNumber': CUSTOMERS[c['cust']], 'TaxGroup': group, 'AutoTaxCalculationStatus': mode == 'sage',
            'OrderDetails': details}
    for a in sorted(base, key=lambda a: idx[a]):
        body.update({f'TaxBase{idx[a]}': float(base[a]), f'ExcludedTaxAmount{idx[a]}': float(tax[a])})
    body.update({'BankCode': 'SEATAC', 'ReceiptType': 'CC', 'PaymentAppliedTo': 'OrderNumber',
                 'PaymentInCustomerCurrency': float(total)})
    return body


def key_order(body):
    """The order of the properties (Sage puts them to its view in payload order: PriceOverride
    before OrderUnitPrice, the tax group before the details)."""
    return [list(body)] + [list(d) for d in body.get('OrderDetails', [])]


if sys.argv[1] == 'orders':
    base = [x for x in json.load(open(os.path.join(HERE, 'fixtures', 'lamp-orders.json'))) if x['id'] == 10232][0]
    print(json.dumps({'orders': [order(c, base) for c in CASES], 'touch': True}))
    sys.exit(0)

mode = sys.argv[2]
state = json.load(sys.stdin)
bodies = json.load(open(os.environ['WSI_BODIES']))
db = sqlite3.connect(os.environ['WSI_DB'])
bad = 0
print(f'{"case":<34} {"outcome":<12} {"Sage per authority":<26} {"web per authority":<26} ok')
for c in CASES:
    parts, exact_web = store_tax(c)
    parts = sent(parts, exact_web)
    web = {a: r2(x) for a, x in exact_web.items()}  # what the store charged
    pred = sage_tax(c, parts)
    group, taxes, _ = GROUPS[c['cust']]
    auths = [a for _, _, a, _ in taxes]
    ref = f'shop:{c["id"]}'
    row = db.execute('select state, (select group_concat(code) from reasons r where r.store=o.store and r.id=o.id)'
                     ' from orders o where id=?', (str(c['id']),)).fetchone() or ('none', '')
    orders = [o for o in state['orders'] if o['OrderReference'] == ref]
    inv = [i for i in state['invoices'] if orders and i['OrderNumber'] == orders[0]['OrderNumber']]
    total = sum(p[1] for p in parts) + sum(web.values(), Decimal(0))
    if mode == 'store':
        want = ('posted', web)
    else:
        close = all(abs(web[a] - pred[a]) <= Decimal('0.02') for a in auths)
        short = sum(web.values()) - sum(pred.values())
        want = ('posted', pred) if close and short >= 0 else ('tax-differs', None)
    # what Sage keeps of the body: each line's quantity and price (or amount), its tax per authority
    # index in store mode, its exempt class where the store charged none, the rounding line
    idx = {a: k + 1 for k, a in enumerate(auths)}
    expect, quantities = [], iter(c['lines'])
    for p in parts:
        if p[0] == 'line':
            q = next(quantities)[0]
            line = {'LineType': 'Item', 'QuantityOrdered': float(q), 'OrderUnitPrice': float(p[1] / q)}
        else:
            line = {'LineType': 'Miscellaneous', 'MiscellaneousChargesCode': 'SHIP' if p[0] == 'shipping' else 'FEE',
                    'ExtendedAmount': float(p[1])}
        for a in auths:
            if mode == 'store':
                line[f'TaxAmount{idx[a]}'] = float(p[4].get(a, 0))
            if a not in p[4]:
                line[f'TaxClass{idx[a]}'] = 2
        expect.append(line)
    if mode == 'sage' and orders and sum(web.values()) > sum(pred.values()):
        expect.append({'LineType': 'Miscellaneous', 'MiscellaneousChargesCode': 'ROUND',
                       'ExtendedAmount': float(sum(web.values()) - sum(pred.values())), **{f'TaxClass{idx[a]}': 2 for a in auths}})
    got_lines = [{k: d.get(k) for k in e} for e, d in zip(expect, orders[0]['OrderDetails'])] if orders else []
    body_ok = not orders or (len(orders[0]['OrderDetails']) == len(expect) and got_lines == expect)
    # the body wsi sent: every detail whole (but its location), the header's money and tax
    want_body = expected_body(c, parts, mode, idx, total, pred)
    sent_body = bodies.get(orders[0]['OrderNumber'], {}) if orders else None
    if sent_body is not None:
        got = {k: ([{f: v for f, v in d.items() if f != 'Location'} for d in x] if k == 'OrderDetails' else x)
               for k, x in sent_body.items() if k in HEADER or k == 'OrderDetails'}
        if got != want_body or key_order(got) != key_order(want_body):
            body_ok = False
            print(f'  body sent: {json.dumps(got)}\n  expected:  {json.dumps(want_body)}')
    got_sage = {}
    if inv:
        idx = {a: k + 1 for k, a in enumerate(auths)}
        got_sage = {a: Decimal(str(inv[0][f'TotalTaxAmount{idx[a]}'])).quantize(C) for a in auths}
    if want[0] == 'posted':
        ok = (row[0] == 'posted' and len(orders) == 1 and inv and got_sage == want[1] and
              Decimal(str(inv[0]['InvoiceTotalWithTax'])).quantize(C) == r2(total))
        outcome = row[0]
    else:
        ok = row[0] == 'invalid' and 'tax-differs' in (row[1] or '') and not orders
        outcome = row[1] or row[0]
    ok = ok and body_ok
    bad += not ok
    fmt = lambda d: ', '.join(f'{a} {d[a]}' for a in auths) if d else '-'
    print(f'{c["name"]:<34} {outcome:<12} {fmt(got_sage):<26} {fmt(web):<26} {"yes" if ok else "NO"}')
    if not body_ok:
        print(f'  lines in Sage: {got_lines}\n  expected:      {expect}')
sys.exit(1 if bad else 0)
