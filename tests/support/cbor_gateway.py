"""Test support: lets the real AWS SDK for Rust talk to moto on loopback.

aws-sdk-cloudwatch speaks only Smithy RPC v2 CBOR; moto's CloudWatch speaks the JSON protocol.
This gateway sits in front of a moto server and translates CloudWatch requests from CBOR to
moto's JSON protocol and the answers back, converting timestamps and numbers by walking
botocore's own CloudWatch service model (shipped with moto), so moto stays the emulator and the
SDK's real CBOR serialisation and parsing are exercised. Everything else (Service Quotas'
awsJson1_1) is proxied to moto unchanged, except operations a test stubs.

Control endpoints, for the tests:
  GET  /__tminus/stats   request counts per operation, GetMetricData query counts, stub bodies
  POST /__tminus/reset   clear stats, faults and stubs
  POST /__tminus/fault   {"mode": "throttle"|"error500"|"delay"|"paginate"|"none", "op": "GetMetricData",
                          "count": 3, "seconds": 2}
  POST /__tminus/stub    {"target": "ServiceQuotasV20190624.GetAWSDefaultServiceQuota",
                          "match": {"ServiceCode": "lambda"}, "status": 200, "body": {...}}

Usage: cbor_gateway.py LISTEN_PORT MOTO_URL
"""

import base64
import datetime
import http.client
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import cbor2

CW_TARGET = "GraniteServiceVersion20100801"
PAGE_TOKEN = "tminus-page-2"
MODEL = botocore.session.get_session().get_service_model("cloudwatch")

LOCK = threading.Lock()
STATE = {}


def reset():
    with LOCK:
        STATE.clear()
        STATE.update(
            {
                "ops": {},
                "get_metric_data_queries": 0,
                "get_metric_data_query_counts": [],
                "get_metric_data_query_ids": [],
                "fault": None,
                "stubs": [],
                "stubbed_requests": [],
            }
        )


reset()


def to_json_value(v):
    """A decoded CBOR value as moto's JSON protocol wants it."""
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.timestamp()
    if isinstance(v, cbor2.CBORTag) and v.tag == 1:
        return float(v.value)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    if isinstance(v, dict):
        return {k: to_json_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_json_value(x) for x in v]
    return v


def to_cbor_value(v, shape):
    """A JSON answer's value as RPC v2 CBOR wants it, typed by the botocore model."""
    if v is None or shape is None:
        return v
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, member in shape.members.items():
            if name in v and v[name] is not None:
                out[name] = to_cbor_value(v[name], member)
        return out
    if t == "list":
        return [to_cbor_value(x, shape.member) for x in v]
    if t == "map":
        return {k: to_cbor_value(x, shape.value) for k, x in v.items()}
    if t == "timestamp":
        if isinstance(v, str):
            try:
                secs = float(v)
            except ValueError:
                secs = datetime.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
        else:
            secs = float(v)
        return cbor2.CBORTag(1, secs)
    if t in ("double", "float"):
        return float(v)
    if t in ("integer", "long"):
        return int(v)
    if t == "blob":
        return base64.b64decode(v) if isinstance(v, str) else v
    if t == "boolean":
        return bool(v)
    return v


def count(op, queries=None):
    with LOCK:
        STATE["ops"][op] = STATE["ops"].get(op, 0) + 1
        if queries is not None:
            STATE["get_metric_data_queries"] += len(queries)
            STATE["get_metric_data_query_counts"].append(len(queries))
            STATE["get_metric_data_query_ids"].append([q.get("Id") for q in queries])


