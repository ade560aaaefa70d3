#!/usr/bin/env python3
"""sagesim.py - a Sage 300 Web API (OData over /Sage300WebApi/v1.0/-/COMPANY/...), for wsi's tests.

It follows the project's reference: Basic auth on every request; Content-Type:
application/json required even on GET (else 500); collections as {"@odata.context","value",
"@odata.nextLink"} pages of 100, $filter (eq ne gt ge lt le, and or not, parentheses, quoted
literals with '' inside, numbers with an optional m, true/false/null, contains/startswith/
substringof), $top, $skip, $select, $count; get by key with a 404 RecordNotFound; errors as
{"error":{"code","message":{"lang","value"}}} with Sage's statuses (400 InvalidParameters and
InvalidPayload, 401 Unauthorized, 404, 405 MethodNotAllowed, 409 for business rules).
POST OE/OEOrders creates the order, its shipment and invoice (when InvoiceWillBeProduced and
every line ships), and the prepayment when the header carries one, in one step applied whole
or not at all. POST AR/ARReceiptAndAdjustmentBatches takes prepayment receipts.

Controls for the tests under /_sim/: add or change customers and items, read what was created,
read the body each order was created from (/_sim/bodies, by order number),
count requests, delete orders (a restore), snapshot and roll back, and faults: a status, a
delay, a dropped connection, and "commit, then drop the connection".

  sagesim.py [--company FILE] [--portfile FILE] [--user U --password P]
"""
import argparse, base64, copy, json, os, re, socket, sys, threading, time
import urllib.parse
from decimal import Decimal, ROUND_HALF_UP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Faults, serve  # noqa: E402

RESOURCES = {  # (module, resource) -> (collection, key field)
    ('AR', 'ARCustomers'): ('customers', 'CustomerNumber'),
    ('IC', 'ICItems'): ('items', 'UnformattedItemNumber'),
    ('IC', 'ICLocations'): ('locations', 'LocationKey'),
    ('BK', 'BKBanks'): ('banks', 'BankCode'),
    ('AR', 'ARPaymentCodes'): ('paymentcodes', 'PaymentCodeKey'),
    ('OE', 'OEShipViaCodes'): ('shipvia', 'ShipViaCode'),
    ('OE', 'OEMiscellaneousCharges'): ('misccharges', 'MiscellaneousChargeCode'),
    ('OE', 'OEOrders'): ('orders', 'OrderUniquifier'),
    ('OE', 'OEInvoices'): ('invoices', 'InvoiceUniquifier'),
    ('AR', 'ARReceiptAndAdjustmentBatches'): ('receipts', 'BatchNumber'),
    ('TX', 'TXTaxGroups'): ('taxgroups', 'TaxGroup'),
    ('TX', 'TXTaxClasses'): ('taxclasses', 'TaxAuthority'),
    ('TX', 'TXTaxRates'): ('taxrates', 'TaxAuthority'),
}
MODEL = {'orders': 'Sage.CA.SBS.ERP.Sage300.OE.WebApi.Models.Order',
         'receipts': 'Sage.CA.SBS.ERP.Sage300.AR.WebApi.Models.ReceiptAndAdjustmentBatch'}
ORDER_FIELDS = set('''OrderNumber CustomerNumber CustomerGroupCode BillToName ShipToLocationCode ShipToName
ShipToAddressLine1 ShipToAddressLine2 ShipToAddressLine3 ShipToAddressLine4 ShipToCity ShipToStateProvince
ShipToZipPostalCode ShipToCountry ShipToContact ShipToEmail ShipToPhoneNumber PurchaseOrderNumber OrderReference
OrderDescription OrderComment OrderType OrderDate ExpectedShipDate DefaultLocationCode DefaultPriceListCode TermsCode
ShipViaCode TaxGroup OnHold OrderSourceCurrency InvoiceWillBeProduced PerformShipAll PostInvoice
AutoTaxCalculationStatus TaxClass1 TaxClass2 TaxClass3 TaxClass4 TaxClass5 TaxBase1 TaxBase2 TaxBase3 TaxBase4
TaxBase5 ExcludedTaxAmount1 ExcludedTaxAmount2 ExcludedTaxAmount3 ExcludedTaxAmount4 ExcludedTaxAmount5
OrderDetails OrderCommentsInstructions OrderOptionalFields BankCode ReceiptBatchNumber ReceiptType CheckNumber
CheckDate PaymentAppliedTo PaymentInCustomerCurrency PaymentType OrderSource'''.split())
DETAIL_FIELDS = set('''LineType Item Description Location QuantityOrdered QuantityShipped OrderUnitOfMeasure
OrderUnitPrice PriceOverride PricingUnitPrice MiscellaneousChargesCode ExtendedAmount TaxClass1 TaxClass2 TaxClass3
TaxClass4 TaxClass5 TaxIncluded1 TaxIncluded2 TaxIncluded3 TaxIncluded4 TaxIncluded5 TaxBase1 TaxBase2 TaxBase3
TaxBase4 TaxBase5 TaxAmount1 TaxAmount2 TaxAmount3 TaxAmount4 TaxAmount5 OrderDetailOptionalFields Comment'''.split())
CENT = Decimal('0.01')


