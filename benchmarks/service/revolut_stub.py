#!/usr/bin/env python3
"""A load-test stand-in for the Revolut Merchant API: GET /api/orders/{id} answers a completed payment
order for that id (met-police buying pack_5k at GBP 240.00), as Revolut would after ORDER_COMPLETED.
It checks the bearer key and the API version header like the real API and keeps connections alive.
A bare asyncio protocol rather than http.server, which at 5-10 ms a request measured itself, not the
service. GET requests only, no request bodies. Usage: revolut_stub.py PORT SECRET_KEY"""
import asyncio
import json
import sys

SECRET = sys.argv[2].encode()


def order(order_id):
    return {
        "id": order_id, "token": "tok-" + order_id, "type": "payment", "state": "completed",
        "created_at": "2026-11-24T10:00:00Z", "updated_at": "2026-11-24T10:00:05Z",
        "amount": 24000, "currency": "GBP", "outstanding_amount": 0,
        "metadata": {"organisation_id": "met-police", "package_id": "pack_5k"},
        "merchant_order_data": {"reference": "bench-" + order_id},
    }


def answer(head):
    lines = head.split(b"\r\n")
    method, path, _ = lines[0].split(b" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    prefix = b"/api/orders/"
    if headers.get(b"authorization") != b"Bearer " + SECRET:
        status, body = b"401 Unauthorized", {"code": "unauthorized"}
    elif method != b"GET" or not path.startswith(prefix) or b"revolut-api-version" not in headers:
        status, body = b"400 Bad Request", {"code": "bad_request"}
    else:
        status, body = b"200 OK", order(path[len(prefix):].decode())
    data = json.dumps(body).encode()
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(data)).encode() + b"\r\n\r\n" + data)


class Stub(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(answer(head))


async def main():
    server = await asyncio.get_running_loop().create_server(Stub, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
