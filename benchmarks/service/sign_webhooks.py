#!/usr/bin/env python3
"""Writes COUNT signed ORDER_COMPLETED deliveries, one per line: timestamp TAB signature TAB body, each
for a new order id (PREFIX-n), signed as Revolut does: v1=hex(HMAC-SHA256(secret, "v1.{ts}.{body}")).
The timestamp is now, so the file must be used within the service's 5-minute tolerance.
Usage: sign_webhooks.py SECRET COUNT PREFIX > deliveries.tsv"""
import hashlib
import hmac
import sys
import time

secret, count, prefix = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3]
timestamp = str(int(time.time() * 1000))
out = sys.stdout
for n in range(count):
    body = '{"event":"ORDER_COMPLETED","order_id":"%s-%d","merchant_order_ext_ref":"bench"}' % (prefix, n)
    mac = hmac.new(secret, ("v1." + timestamp + "." + body).encode(), hashlib.sha256).hexdigest()
    out.write("%s\tv1=%s\t%s\n" % (timestamp, mac, body))
