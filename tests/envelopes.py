#!/usr/bin/env python3
"""envelopes.py N [KIND] [MARK_EVERY] - print N envelopes of generated orders, ascending by
modification time, with a mark line after every MARK_EVERY orders, as wsi-fetch would."""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from storesim import gen_orders, parse_time

n = int(sys.argv[1])
kind = sys.argv[2] if len(sys.argv) > 2 else 'woocommerce'
every = int(sys.argv[3]) if len(sys.argv) > 3 else 500
start = 1767225600  # 2026-01-01
orders = gen_orders(kind, n, start, n * 2, 42, skus=500, first_id=1000)
out = sys.stdout
for i, o in enumerate(orders):
    m = parse_time(o['updated_at'] if kind == 'shopify' else o['date_modified_gmt'])
    mod = __import__('datetime').datetime.fromtimestamp(m, __import__('datetime').timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    out.write('{"store":"shop","id":"%d","modified":"%s","source":"%s","order":%s}\n' % (
        o['id'], mod, kind, json.dumps(o, ensure_ascii=False, separators=(',', ':'))))
    if (i + 1) % every == 0 or i + 1 == n:
        nxt = m + 1
        ts = __import__('datetime').datetime.fromtimestamp(nxt, __import__('datetime').timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        out.write('{"mark":{"store":"shop","modified":"%s"}}\n' % ts)