def take_fault(op):
    """The fault to apply to this request, if any (counted faults run out)."""
    with LOCK:
        f = STATE["fault"]
        if not f or f.get("mode") in (None, "none"):
            return None
        if f.get("op") and f["op"] != op:
            return None
        if "count" in f:
            if f["count"] <= 0:
                return None
            f["count"] -= 1
        return dict(f)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    moto = None  # (host, port)

    def log_message(self, fmt, *args):  # quiet: tests read stats, not logs
        pass

    def reply(self, status, body, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status, obj):
        self.reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json"})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/__tminus/stats":
            with LOCK:
                snapshot = {k: v for k, v in STATE.items() if k not in ("stubs",)}
                snapshot = json.loads(json.dumps(snapshot))
            return self.reply_json(200, snapshot)
        if self.path == "/__tminus/ping":
            return self.reply_json(200, {"ok": True})
        return self.proxy(b"")

    def do_POST(self):
        body = self.body()
        if self.path.startswith("/__tminus/"):
            return self.control(self.path[len("/__tminus/"):], body)
        if self.path.startswith("/service/"):
            return self.cbor(body)
        target = self.headers.get("X-Amz-Target", "")
        op = target.split(".")[-1] if target else "?"
        fault = take_fault(op)
        if fault:
            return self.json_fault(op, fault)
        stub = self.find_stub(target, body)
        if stub is not None:
            count(op)
            with LOCK:
                STATE["stubbed_requests"].append({"target": target, "body": json.loads(body or b"{}")})
            return self.reply(
                stub.get("status", 200),
                json.dumps(stub.get("body", {})).encode(),
                {"Content-Type": "application/x-amz-json-1.1"},
            )
        count(op)
        return self.proxy(body)

    def control(self, what, body):
        req = json.loads(body or b"{}")
        if what == "reset":
            reset()
        elif what == "fault":
            with LOCK:
                STATE["fault"] = req
        elif what == "stub":
            with LOCK:
                STATE["stubs"].insert(0, req)
        else:
            return self.reply_json(404, {"error": what})
        return self.reply_json(200, {"ok": True})

    def find_stub(self, target, body):
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        with LOCK:
            for s in STATE["stubs"]:
                if s.get("target") != target:
                    continue
                if all(req.get(k) == v for k, v in (s.get("match") or {}).items()):
                    return s
        return None

    def proxy(self, body):
        conn = http.client.HTTPConnection(*self.moto, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out_headers = {
            k: v
            for k, v in resp.getheaders()
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date")
        }
        conn.close()
        return self.reply(resp.status, data, out_headers)

    def json_fault(self, op, fault):
        count(op)
        if fault["mode"] == "delay":
            time.sleep(float(fault.get("seconds", 1)))
            return self.proxy(b"")
        if fault["mode"] == "throttle":
            return self.reply(
                400,
                json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode(),
                {"Content-Type": "application/x-amz-json-1.1"},
            )
        return self.reply(
            500,
            json.dumps({"__type": "ServiceException", "message": "injected failure"}).encode(),
            {"Content-Type": "application/x-amz-json-1.1"},
        )

    def cbor_error(self, status, code, message):
        body = cbor2.dumps({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message})
        self.reply(
            status,
            body,
            {
                "Content-Type": "application/cbor",
                "smithy-protocol": "rpc-v2-cbor",
                # CloudWatch is awsQueryCompatible: the SDK also reads the code from here.
                "x-amzn-query-error": f"{code};Sender",
            },
        )

    def cbor(self, body):
        parts = self.path.split("/")
        # /service/GraniteServiceVersion20100801/operation/GetMetricData
        if len(parts) < 5 or parts[2] != CW_TARGET:
            return self.cbor_error(404, "UnknownOperationException", self.path)
        op = parts[4]
        request = cbor2.loads(body) if body else {}
        queries = (request.get("MetricDataQueries") or []) if op == "GetMetricData" else None
        count(op, queries)
        if op == "GetMetricData" and request.get("NextToken") == PAGE_TOKEN:
            with LOCK:
                rest = STATE.pop("second_page", {"MetricDataResults": []})
            out = to_cbor_value(rest, MODEL.operation_model(op).output_shape)
            return self.reply(
                200, cbor2.dumps(out), {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
            )
        fault = take_fault(op)
        if fault:
            if fault["mode"] == "throttle":
                return self.cbor_error(400, "ThrottlingException", "Rate exceeded")
            if fault["mode"] == "error500":
                return self.cbor_error(500, "InternalServiceError", "injected failure")
            if fault["mode"] == "delay":
                time.sleep(float(fault.get("seconds", 1)))
        payload = json.dumps(to_json_value(request)).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"{CW_TARGET}.{op}",
        }
        if self.headers.get("Authorization"):
            headers["Authorization"] = self.headers["Authorization"]
        conn = http.client.HTTPConnection(*self.moto, timeout=30)
        conn.request("POST", "/", body=payload, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        try:
            answer = json.loads(data) if data else {}
        except ValueError:
            return self.cbor_error(500, "InternalServiceError", data[:200].decode(errors="replace"))
        if resp.status >= 300:
            code = str(answer.get("__type") or answer.get("code") or "InternalServiceError")
            code = code.split("#")[-1]
            message = answer.get("message") or answer.get("Message") or ""
            return self.cbor_error(resp.status, code, message)
        try:
            shape = MODEL.operation_model(op).output_shape
        except Exception:  # an operation botocore does not know: pass it through untyped
            shape = None
        if fault and fault["mode"] == "paginate" and op == "GetMetricData":
            # Answer in two pages: the first half of every series now, the rest behind a
            # NextToken, as CloudWatch does for large results.
            first, second = [], []
            for r in answer.get("MetricDataResults", []):
                n = len(r.get("Timestamps", [])) // 2
                first.append(dict(r, Timestamps=r.get("Timestamps", [])[:n], Values=r.get("Values", [])[:n]))
                second.append(dict(r, Timestamps=r.get("Timestamps", [])[n:], Values=r.get("Values", [])[n:]))
            with LOCK:
                STATE["second_page"] = {"MetricDataResults": second}
            answer = dict(answer, MetricDataResults=first, NextToken=PAGE_TOKEN)
        out = to_cbor_value(answer, shape) if shape is not None else answer
        self.reply(
            200,
            cbor2.dumps(out or {}),
            {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"},
        )


def main():
    port = int(sys.argv[1])
    moto = urllib.parse.urlparse(sys.argv[2])
    Handler.moto = (moto.hostname, moto.port)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