class ODataError(Exception):
    def __init__(self, status, code, message):
        self.status, self.code, self.message = status, code, message


# ---- $filter ----
TOKEN = re.compile(r"\s*(?:(\()|(\))|(,)|'((?:[^']|'')*)'|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)|"
                   r"(-?\d+(?:\.\d+)?)[mMdD]?|([A-Za-z_][A-Za-z0-9_./]*))")


def tokenize(s):
    out, i = [], 0
    while i < len(s):
        if s[i].isspace():
            i += 1
            continue
        m = TOKEN.match(s, i)
        if not m or m.end() == i:
            raise ODataError(400, 'InvalidParameters', f"The query specified in the URI is not valid. Syntax error at position {i} in '{s}'.")
        i = m.end()
        if m.group(1): out.append(('(', None))
        elif m.group(2): out.append((')', None))
        elif m.group(3): out.append((',', None))
        elif m.group(4) is not None: out.append(('str', m.group(4).replace("''", "'")))
        elif m.group(5): out.append(('str', m.group(5)))  # a DateTimeOffset literal: compared as its text
        elif m.group(6): out.append(('num', Decimal(m.group(6))))
        else: out.append(('id', m.group(7)))
    return out


class Filter:
    """Recursive descent: or > and > not > comparison > primary."""
    def __init__(self, text):
        self.text, self.t, self.i = text, tokenize(text), 0

    def bad(self):
        raise ODataError(400, 'InvalidParameters', f"The query specified in the URI is not valid: $filter={self.text}")

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self):
        e = self.orx()
        if self.i != len(self.t):
            self.bad()
        return e

    def orx(self):
        e = self.andx()
        while self.peek() == ('id', 'or'):
            self.take()
            r = self.andx()
            e = (lambda a, b: lambda row: a(row) or b(row))(e, r)
        return e

    def andx(self):
        e = self.notx()
        while self.peek() == ('id', 'and'):
            self.take()
            r = self.notx()
            e = (lambda a, b: lambda row: a(row) and b(row))(e, r)
        return e

    def notx(self):
        if self.peek() == ('id', 'not'):
            self.take()
            e = self.notx()
            return lambda row: not e(row)
        return self.cmp()

    def cmp(self):
        left = self.operand()
        kind, op = self.peek()
        if kind == 'id' and op in ('eq', 'ne', 'gt', 'ge', 'lt', 'le'):
            self.take()
            right = self.operand()
            f = {'eq': lambda a, b: a == b, 'ne': lambda a, b: a != b, 'gt': lambda a, b: a > b,
                 'ge': lambda a, b: a >= b, 'lt': lambda a, b: a < b, 'le': lambda a, b: a <= b}[op]

            def test(row):
                a, b = norm(left(row)), norm(right(row))
                if a is None or b is None:
                    return f(a, b) if op in ('eq', 'ne') else False
                try:
                    return f(a, b)
                except TypeError:
                    return False
            return test
        return lambda row: bool(left(row))

    def operand(self):
        kind, v = self.take()
        if kind == '(':
            e = self.orx()
            if self.take()[0] != ')':
                self.bad()
            return e
        if kind == 'str':
            return lambda row: v
        if kind == 'num':
            return lambda row: v
        if kind == 'id':
            if v in ('true', 'false'):
                return lambda row: v == 'true'
            if v == 'null':
                return lambda row: None
            if v in ('datetime',) and self.peek()[0] == 'str':
                s = self.take()[1]
                return lambda row: s
            if self.peek()[0] == '(' and v in ('contains', 'startswith', 'endswith', 'substringof'):
                self.take()
                a = self.operand()
                if self.take()[0] != ',':
                    self.bad()
                b = self.operand()
                if self.take()[0] != ')':
                    self.bad()
                fn = {'contains': lambda x, y: y in x, 'startswith': lambda x, y: x.startswith(y),
                      'endswith': lambda x, y: x.endswith(y), 'substringof': lambda x, y: x in y}[v]
                return lambda row: fn(str(a(row) or ''), str(b(row) or ''))
            if v in ('eq', 'ne', 'gt', 'ge', 'lt', 'le', 'and', 'or'):
                self.bad()
            return lambda row, f=v: field(row, f)
        self.bad()


