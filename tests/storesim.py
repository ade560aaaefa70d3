#!/usr/bin/env python3
"""storesim.py - a WooCommerce REST v3 and Shopify Admin REST order API, for wsi's tests.

It follows the contract of the real stores as the project's reference describes it: WooCommerce's
bare-array pages with X-WP-Total, X-WP-TotalPages and a prev/next Link header, strict
modified_after/modified_before, per_page 1..100, pages past the end answering []; Shopify's
{"orders":[...]} with opaque keyset page_info cursors that refuse other filters, inclusive
updated_at_min/max, strict since_id, limit <= 250, count.json, a leaky-bucket rate limit with
429 and Retry-After, and the call-limit header. Both answer with their own error bodies.

Tests drive it through /_sim/... endpoints: add or edit orders, move its clock, inject faults
(a status, a delay, a dropped connection, a truncated body, an HTML page), mutate orders while a
listing is being paged, and read request counts. Standard library only.

  storesim.py --kind woocommerce|shopify [--orders FILE] [--portfile FILE]
              [--key K --secret S | --token T] [--now TIME] [--tls CERT KEY]
"""
import argparse, base64, json, os, random, socket, sys, threading, time
import urllib.parse
from datetime import datetime, timezone, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Faults, serve  # noqa: E402


def parse_time(s):
    """ISO 8601 with Z, an offset, or none (UTC) to epoch seconds."""
    s = s.strip().replace(' ', 'T')
    if s.endswith('Z') or s.endswith('z'):
        s = s[:-1] + '+00:00'
    if len(s) == 10:
        s += 'T00:00:00'
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def fmt_naive(t, offset=0):
    return datetime.fromtimestamp(t + offset, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')


def fmt_offset(t, offset):
    tz = timezone(timedelta(seconds=offset))
    return datetime.fromtimestamp(t, tz).isoformat()


def http_date(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime('%a, %d %b %Y %H:%M:%S GMT')


class Store:
    def __init__(self, kind, now, key, secret, token, realtime=False):
        self.kind = kind
        self.lock = threading.RLock()
        self.orders = {}            # id -> order dict
        self._clock = now
        self.realtime = realtime    # the clock follows real time (plus what was advanced)
        self.offset = 0
        self.key, self.secret, self.token = key, secret, token
        self.site_offset = -3 * 3600   # WooCommerce site time zone, as in the docs' example
        self.shop_offset = -4 * 3600   # Shopify shop offset
        self.faults = Faults()
        self.on_page = []
        self.stats = {'requests': 0, 'list': 0, 'count': 0, 'by_status': {}}
        self.bucket, self.leak, self.level, self.last_leak = 40.0, 2.0, 0.0, time.monotonic()
        self.retry_after = '2.0'

    @property
    def clock(self):
        return int(time.time()) + self.offset if self.realtime else self._clock

    @clock.setter
    def clock(self, value):
        if self.realtime:
            self.offset = int(value) - int(time.time())
        else:
            self._clock = int(value)

    # -- orders --
    def modified(self, o):
        if self.kind == 'shopify':
            return parse_time(o['updated_at'])
        return parse_time(o.get('date_modified_gmt') or o['date_created_gmt'])

    def created(self, o):
        if self.kind == 'shopify':
            return parse_time(o['created_at'])
        return parse_time(o['date_created_gmt'])

    def touch(self, o):
        t = self.clock
        if self.kind == 'shopify':
            o['updated_at'] = fmt_offset(t, self.shop_offset)
        else:
            o['date_modified_gmt'] = fmt_naive(t)
            o['date_modified'] = fmt_naive(t, self.site_offset)

    def add(self, orders, touch=False):
        for o in orders:
            if touch or (self.kind == 'woocommerce' and 'date_modified_gmt' not in o) or \
                    (self.kind == 'shopify' and 'updated_at' not in o):
                self.touch(o)
            self.orders[o['id']] = o

    def edit(self, oid, changes, touch=True):
        o = self.orders.get(oid)
        if o is None:
            return False
        for k, v in changes.items():
            if k == 'line0':            # a change inside the first line item
                o['line_items'][0].update(v)
            else:
                o[k] = v
        if touch:
            self.touch(o)
        return True


def gen_orders(kind, n, start, spread, seed, skus=50, same_second=False, first_id=1000):
    """Realistic orders: 1-5 lines, addresses, taxes, 2-3 KB each."""
    rnd = random.Random(seed)
    out = []
    names = ['Anna Schmidt', 'José Núñez', 'Zoë Ørsted', '李小龙', 'Mary O\'Brien', 'Jean-Luc Picard']
    for i in range(n):
        oid = first_id + i
        t = start if same_second else start + (i * spread) // max(n, 1)
        name = rnd.choice(names)
        first, _, last = name.partition(' ')
        lines, items = [], 0
        for j in range(rnd.randint(1, 5)):
            q = rnd.randint(1, 4)
            cents = rnd.randint(199, 25000)
            lines.append((f'SKU-{rnd.randint(1, skus):04d}', f'Product {j} for {name}', q, cents))
            items += q * cents
        tax = sum(q * c * 6 // 100 for _, _, q, c in lines)  # taxed per line, as the stores round
        ship = rnd.choice([0, 500, 1000])
        total = items + tax + ship
        money = lambda c: f'{c // 100}.{c % 100:02d}'
        if kind == 'shopify':
            o = {'id': oid, 'admin_graphql_api_id': f'gid://shopify/Order/{oid}', 'name': f'#{1000 + i}',
                 'order_number': 1000 + i, 'email': f'c{i}@example.com',
                 'created_at': fmt_offset(t, -4 * 3600), 'updated_at': fmt_offset(t, -4 * 3600),
                 'processed_at': fmt_offset(t, -4 * 3600), 'cancelled_at': None, 'closed_at': None,
                 'currency': 'USD', 'total_line_items_price': money(items), 'subtotal_price': money(items),
                 'total_discounts': '0.00', 'total_tax': money(tax), 'total_price': money(total),
                 'taxes_included': False, 'financial_status': 'paid', 'fulfillment_status': None,
                 'payment_gateway_names': ['shopify_payments'], 'source_name': 'web', 'test': False,
                 'customer': {'id': 6912345678901 + i % 500, 'email': f'c{i}@example.com',
                              'first_name': first, 'last_name': last},
                 'billing_address': {'first_name': first, 'last_name': last, 'name': name, 'address1': f'{i} Main St',
                                     'city': 'Louisville', 'province_code': 'KY', 'zip': '40202', 'country_code': 'US'},
                 'shipping_address': {'first_name': first, 'last_name': last, 'name': name, 'address1': f'{i} Main St',
                                      'city': 'Louisville', 'province_code': 'KY', 'zip': '40202', 'country_code': 'US'},
                 'line_items': [{'id': oid * 10 + k, 'sku': s, 'name': nm, 'title': nm, 'quantity': q,
                                 'current_quantity': q, 'price': money(c), 'total_discount': '0.00',
                                 'taxable': True, 'requires_shipping': True, 'grams': 200,
                                 'discount_allocations': [],
                                 'tax_lines': [{'title': 'State Tax', 'price': money(q * c * 6 // 100), 'rate': 0.06}]}
                                for k, (s, nm, q, c) in enumerate(lines)],
                 'shipping_lines': [{'id': oid * 10 + 9, 'code': 'Standard', 'title': 'Standard', 'price': money(ship),
                                     'discounted_price': money(ship), 'tax_lines': []}],
                 'tax_lines': [{'title': 'State Tax', 'price': money(tax), 'rate': 0.06}],
                 'discount_codes': []}
        else:
            o = {'id': oid, 'parent_id': 0, 'number': str(oid), 'order_key': f'wc_order_{oid:x}',
                 'created_via': 'checkout', 'status': 'processing', 'currency': 'USD',
                 'date_created': fmt_naive(t, -3 * 3600), 'date_created_gmt': fmt_naive(t),
                 'date_modified': fmt_naive(t, -3 * 3600), 'date_modified_gmt': fmt_naive(t),
                 'discount_total': '0.00', 'discount_tax': '0.00', 'shipping_total': money(ship),
                 'shipping_tax': '0.00', 'cart_tax': money(tax), 'total': money(total), 'total_tax': money(tax),
                 'prices_include_tax': False, 'customer_id': i % 500, 'customer_note': '',
                 'billing': {'first_name': first, 'last_name': last, 'company': '', 'address_1': f'{i} Market',
                             'address_2': '', 'city': 'San Francisco', 'state': 'CA', 'postcode': '94103',
                             'country': 'US', 'email': f'c{i}@example.com', 'phone': '(555) 555-5555'},
                 'shipping': {'first_name': first, 'last_name': last, 'company': '', 'address_1': f'{i} Market',
                              'address_2': '', 'city': 'San Francisco', 'state': 'CA', 'postcode': '94103',
                              'country': 'US'},
                 'payment_method': 'stripe', 'payment_method_title': 'Credit card', 'transaction_id': f'ch_{oid}',
                 'date_paid': fmt_naive(t, -3 * 3600), 'date_paid_gmt': fmt_naive(t),
                 'date_completed': None, 'date_completed_gmt': None,
                 'line_items': [{'id': oid * 10 + k, 'name': nm, 'product_id': 90 + k, 'variation_id': 0,
                                 'quantity': q, 'tax_class': '', 'subtotal': money(q * c),
                                 'subtotal_tax': money(q * c * 6 // 100), 'total': money(q * c),
                                 'total_tax': money(q * c * 6 // 100),
                                 'taxes': [{'id': 75, 'total': money(q * c * 6 // 100), 'subtotal': money(q * c * 6 // 100)}],
                                 'meta_data': [], 'sku': s, 'price': c / 100}
                                for k, (s, nm, q, c) in enumerate(lines)],
                 'tax_lines': [{'id': 318, 'rate_code': 'US-CA-STATE TAX', 'rate_id': 75, 'label': 'State Tax',
                                'compound': False, 'tax_total': money(tax), 'shipping_tax_total': '0.00'}],
                 'shipping_lines': [{'id': oid * 10 + 9, 'method_title': 'Flat Rate', 'method_id': 'flat_rate',
                                     'total': money(ship), 'total_tax': '0.00', 'taxes': []}],
                 'fee_lines': [], 'coupon_lines': [], 'refunds': []}
        # Items total minus per-line rounding may differ from the 6% of the sum; keep totals true to lines.
        out.append(o)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'storesim/1.0'

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.store

    # -- plumbing --
    def send(self, status, body, ctype='application/json; charset=UTF-8', headers=None, fault=None):
        # surrogatepass: a lone surrogate in an order goes out as the bad bytes a broken store sends
        data = body if isinstance(body, bytes) else body.encode('utf-8', 'surrogatepass')
        self.send_response_only(status)
        self.send_header('Date', http_date(self.st.clock))
        self.send_header('Server', self.server_version)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if fault and fault.get('truncate'):
            self.wfile.write(data[:max(1, len(data) // 2)])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def take_fault(self, path):
        return self.st.faults.take(self.command, path)

    def do_POST(self):
        self.dispatch('POST')

    def do_GET(self):
        self.dispatch('GET')

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if path.startswith('/_sim/'):
            return self.control(method, path, q)
        with self.st.lock:
            self.st.stats['requests'] += 1
        fault = self.take_fault(self.path)
        if fault:
            if fault.get('delay'):
                time.sleep(float(fault['delay']))
            if fault.get('drop'):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault.get('status'):
                body = fault.get('body')
                ctype = fault.get('content_type', 'application/json; charset=UTF-8')
                if body is None:
                    if fault.get('html'):
                        body = '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>'
                        ctype = 'text/html'
                    elif self.st.kind == 'shopify' and fault['status'] == 429:
                        body = json.dumps({'errors': 'Exceeded 2 calls per second for api client. Reduce request '
                                                     'rates to resume uninterrupted service.'})
                    elif self.st.kind == 'shopify':
                        body = json.dumps({'errors': 'Internal Server Error'})
                    else:
                        body = json.dumps({'code': 'internal_server_error', 'message': 'Internal Server Error',
                                           'data': {'status': fault['status']}})
                headers = {}
                if fault['status'] == 429:
                    headers['Retry-After'] = str(fault.get('retry_after', self.st.retry_after))
                return self.send(int(fault['status']), body, ctype, headers)
        try:
            if self.st.kind == 'woocommerce':
                return self.woo(method, path, q, fault)
            return self.shopify(method, path, q, fault)
        except (ValueError, KeyError) as e:
            return self.send(400, json.dumps({'code': 'rest_invalid_param', 'message': f'Invalid parameter(s): {e}',
                                              'data': {'status': 400}}))

    # -- controls --
    def control(self, method, path, q):
        st = self.st
        body = json.loads(self.read_body() or b'null') if method == 'POST' else None
        with st.lock:
            if path == '/_sim/stats':
                return self.send(200, json.dumps(st.stats))
            if path == '/_sim/faults':  # how many queued faults have not fired yet
                return self.send(200, json.dumps({'queued': len(st.faults.items)}))
            if path == '/_sim/orders' and method == 'GET':
                return self.send(200, json.dumps(list(st.orders.values())))
            if path == '/_sim/orders':
                st.add(body['orders'], body.get('touch', False))
            elif path == '/_sim/generate':
                st.add(gen_orders(st.kind, body['n'], body.get('start', st.clock - body.get('ago', 86400)), body.get('spread', 86400),
                                  body.get('seed', 1), body.get('skus', 50), body.get('same_second', False),
                                  max(list(st.orders) + [(5554292719955 if st.kind == 'shopify' else 999)]) + 1))
            elif path == '/_sim/edit':
                if not st.edit(body['id'], body.get('set', {}), body.get('touch', True)):
                    return self.send(404, '{"error":"no such order"}')
            elif path == '/_sim/delete':
                if st.kind == 'woocommerce' and not body.get('force'):
                    st.orders[body['id']]['status'] = 'trash'
                    st.touch(st.orders[body['id']])
                else:
                    st.orders.pop(body['id'], None)
            elif path == '/_sim/clock':
                if 'set' in body:
                    st.clock = parse_time(body['set']) if isinstance(body['set'], str) else int(body['set'])
                st.clock += int(body.get('advance', 0))
            elif path == '/_sim/fault':
                if body.get('clear'):
                    st.faults.clear()
                else:
                    st.faults.add(body)
            elif path == '/_sim/on_page':
                st.on_page.append(body)
            elif path == '/_sim/ratelimit':
                st.bucket = float(body.get('bucket', st.bucket))
                st.leak = float(body.get('leak', st.leak))
                st.level = float(body.get('level', st.level))
                st.retry_after = str(body.get('retry_after', st.retry_after))
            elif path == '/_sim/reset_stats':
                st.stats = {'requests': 0, 'list': 0, 'count': 0, 'by_status': {}}
            else:
                return self.send(404, '{"error":"unknown control"}')
        return self.send(200, json.dumps({'ok': True, 'clock': st.clock, 'orders': len(st.orders)}))

    def mutate_on_page(self, n):
        """Apply edits registered for the n-th page of a listing, as if a shop clerk clicked meanwhile."""
        st = self.st
        for m in list(st.on_page):
            if m.get('page') == n:
                st.on_page.remove(m)
                for oid in m.get('edit', []):
                    st.edit(oid, m.get('set', {}))
                for oid in m.get('trash', []):
                    if st.kind == 'woocommerce':
                        st.orders[oid]['status'] = 'trash'
                        st.touch(st.orders[oid])
                    else:
                        st.orders.pop(oid, None)
                if m.get('add'):
                    st.add(m['add'], True)

    # -- WooCommerce --
    def woo_auth(self, q):
        key = q.get('consumer_key', [None])[0]
        secret = q.get('consumer_secret', [None])[0]
        auth = self.headers.get('Authorization', '')
        if key is None and auth.startswith('Basic '):
            try:
                key, _, secret = base64.b64decode(auth[6:]).decode().partition(':')
            except Exception:
                key = None
        if key is None:
            return (401, 'woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.')
        if key != self.st.key:
            return (401, 'woocommerce_rest_authentication_error', 'Consumer key is invalid.')
        if secret != self.st.secret:
            return (401, 'woocommerce_rest_authentication_error', 'Consumer secret is invalid.')
        return None

    def woo_error(self, status, code, message, extra=None):
        data = {'status': status}
        data.update(extra or {})
        headers = {}
        if status == 401:
            headers['WWW-Authenticate'] = ('Basic realm="WooCommerce API. Use a consumer key in the username field '
                                           'and a consumer secret in the password field."')
        return self.send(status, json.dumps({'code': code, 'message': message, 'data': data}), headers=headers)

    def woo(self, method, path, q, fault):
        st = self.st
        if not path.startswith('/wp-json/wc/v3/orders'):
            return self.woo_error(404, 'rest_no_route', 'No route was found matching the URL and request method.')
        bad = self.woo_auth(q)
        if bad:
            return self.woo_error(*bad)
        one = lambda k, d=None: q.get(k, [d])[0]
        rest = path[len('/wp-json/wc/v3/orders'):].strip('/')
        with st.lock:
            if rest:
                o = st.orders.get(int(rest)) if rest.isdigit() else None
                if o is None:
                    return self.woo_error(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.')
                return self.send(200, json.dumps(o, ensure_ascii=False, separators=(',', ':')), fault=fault)
            per_page = int(one('per_page', '10'))
            if not 1 <= per_page <= 100:
                return self.woo_error(400, 'rest_invalid_param', 'Invalid parameter(s): per_page',
                                      {'params': {'per_page': 'per_page must be between 1 (inclusive) and 100 (inclusive)'}})
            page = int(one('page', '1'))
            if page < 1:
                return self.woo_error(400, 'rest_invalid_param', 'Invalid parameter(s): page')
            st.stats['list'] += 1
            gmt = one('dates_are_gmt', 'false') in ('true', '1')
            offset = 0 if gmt else st.site_offset
            # WordPress reads a value with Z or an offset and converts it to site time.
            def bound(name):
                v = one(name)
                if v is None:
                    return None
                t = parse_time(v)
                if ('Z' in v or '+' in v[10:] or '-' in v[10:]):
                    t += st.site_offset  # converted to local, then compared as if it were the column's zone
                return t
            lo, hi, after, before = bound('modified_after'), bound('modified_before'), bound('after'), bound('before')
            statuses = [s for s in (one('status', 'any') or 'any').split(',') if s]
            include = [int(x) for x in (one('include', '') or '').split(',') if x]
            self.mutate_on_page(page)
            sel = []
            for o in st.orders.values():
                if 'any' in statuses:
                    if o['status'] == 'trash':
                        continue
                elif o['status'] not in statuses:
                    continue
                m, c = st.modified(o) + offset, st.created(o) + offset
                if lo is not None and not m > lo:
                    continue
                if hi is not None and not m < hi:
                    continue
                if after is not None and not c > after:
                    continue
                if before is not None and not c < before:
                    continue
                if include and o['id'] not in include:
                    continue
                sel.append(o)
            orderby, order = one('orderby', 'date'), one('order', 'desc')
            keyf = {'id': lambda o: o['id'], 'date': lambda o: (st.created(o), o['id']),
                    'modified': lambda o: (st.modified(o), o['id']),
                    'include': lambda o: include.index(o['id']) if o['id'] in include else 0}.get(orderby)
            if keyf is None:
                return self.woo_error(400, 'rest_invalid_param', 'Invalid parameter(s): orderby')
            sel.sort(key=keyf, reverse=(order == 'desc'))
            total = len(sel)
            pages = (total + per_page - 1) // per_page
            chunk = sel[(page - 1) * per_page: page * per_page]
            body = json.dumps(chunk, ensure_ascii=False, separators=(',', ':'))
        base = f'{self.server.scheme}://{self.headers.get("Host")}{path}'
        params = {k: v[0] for k, v in q.items() if k != 'page'}
        links = []
        if page > 1:
            links.append(f'<{base}?{urllib.parse.urlencode({**params, "page": page - 1})}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?{urllib.parse.urlencode({**params, "page": page + 1})}>; rel="next"')
        headers = {'X-WP-Total': str(total), 'X-WP-TotalPages': str(pages)}
        if links:
            headers['Link'] = ', '.join(links)
        return self.send(200, body, headers=headers, fault=fault)

    # -- Shopify --
    def shopify_error(self, status, errors, headers=None):
        return self.send(status, json.dumps({'errors': errors}), headers=headers)

    def shopify(self, method, path, q, fault):
        st = self.st
        if self.headers.get('X-Shopify-Access-Token') != st.token:
            return self.shopify_error(401, '[API] Invalid API key or access token (unrecognized login or wrong password)')
        with st.lock:
            now = time.monotonic()
            st.level = max(0.0, st.level - (now - st.last_leak) * st.leak)
            st.last_leak = now
            if st.level + 1 > st.bucket:
                return self.shopify_error(429, 'Exceeded 2 calls per second for api client. Reduce request rates to '
                                               'resume uninterrupted service.', {'Retry-After': st.retry_after})
            st.level += 1
            limit_hdr = {'X-Shopify-Shop-Api-Call-Limit': f'{int(st.level + 0.999)}/{int(st.bucket)}',
                         'X-Shopify-API-Version': path.split('/')[3] if path.count('/') > 3 else ''}
        parts = path.split('/')
        if len(parts) < 5 or parts[1:3] != ['admin', 'api']:
            return self.shopify_error(404, 'Not Found', limit_hdr)
        rest = '/'.join(parts[4:])
        one = lambda k, d=None: q.get(k, [d])[0]
        with st.lock:
            if rest == 'orders/count.json':
                st.stats['count'] += 1
                n = len(self.shopify_select(q))
                return self.send(200, json.dumps({'count': n}), headers=limit_hdr, fault=fault)
            if rest.startswith('orders/') and rest.endswith('.json') and rest[7:-5].isdigit():
                o = st.orders.get(int(rest[7:-5]))
                if o is None:
                    return self.shopify_error(404, 'Not Found', limit_hdr)
                return self.send(200, json.dumps({'order': o}, ensure_ascii=False), headers=limit_hdr, fault=fault)
            if rest != 'orders.json':
                return self.shopify_error(404, 'Not Found', limit_hdr)
            st.stats['list'] += 1
            limit = int(one('limit', '50'))
            if not 1 <= limit <= 250:
                return self.shopify_error(400, {'limit': 'limit must be between 1 and 250'}, limit_hdr)
            if 'page' in q:
                return self.shopify_error(400, {'page': 'page cannot be passed.'}, limit_hdr)
            pi = one('page_info')
            if pi is not None:
                for k in q:
                    if k not in ('page_info', 'limit', 'fields'):
                        return self.shopify_error(400, {k: f'{k} cannot be passed when page_info is present. See '
                                                           'https://shopify.dev/api/usage/pagination-rest for more information.'},
                                                  limit_hdr)
                try:
                    cur = json.loads(base64.urlsafe_b64decode(pi.encode()))
                except Exception:
                    return self.shopify_error(400, {'page_info': 'Invalid value.'}, limit_hdr)
                filters, last, page_no = cur['filters'], cur['last'], cur['page']
            else:
                filters = {k: v[0] for k, v in q.items() if k not in ('limit', 'fields')}
                last, page_no = None, 1
            self.mutate_on_page(page_no)
            fq = {k: [v] for k, v in filters.items()}
            sel = self.shopify_select(fq)
            order = filters.get('order', 'id asc')
            if 'since_id' in filters:
                order = 'id asc'
            field, _, direction = order.partition(' ')
            keyf = {'updated_at': lambda o: (st.modified(o), o['id']), 'created_at': lambda o: (st.created(o), o['id']),
                    'id': lambda o: (o['id'], o['id'])}.get(field)
            if keyf is None:
                return self.shopify_error(400, {'order': 'Invalid value.'}, limit_hdr)
            desc = direction.strip() == 'desc'
            sel.sort(key=keyf, reverse=desc)
            if last is not None:
                lk = tuple(last)
                sel = [o for o in sel if (keyf(o) < lk if desc else keyf(o) > lk)]
            chunk = sel[:limit]
            fields = one('fields')
            if fields:
                keep = fields.split(',')
                out = [{k: o[k] for k in keep if k in o} for o in chunk]
            else:
                out = chunk
            body = json.dumps({'orders': out}, ensure_ascii=False, separators=(',', ':'))
            links = []
            base = f'{self.server.scheme}://{self.headers.get("Host")}{path}'
            if len(sel) > limit:
                cur = {'filters': filters, 'last': list(keyf(chunk[-1])), 'page': page_no + 1, 'direction': 'next'}
                token = base64.urlsafe_b64encode(json.dumps(cur).encode()).decode()
                extra = f'&fields={urllib.parse.quote(fields)}' if fields else ''
                links.append(f'<{base}?limit={limit}{extra}&page_info={token}>; rel="next"')
            if page_no > 1:
                links.insert(0, f'<{base}?limit={limit}&page_info=cHJldg>; rel="previous"')
            headers = dict(limit_hdr)
            if links:
                headers['Link'] = ', '.join(links)
        return self.send(200, body, headers=headers, fault=fault)

    def shopify_select(self, q):
        st = self.st
        one = lambda k, d=None: q.get(k, [d])[0]
        status = one('status', 'open')
        umin, umax = one('updated_at_min'), one('updated_at_max')
        cmin, cmax = one('created_at_min'), one('created_at_max')
        since = one('since_id')
        fin = one('financial_status', 'any')
        ids = [int(x) for x in (one('ids', '') or '').split(',') if x]
        sel = []
        for o in st.orders.values():
            cancelled, closed = o.get('cancelled_at'), o.get('closed_at')
            if status == 'open' and (cancelled or closed):
                continue
            if status == 'closed' and not closed:
                continue
            if status == 'cancelled' and not cancelled:
                continue
            m, c = st.modified(o), st.created(o)
            if umin and m < parse_time(umin):
                continue
            if umax and m > parse_time(umax):
                continue
            if cmin and c < parse_time(cmin):
                continue
            if cmax and c > parse_time(cmax):
                continue
            if since and not o['id'] > int(since):
                continue
            if fin != 'any' and o.get('financial_status') != fin:
                continue
            if ids and o['id'] not in ids:
                continue
            sel.append(o)
        return sel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--kind', required=True, choices=['woocommerce', 'shopify'])
    ap.add_argument('--orders', help='a JSON file: a list of orders, or {"orders": [...]}')
    ap.add_argument('--portfile')
    ap.add_argument('--key', default='ck_test')
    ap.add_argument('--secret', default='cs_test')
    ap.add_argument('--token', default='shpat_test')
    ap.add_argument('--now', help='the store clock, standing still (default: real time, moving)')
    ap.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    a = ap.parse_args()
    now = parse_time(a.now) if a.now else int(time.time())
    store = Store(a.kind, now, a.key, a.secret, a.token, realtime=not a.now)
    if a.orders:
        with open(a.orders, encoding='utf-8') as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data.get('orders') or [data.get('order') or data.get('data')]
        store.add(data)
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.daemon_threads = True
    srv.store = store
    serve(srv, a.tls, a.portfile)


if __name__ == '__main__':
    main()