class Unknown(Exception):
    pass


def field(row, name):
    if name not in row:
        raise ODataError(400, 'InvalidParameters', f"Could not find a property named '{name}' on type '{row.get('@type', 'entity')}'.")
    return row[name]


def norm(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return Decimal(str(v))
    return v


def money(v):
    return Decimal(str(v)).quantize(CENT, ROUND_HALF_UP)


class Company:
    def __init__(self, data):
        self.name = data['company']
        self.options = data.get('options', {})
        self.tables = {k: list(data.get(k, [])) for k in ('customers', 'items', 'banks', 'paymentcodes', 'shipvia',
                                                          'locations', 'misccharges', 'taxgroups', 'taxclasses',
                                                          'taxrates')}
        self.tables.update(orders=[], invoices=[], receipts=[])
        self.seq = {'order': 0, 'ship': 0, 'inv': 0, 'batch': 100}
        self.snapshots = {}
        self.history = []  # (time, what): for diagnosing a fault run
        self.bodies = {}  # order number -> the body it was created from, as received

    def find(self, table, keyf, value):
        for r in self.tables[table]:
            if str(r.get(keyf)).upper() == str(value).upper():
                return r
        return None

    def item(self, number):
        for r in self.tables['items']:
            if number in (r['ItemNumber'], r['UnformattedItemNumber']):
                return r
        return None

    def state(self):
        return {k: self.tables[k] for k in ('orders', 'invoices', 'receipts')} | {'seq': self.seq, 'history': self.history}

    # -- tax as Sage calculates it (money.md section 1): per authority of the group, the rate of the
    # customer's class and the line's item class (TX/TXTaxRates); by detail each line's tax rounded,
    # by summary the authority's sum rounded once (the lines get it in proportion) --
    def calculate_tax(self, body, cust, group, lines):
        by_auth = [Decimal(0)] * 6
        summary = str(group.get('CalculationMethod', 'Detail')) in ('Summary', '1')
        for a in range(1, 6):
            auth = group.get(f'TaxAuthority{a}')
            if not auth:
                continue
            buyer = body.get(f'TaxClass{a}') or cust.get(f'TaxClassCode{a}') or 1
            row = next((r for r in self.tables['taxrates'] if str(r['TaxAuthority']).upper() == str(auth).upper()
                        and r.get('BuyerClass') == buyer), {})
            exact = []
            for line in lines:
                base = Decimal(str(line.get('ExtendedOrderAmount', line.get('ExtendedAmount', 0))))
                rate = Decimal(str(row.get(f"ItemRate{line.get(f'TaxClass{a}', 1)}", 0)))
                exact.append(base * rate / 100)
            amounts = [money(x) for x in exact]
            if summary and lines:
                whole = money(sum(exact))
                amounts[-1] += whole - sum(amounts)
            for line, t in zip(lines, amounts):
                line[f'TaxAmount{a}'] = float(t)
            by_auth[a] = sum(amounts, Decimal(0))
        return sum(by_auth, Decimal(0)), by_auth

    # -- POST OE/OEOrders: checked whole, then applied whole --
    def create_order(self, body):
        if not isinstance(body, dict):
            raise ODataError(400, 'InvalidPayload', 'The request payload is not valid.')
        for k in body:
            if k not in ORDER_FIELDS:
                raise ODataError(400, 'InvalidPayload', f"The property '{k}' does not exist on type '{MODEL['orders']}'.")
        details = body.get('OrderDetails') or []
        for d in details:
            for k in d:
                if k not in DETAIL_FIELDS:
                    raise ODataError(400, 'InvalidPayload', f"The property '{k}' does not exist on type '{MODEL['orders']}Detail'.")
        cn = body.get('CustomerNumber')
        cust = self.find('customers', 'CustomerNumber', cn) if cn else None
        if not cust:
            raise ODataError(409, 'FieldInvalid', f'Customer number {cn} does not exist.')
        if cust['Status'] != 'Active':
            raise ODataError(409, 'General', f'Customer {cn} is inactive.')
        if cust['OnHold'] == 'Yes':
            raise ODataError(409, 'General', f'Customer {cn} is on hold.')
        if not details:
            raise ODataError(409, 'General', 'You cannot create an invoice if you don\'t ship any items or you don\'t have a miscellaneous charges line.')
        group_code = body.get('TaxGroup') or cust.get('TaxGroup', '')
        group = self.find('taxgroups', 'TaxGroup', group_code) or {}
        if body.get('TaxGroup') and not group:
            raise ODataError(409, 'FieldInvalid', f"Tax group {group_code} does not exist.")
        lines, subtotal, tax, all_shipped = [], Decimal(0), Decimal(0), True
        by_auth = [Decimal(0)] * 6  # tax per authority index 1..5, as Sage totals it
        for n, d in enumerate(details):
            lt = d.get('LineType', 'Item')
            if lt == 'Item':
                it = self.item(d.get('Item', ''))
                if not it:
                    raise ODataError(409, 'FieldInvalid', f"Item number {d.get('Item')} does not exist. Quantity on backorder has been increased.")
                if not it['Status']:
                    raise ODataError(409, 'FieldInvalid', f"Item {it['ItemNumber']} is inactive.")
                if not it.get('Sellable', True):
                    raise ODataError(409, 'FieldInvalid', f"Item {it['ItemNumber']} is not a sellable item.")
                loc = d.get('Location', body.get('DefaultLocationCode', '1'))
                if not self.find('locations', 'LocationKey', loc):
                    raise ODataError(409, 'FieldInvalid', f'Location {loc} does not exist.')
                q = Decimal(str(d.get('QuantityOrdered', 0)))
                if q <= 0:
                    raise ODataError(409, 'FieldInvalid', 'Quantity ordered must be greater than zero.')
                shipped = Decimal(str(d.get('QuantityShipped', 0)))
                all_shipped &= shipped == q
                price = Decimal(str(d['OrderUnitPrice'])) if d.get('PriceOverride') and 'OrderUnitPrice' in d else Decimal(str(it['BasePrice']))
                ext = money(price * q)
                lines.append({'LineNumber': 32 * (n + 1), 'LineType': 'Item', 'Item': it['ItemNumber'], 'Location': loc,
                              'QuantityOrdered': float(q), 'QuantityShipped': float(shipped),
                              'OrderUnitPrice': float(price), 'ExtendedOrderAmount': float(ext),
                              'OrderUnitOfMeasure': it.get('StockingUnitOfMeasure', 'Ea.'),
                              **{f'TaxAmount{a}': d.get(f'TaxAmount{a}', 0) for a in range(1, 6)}})
            elif lt == 'Miscellaneous':
                code = d.get('MiscellaneousChargesCode')
                if not self.find('misccharges', 'MiscellaneousChargeCode', code or ''):
                    raise ODataError(409, 'FieldInvalid', f'Miscellaneous charge code {code} does not exist.')
                ext = money(d.get('ExtendedAmount', 0))
                if ext < 0:
                    raise ODataError(409, 'FieldInvalid', 'The extended amount cannot be negative.')
                lines.append({'LineNumber': 32 * (n + 1), 'LineType': 'Miscellaneous', 'MiscellaneousChargesCode': code,
                              'ExtendedAmount': float(ext), **{f'TaxAmount{a}': d.get(f'TaxAmount{a}', 0) for a in range(1, 6)}})
            else:
                raise ODataError(400, 'InvalidPayload', f"The value '{lt}' is not valid for LineType.")
            for a in range(1, 6):  # an item tax class must be one of the authority's (TX/TXTaxClasses)
                if f'TaxClass{a}' in d:
                    auth = group.get(f'TaxAuthority{a}') if group else None
                    if not auth or not any(str(c.get('TaxAuthority')).upper() == str(auth).upper() and c.get('ClassType') == 'Items'
                                           and c.get('Class') == d[f'TaxClass{a}'] for c in self.tables['taxclasses']):
                        raise ODataError(409, 'FieldInvalid', f"Tax class {d[f'TaxClass{a}']} is not an item class of tax authority {a} ({auth}).")
                    lines[-1][f'TaxClass{a}'] = d[f'TaxClass{a}']
            subtotal += ext
            if body.get('AutoTaxCalculationStatus') is False:
                for a in range(1, 6):
                    if money(d.get(f'TaxAmount{a}', 0)) and group and not group.get(f'TaxAuthority{a}'):
                        raise ODataError(409, 'FieldInvalid', f"Tax authority {a} is not in tax group {group_code}.")
                    tax += money(d.get(f'TaxAmount{a}', 0))
                    by_auth[a] += money(d.get(f'TaxAmount{a}', 0))
        # Sage drops manual tax on a partial shipment and calculates (money.md section 1, M3): the
        # option partial_drops_manual_tax does the same
        partial_auto = not all_shipped and self.options.get('partial_drops_manual_tax')
        if (body.get('AutoTaxCalculationStatus') is not False or partial_auto) and group:
            tax, by_auth = self.calculate_tax(body, cust, group, lines)
        # option tax_rounding: Sage rounds the tax its own way, a cent (or more) off the store's
        tax += money(self.options.get('tax_rounding', 0))
        by_auth[1] += money(self.options.get('tax_rounding', 0))
        # option tax_to_authority: Sage books all the tax on one authority (the total unchanged)
        if self.options.get('tax_to_authority'):
            by_auth = [Decimal(0)] * 6
            by_auth[int(self.options['tax_to_authority'])] = tax
        total = subtotal + tax
        if cust.get('CheckCreditLimit') == 'Yes' and not body.get('BankCode'):
            limit = Decimal(str(cust.get('CreditLimitCustomerCurrency', 0)))
            bal = Decimal(str(cust.get('BalanceDueInCustomerCurrency', 0)))
            if limit and bal + total > limit:
                raise ODataError(409, 'General', f'Customer {cn} is over the credit limit. Credit limit {limit:.2f}, balance {bal:.2f}, this order {total:.2f}.')
        ship_via = body.get('ShipViaCode')
        if ship_via and not self.find('shipvia', 'ShipViaCode', ship_via):
            raise ODataError(409, 'FieldInvalid', f'Ship-via code {ship_via} does not exist.')
        prepay = None
        if body.get('BankCode') or body.get('PaymentInCustomerCurrency'):
            bank = self.find('banks', 'BankCode', body.get('BankCode', ''))
            if not bank:
                raise ODataError(409, 'FieldInvalid', f"Bank {body.get('BankCode')} does not exist.")
            pc = self.find('paymentcodes', 'PaymentCodeKey', body.get('ReceiptType', ''))
            if not pc:
                raise ODataError(409, 'FieldInvalid', f"Payment code {body.get('ReceiptType')} does not exist.")
            amount = money(body.get('PaymentInCustomerCurrency', 0))
            if amount > total:
                raise ODataError(409, 'General', 'The prepayment amount cannot exceed the document total.')
            prepay = amount
        invoice = body.get('InvoiceWillBeProduced') and all_shipped and self.options.get('default_create_invoice', True)
        # -- everything checked: apply --
        s = self.seq
        s['order'] += 1
        uniq = 38440 + s['order']
        number = body.get('OrderNumber') or f"ORD{s['order']:012d}"
        order = {'OrderUniquifier': uniq, 'OrderNumber': number, 'CustomerNumber': cust['CustomerNumber'],
                 'CreatedAt': time.time(),
                 'OrderType': body.get('OrderType', 'Active'), 'OrderDate': (body.get('OrderDate') or '2026-01-01')[:10] + 'T00:00:00Z',
                 'PurchaseOrderNumber': body.get('PurchaseOrderNumber', ''), 'OrderReference': body.get('OrderReference', ''),
                 'OrderDescription': body.get('OrderDescription', ''), 'ShipViaCode': ship_via or '',
                 'ShipToName': body.get('ShipToName', ''), 'ShipToCity': body.get('ShipToCity', ''),
                 'InvoiceWillBeProduced': bool(body.get('InvoiceWillBeProduced')),
                 'OrderTotal': float(total), 'TotalTaxAmount': float(tax),
                 'LastShipmentNumber': '', 'NumberOfShipments': 0, 'LastInvoiceNumber': '', 'NumberOfInvoices': 0,
                 'OrderTotalPayment': float(prepay or 0), 'ReceiptBatchNumber': 0,
                 'OrderCompleted': 'IncompleteNotIncluded', 'OrderDetails': lines}
        if invoice:
            s['ship'] += 1
            s['inv'] += 1
            order.update(LastShipmentNumber=f"SH{s['ship']:013d}", NumberOfShipments=1,
                         LastInvoiceNumber=f"IN{s['inv']:013d}", NumberOfInvoices=1, OrderCompleted='CompleteNotIncluded')
            self.tables['invoices'].append({'InvoiceUniquifier': 90000 + s['inv'], 'InvoiceNumber': order['LastInvoiceNumber'],
                                            'OrderNumber': number, 'ShipmentNumber': order['LastShipmentNumber'],
                                            'CustomerNumber': cust['CustomerNumber'], 'InvoiceTotalWithTax': float(total),
                                            'InvoicePaymntInCustomerCurrency': float(prepay or 0),
                                            'InvoiceAmountDue': float(total - (prepay or 0)),
                                            'AutoTaxCalculationStatus': body.get('AutoTaxCalculationStatus') is not False,
                                            'TotalTaxAmount': float(tax),
                                            **{f'TotalTaxAmount{a}': float(by_auth[a]) for a in range(1, 6)}})
        if prepay is not None:
            s['batch'] += 1
            order['ReceiptBatchNumber'] = s['batch']
            self.tables['receipts'].append({'BatchRecordType': 'CA', 'BatchNumber': s['batch'], 'Description': body.get('OrderReference', ''),
                                            'BankCode': body['BankCode'], 'Source': 'OE prepayment', 'OrderNumber': number,
                                            'ReceiptsAdjustments': [{'CustomerNumber': cust['CustomerNumber'],
                                                                     'PaymentCode': body.get('ReceiptType'),
                                                                     'CheckReceiptNumber': body.get('CheckNumber', ''),
                                                                     'EntryReference': body.get('OrderReference', ''),
                                                                     'ReceiptTransactionType': 'Prepayment',
                                                                     'CustomerReceiptAmount': float(prepay)}]})
        if not prepay:
            cust['BalanceDueInCustomerCurrency'] = float(Decimal(str(cust.get('BalanceDueInCustomerCurrency', 0))) + total)
        self.tables['orders'].append(order)
        self.bodies[number] = body
        self.history.append((time.time(), f"created {number} for {order['OrderReference']}"))
        return order

    def create_receipt(self, body):
        if not isinstance(body, dict) or body.get('BatchRecordType') != 'CA':
            raise ODataError(400, 'InvalidPayload', 'BatchRecordType must be CA (receipts) or AD (adjustments).')
        entries = body.get('ReceiptsAdjustments') or []
        if len(entries) != 1:
            raise ODataError(409, 'General', 'A receipt batch needs its entries.')
        bank = self.find('banks', 'BankCode', body.get('BankCode', ''))
        if not bank:
            raise ODataError(409, 'FieldInvalid', f"Bank {body.get('BankCode')} does not exist.")
        e = entries[0]
        if not self.find('customers', 'CustomerNumber', e.get('CustomerNumber', '')):
            raise ODataError(409, 'FieldInvalid', f"Customer number {e.get('CustomerNumber')} does not exist.")
        if e.get('PaymentCode') and not self.find('paymentcodes', 'PaymentCodeKey', e['PaymentCode']):
            raise ODataError(409, 'FieldInvalid', f"Payment code {e['PaymentCode']} does not exist.")
        amount = money(e.get('CustomerReceiptAmount', 0))
        if amount <= 0:
            raise ODataError(409, 'FieldInvalid', 'The receipt amount must be greater than zero.')
        self.seq['batch'] += 1
        rec = dict(body, BatchNumber=self.seq['batch'], BatchStatus=body.get('BatchStatus', 'Open'))
        rec['ReceiptsAdjustments'] = [dict(e, EntryNumber=1, CustomerReceiptAmount=float(amount))]
        self.tables['receipts'].append(rec)
        return rec


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    @property
    def srv(self):
        return self.server

    def send(self, status, obj, headers=None):
        data = json.dumps(obj, ensure_ascii=False).encode() if not isinstance(obj, bytes) else obj
        self.send_response_only(status)
        # option clock_offset: Sage's server clock, seconds off ours (IIS always sends Date)
        self.send_header('Date', self.date_time_string(time.time() + float(self.srv.company.options.get('clock_offset', 0))))
        self.send_header('Content-Type', 'application/json; odata.metadata=minimal; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message):
        return self.send(status, {'error': {'code': code, 'message': {'lang': 'en-US', 'value': message}}})

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self.handle_api('GET')

    def do_POST(self):
        self.handle_api('POST')

    def do_PUT(self):
        self.handle_api('PUT')

    def do_PATCH(self):
        self.handle_api('PATCH')

    def do_DELETE(self):
        self.handle_api('DELETE')

    def take_fault(self, method, path):
        return self.srv.faults.take(method, path)

    def handle_api(self, method):
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n) if n else b''
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith('/_sim/'):
            return self.control(method, url.path, raw)
        co = self.srv.company
        with self.srv.lock:
            st = self.srv.stats
            st['requests'] += 1
            st[method] = st.get(method, 0) + 1
            res = url.path.rstrip('/').split('/')[-1].split('(')[0]
            st['by_resource'][f'{method} {res}'] = st['by_resource'].get(f'{method} {res}', 0) + 1
        if self.srv.latency:
            time.sleep(self.srv.latency)
        fault = self.take_fault(method, self.path)
        if fault:
            if fault.get('delay'):
                time.sleep(float(fault['delay']))
            if fault.get('drop'):
                return self.drop()
            if fault.get('status') and 'body' in fault:
                # any answer as given: a 2xx without the number, a redirect with its Location
                hdrs = {'Location': fault['location']} if fault.get('location') else None
                return self.send(int(fault['status']), fault['body'], hdrs)
            if fault.get('status') and not fault.get('commit_then_drop'):
                code = fault.get('code', {401: 'Unauthorized', 429: 'TooManyRequests', 503: 'InternalServerError'}.get(fault['status'], 'InternalServerError'))
                headers = {'Retry-After': str(fault.get('retry_after', 1))} if fault['status'] in (429, 503) else None
                self.send(int(fault['status']), {'error': {'code': code, 'message': {'lang': 'en-US', 'value': fault.get('message', 'The service is unavailable.')}}}, headers)
                return
        auth = self.headers.get('Authorization', '')
        try:
            user, _, pw = base64.b64decode(auth[6:]).decode().partition(':') if auth.startswith('Basic ') else ('', '', '')
        except Exception:
            user, pw = '', ''
        if (user.upper(), pw) != (self.srv.user.upper(), self.srv.password):
            return self.error(401, 'Unauthorized', 'Invalid user ID or password.')
        if not (self.headers.get('Content-Type') or '').startswith('application/json'):
            return self.error(500, 'InternalServerError', 'An error has occurred.')
        m = re.match(r'^/Sage300WebApi/v1\.0/-/([^/]+)/([A-Z]{2})/([A-Za-z]+)(?:\((.*)\))?$', url.path)
        if not m:
            return self.error(404, 'ResourceNotFound', f'No resource was found at {url.path}.')
        comp, module, resource, key = m.groups()
        if comp.upper() != co.name.upper():
            return self.error(401, 'DBLinkError', f'Company {comp} cannot be opened.')
        if (module, resource) not in RESOURCES:
            return self.error(404, 'ResourceNotFound', f'The resource {module}/{resource} was not found.')
        table, keyf = RESOURCES[(module, resource)]
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            with self.srv.lock:
                if method == 'GET':
                    if key is not None:
                        k = urllib.parse.unquote(key)
                        k = k[1:-1].replace("''", "'") if k.startswith("'") and k.endswith("'") else k
                        row = co.find(table, keyf, k)
                        if row is None:
                            raise ODataError(404, 'RecordNotFound', 'A Record cannot be found for the specified entity key')
                        return self.send(200, row)
                    return self.send(200, self.collection(co, module, resource, table, q, url))
                if method == 'POST':
                    if key is not None:
                        raise ODataError(400, 'InvalidAction', 'A POST with a key is only for $template and $process.')
                    try:
                        body = json.loads(raw or b'null')
                    except ValueError:
                        raise ODataError(400, 'InvalidPayload', 'The request payload is not valid JSON.')
                    if table == 'orders':
                        made = co.create_order(body)
                    elif table == 'receipts':
                        made = co.create_receipt(body)
                    else:
                        raise ODataError(405, 'MethodNotAllowed', 'The requested resource does not support this method.')
                    if fault and fault.get('commit_then_drop'):
                        return self.drop()  # Sage saved it; the client never hears
                    out = dict(made)
                    out['@odata.context'] = f'{self.base()}/{module}/$metadata#{resource}/$entity'
                    return self.send(201, out)
                raise ODataError(405, 'MethodNotAllowed', 'The requested resource does not support http method \'%s\'.' % method)
        except ODataError as e:
            return self.error(e.status, e.code, e.message)

    def base(self):
        return f'{self.srv.scheme}://{self.headers.get("Host")}/Sage300WebApi/v1.0/-/{self.srv.company.name}'

    def collection(self, co, module, resource, table, q, url):
        for k, v in q.items():
            if k.startswith('$') and len(v) > 1:
                raise ODataError(400, 'InvalidParameters', f'The query parameter {k} is specified more than once.')
            if k.startswith('$') and k not in ('$filter', '$top', '$skip', '$select', '$count', '$orderby'):
                raise ODataError(400, 'InvalidParameters', f'The query parameter {k} is not supported.')
        rows = co.tables[table]
        if '$filter' in q:
            f = Filter(q['$filter'][0]).parse()
            sel = []
            for r in rows:
                if f(r):
                    sel.append(r)
            rows = sel
        try:
            skip = int(q.get('$skip', ['0'])[0])
            top = int(q['$top'][0]) if '$top' in q else None
        except ValueError:
            raise ODataError(400, 'InvalidParameters', 'The value of $top or $skip is not a number.')
        count = len(rows)
        page = self.srv.page_size
        limit = page if top is None else min(top, page)
        chunk = rows[skip:skip + limit]
        if '$select' in q:
            fields = [s.strip() for s in q['$select'][0].split(',')]
            for fl in fields:
                if rows and fl not in rows[0]:
                    raise ODataError(400, 'InvalidParameters', f"Could not find a property named '{fl}'.")
            chunk = [{k: r[k] for k in fields if k in r} for r in chunk]
        out = {'@odata.context': f'{self.base()}/{module}/$metadata#{resource}', 'value': chunk}
        if q.get('$count', ['false'])[0] == 'true':
            out['@odata.count'] = count
        remaining = (count - skip - len(chunk)) if top is None else min(top - len(chunk), count - skip - len(chunk))
        if remaining > 0:
            nq = {k: v[0] for k, v in q.items() if k not in ('$skip', '$top')}
            nq['$skip'] = str(skip + len(chunk))
            if top is not None:
                nq['$top'] = str(top - len(chunk))
            out['@odata.nextLink'] = f'{self.base()}/{module}/{resource}?' + urllib.parse.urlencode(nq, quote_via=urllib.parse.quote)
        return out

    def control(self, method, path, raw):
        srv, co = self.srv, self.srv.company
        body = json.loads(raw or b'null')
        with srv.lock:
            if path == '/_sim/state':
                return self.send(200, co.state())
            if path == '/_sim/bodies':
                return self.send(200, co.bodies)
            if path == '/_sim/stats':
                return self.send(200, srv.stats)
            if path == '/_sim/faults':  # how many queued faults have not fired yet
                return self.send(200, {'queued': len(srv.faults.items)})
            if path == '/_sim/reset_stats':
                srv.stats = {'requests': 0, 'by_resource': {}}
            elif path in ('/_sim/customers', '/_sim/items'):
                table, keyf = ('customers', 'CustomerNumber') if path.endswith('customers') else ('items', 'UnformattedItemNumber')
                for r in body:
                    old = co.find(table, keyf, r[keyf])
                    if old is not None:
                        old.update(r)
                    else:
                        co.tables[table].append(r)
            elif path == '/_sim/restore':
                # a restore of Sage: keep only the first `keep` orders (and their invoices and receipts)
                keep = body.get('keep', 0)
                gone = {o['OrderNumber'] for o in co.tables['orders'][keep:]}
                co.tables['orders'] = co.tables['orders'][:keep]
                co.tables['invoices'] = [i for i in co.tables['invoices'] if i['OrderNumber'] not in gone]
                co.tables['receipts'] = [r for r in co.tables['receipts'] if r.get('OrderNumber') not in gone and
                                         r.get('Description') not in {g for g in body.get('references', [])}]
                if 'keep_receipts' in body:
                    co.tables['receipts'] = co.tables['receipts'][:body['keep_receipts']]
            elif path == '/_sim/snapshot':
                co.snapshots[body.get('name', 'default')] = copy.deepcopy((co.tables, co.seq))
                co.history.append((time.time(), f"snapshot {body.get('name', 'default')}"))
            elif path == '/_sim/rollback':
                tables, seq = copy.deepcopy(co.snapshots[body.get('name', 'default')])
                co.tables, co.seq = tables, seq
                co.history.append((time.time(), f"rollback to {body.get('name', 'default')}"))
            elif path == '/_sim/fault':
                if body.get('clear'):
                    srv.faults.clear()
                else:
                    srv.faults.add(body)
            elif path == '/_sim/latency':
                srv.latency = float(body.get('seconds', 0))
            elif path == '/_sim/options':
                co.options.update(body)
            else:
                return self.send(404, {'error': 'unknown control'})
        return self.send(200, {'ok': True})


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--company', default=os.path.join(here, 'fixtures', 'sage-company.json'))
    ap.add_argument('--portfile')
    ap.add_argument('--user', default='WEBAPI')
    ap.add_argument('--password', default='sage-test-pw')
    ap.add_argument('--page-size', type=int, default=100)
    ap.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'))
    a = ap.parse_args()
    with open(a.company, encoding='utf-8') as f:
        data = json.load(f)
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.daemon_threads = True
    srv.company = Company(data)
    srv.lock = threading.RLock()
    srv.stats = {'requests': 0, 'by_resource': {}}
    srv.faults = Faults()
    srv.latency = 0.0
    srv.page_size = a.page_size
    srv.user, srv.password = a.user, a.password
    serve(srv, a.tls, a.portfile)


if __name__ == '__main__':
    main()
