"""Test support: lets the real AWS SDK for Rust talk to moto on loopback.

aws-sdk-cloudwatch speaks only Smithy RPC v2 CBOR; moto's CloudWatch speaks the JSON protocol.
This gateway sits in front of a moto server and translates CloudWatch requests from CBOR to
moto's JSON protocol and the answers back, converting timestamps and numbers by walking
botocore's own CloudWatch service model (shipped with moto), so moto stays the emulator and the
SDK's real CBOR serialisation and parsing are exercised. Everything else (Service Quotas'
awsJson1_1) is proxied to moto unchanged, except operations a test stubs.

moto is not CloudWatch where a war room goes wrong (late data, partial buckets, sparse counters,
PartialData pages, alarm filters), so the gateway can also answer from scripted data: a CloudWatch
realism layer. Timestamps in control bodies are epoch seconds.

Control endpoints, for the tests (JSON bodies; 400 on a malformed one, 413 over 16 MiB):
  GET  /__tminus/ping    {"ok": true} once the gateway listens
  GET  /__tminus/stats   {"ops": {op: calls}, "get_metric_data_queries": total,
                          "get_metric_data_query_counts": [per call], "get_metric_data_query_ids":
                          [[ids] per call], "insights_queries_per_call": [SELECT queries per call],
                          "scripted_answers": GetMetricData results answered from the scripted
                          store, "huge_bytes_sent": [body bytes sent per "huge" answer],
                          "fault": current fault or null, "stubbed_requests": [...]}
  POST /__tminus/reset   clears stats, faults, stubs, scripted datapoints and scripted alarms
  POST /__tminus/fault   {"mode": M, "op": "GetMetricData", "count": 3, ...}: the next `count`
                         calls of `op` (every call and op when left out) get, by mode:
                           "throttle"  400 ThrottlingException
                           "error500"  500 InternalServiceError
                           "delay"     answered after "seconds" (default 1)
                           "huge"      a 200 answer whose body is "bytes" long (default
                                       200 MB, at most 1 GB) of zeros, streamed in 1 MiB
                                       chunks (Transfer-Encoding: chunked), or with its
                                       Content-Length declared up front if "declare" is true;
                                       the body stops early if the client hangs up
                           "flood"     a 200 answer of "values" (default 5,000,000, at most
                                       16,000,000) empty maps: GetMetricData's
                                       MetricDataResults in CBOR (one byte each), else a JSON
                                       list; small in bytes, huge once parsed
                           "paginate"  GetMetricData: each series' first half, then the rest
                                       behind a NextToken, both pages StatusCode Complete
                           "partial"   as paginate, but the first page says StatusCode
                                       PartialData with a per-result Messages entry
                           "messages"  GetMetricData: top-level Messages [{"Code": "code",
                                       "Value": "value"}] (defaults: MaxMetricsExceeded,
                                       "Maximum number of allowed metrics exceeded")
                           "none"      no fault
  POST /__tminus/stub    {"target": "ServiceQuotasV20190624.GetAWSDefaultServiceQuota",
                          "match": {"ServiceCode": "lambda"}, "status": 200, "body": {...}}
  POST /__tminus/datapoints
                         {"namespace": "AWS/ApplicationELB", "metric": "RequestCount",
                          "dimensions": {"LoadBalancer": "app/web/1"},
                          "points": [{"t": 1790000000.0, "v": 42.0, "visible_at": 1790000090.0}]}
                         appends raw observations (as PutMetricData values at time t) to the
                         scripted store, at most 200,000 points in all. A point is visible once
                         the wall clock reaches visible_at (late publishing); without visible_at,
                         once it reaches t. Answers {"ok": true, "points": points stored}.
  POST /__tminus/alarms  {"metric_alarms": [{...}], "composite_alarms": [{...}]}, each alarm in
                         the DescribeAlarms shape (AlarmName required; StateValue, StateReason,
                         StateUpdatedTimestamp, StateTransitionedTimestamp, AlarmRule, ...;
                         AlarmArn defaults to a us-east-1 ARN). Replaces the scripted alarms;
                         two empty lists hand DescribeAlarms back to moto.

GetMetricData with scripted data: a MetricStat query whose namespace, metric name and exact
dimension set match scripted points is answered from the store, aggregated as CloudWatch does:
StartTime rounded down to the minute (not to the period), buckets [start + k*Period,
start + (k+1)*Period) while the bucket starts before EndTime, one datapoint per bucket holding a
visible raw point (none otherwise: sparse), an open bucket holding what has arrived so far.
Stats: Sum, Average, Minimum, Maximum, SampleCount, pNN(.N) (nearest rank). Other queries go to
moto; results come back in query order. A Metrics Insights query (Expression starting with
SELECT) is answered empty and Complete; two in one call are refused as CloudWatch refuses them.

DescribeAlarms with scripted alarms: honours AlarmNamePrefix, AlarmNames (not both), AlarmTypes
(MetricAlarm only by default), StateValue, MaxRecords (default 50) and NextToken; ignores
ActionPrefix, ChildrenOfAlarmName and ParentsOfAlarmName.

Usage: cbor_gateway.py LISTEN_PORT MOTO_URL
"""

import base64
import datetime
import http.client
import json
import math
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import cbor2

CW_TARGET = "GraniteServiceVersion20100801"
PAGE_TOKEN = "tminus-page-2"
ALARMS_TOKEN = "tminus-alarms-"
MODEL = botocore.session.get_session().get_service_model("cloudwatch")
CBOR_HEADERS = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}

# Bounds, so a runaway test fails loudly instead of eating the machine.
MAX_BODY = 16 * 1024 * 1024
MAX_POINTS = 200_000
MAX_ALARMS = 10_000

LOCK = threading.Lock()
# DynamoDB's item writes, serialised (see `Handler.proxy`).
DYNAMO_WRITE_LOCK = threading.Lock()
DYNAMO_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
STATE = {}
# Scripted data and pending pages: not part of the stats answer.
PRIVATE = ("stubs", "series", "alarms", "next_page")


def reset():
    with LOCK:
        STATE.clear()
        STATE.update(
            {
                "ops": {},
                "get_metric_data_queries": 0,
                "get_metric_data_query_counts": [],
                "get_metric_data_query_ids": [],
                "insights_queries_per_call": [],
                "scripted_answers": 0,
                "huge_bytes_sent": [],
                "fault": None,
                "stubs": [],
                "stubbed_requests": [],
                # (namespace, metric, frozenset of dimension items) -> [(t, v, visible_at)]
                "series": {},
                "alarms": {"MetricAlarms": [], "CompositeAlarms": []},
                "next_page": None,
            }
        )


reset()


class Rejected(Exception):
    """A request CloudWatch (or moto) refuses: answered as a CBOR error."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class BadControl(Exception):
    """A malformed control request: answered 400 with the reason."""


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


def output_shape(op):
    try:
        return MODEL.operation_model(op).output_shape
    except Exception:  # an operation botocore does not know: pass it through untyped
        return None


def is_insights(query):
    """A Metrics Insights query: an SQL-like Expression (CloudWatch reads SELECT in any case)."""
    return (query.get("Expression") or "").lstrip().upper().startswith("SELECT")


def count(op, queries=None):
    with LOCK:
        STATE["ops"][op] = STATE["ops"].get(op, 0) + 1
        if queries is not None:
            STATE["get_metric_data_queries"] += len(queries)
            STATE["get_metric_data_query_counts"].append(len(queries))
            STATE["get_metric_data_query_ids"].append([q.get("Id") for q in queries])
            STATE["insights_queries_per_call"].append(sum(1 for q in queries if is_insights(q)))


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


# --- Scripted datapoints -------------------------------------------------------------------


def series_key(namespace, metric, dimensions):
    """Identifies a metric as CloudWatch does: namespace, name and the exact dimension set."""
    return (namespace, metric, frozenset(dimensions.items()))


def parse_points(req):
    """A /__tminus/datapoints body as (series key, [(t, v, visible_at)])."""
    namespace, metric = req.get("namespace"), req.get("metric")
    dimensions = req.get("dimensions") or {}
    if not isinstance(namespace, str) or not isinstance(metric, str):
        raise BadControl("namespace and metric must be strings")
    if not isinstance(dimensions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in dimensions.items()
    ):
        raise BadControl("dimensions must map names to string values")
    points = req.get("points")
    if not isinstance(points, list):
        raise BadControl("points must be a list")
    parsed = []
    for p in points:
        try:
            t, v = float(p["t"]), float(p["v"])
            visible_at = float(p.get("visible_at", t))
        except (TypeError, KeyError, ValueError):
            raise BadControl(f"a point needs numeric t and v (and visible_at): {p!r}") from None
        parsed.append((t, v, visible_at))
    return series_key(namespace, metric, dimensions), parsed


def add_points(key, points):
    """Appends to the store; the total stays under MAX_POINTS. Returns the total stored."""
    with LOCK:
        stored = sum(len(s) for s in STATE["series"].values())
        if stored + len(points) > MAX_POINTS:
            raise BadControl(f"the scripted store holds at most {MAX_POINTS} points")
        STATE["series"].setdefault(key, []).extend(points)
        return stored + len(points)


def scripted_points(query):
    """A copy of the scripted raw points a MetricStat query asks for, or None if unscripted."""
    metric = (query.get("MetricStat") or {}).get("Metric")
    if not metric:
        return None
    dims = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions") or []}
    key = series_key(metric.get("Namespace"), metric.get("MetricName"), dims)
    with LOCK:
        points = STATE["series"].get(key)
        return list(points) if points is not None else None


def percentile(p):
    """Nearest-rank percentile p of a list of values."""

    def stat(values):
        ordered = sorted(values)
        rank = math.ceil(p / 100 * len(ordered))
        return ordered[max(rank, 1) - 1]

    return stat


STATS = {
    "Sum": sum,
    "Average": lambda vs: sum(vs) / len(vs),
    "Minimum": min,
    "Maximum": max,
    "SampleCount": lambda vs: float(len(vs)),
}


def stat_function(stat, member):
    """The aggregate for a Stat name; refused like CloudWatch refuses an unknown statistic."""
    if stat in STATS:
        return STATS[stat]
    m = re.fullmatch(r"p(\d{1,3}(?:\.\d+)?)", stat or "")
    if m and float(m.group(1)) <= 100:
        return percentile(float(m.group(1)))
    raise Rejected(
        400,
        "ValidationError",
        f"The value {stat} for parameter MetricDataQueries.member.{member}.MetricStat.Stat is not "
        "a valid statistic (the tminus test gateway computes Sum, Average, Minimum, Maximum, "
        "SampleCount and pNN).",
    )


def aggregate(points, aggregate_fn, start, end, period, now):
    """[(bucket start, value)], oldest first, as CloudWatch buckets raw points.

    StartTime is rounded down to the minute only, so with a period over 60 s the grid moves
    with the caller's StartTime. Buckets without a visible point have no datapoint; the open
    bucket aggregates what has arrived by `now`."""
    start = math.floor(start / 60) * 60
    buckets = {}
    for t, v, visible_at in points:
        if visible_at > now or t < start:
            continue
        k = int((t - start) // period)
        if start + k * period < end:
            buckets.setdefault(k, []).append(v)
    return [(start + k * period, aggregate_fn(vs)) for k, vs in sorted(buckets.items())]


def scripted_result(query, points, member, request, now):
    """The MetricDataResult CloudWatch would give for a scripted query."""
    stat = query["MetricStat"]
    period = int(stat.get("Period") or 0)
    if period <= 0:
        raise Rejected(
            400, "ValidationError", f"MetricDataQueries.member.{member}.MetricStat.Period must be positive."
        )
    fn = stat_function(stat.get("Stat"), member)
    start, end = to_json_value(request["StartTime"]), to_json_value(request["EndTime"])
    series = aggregate(points, fn, start, end, period, now)
    if (request.get("ScanBy") or "TimestampDescending") == "TimestampDescending":
        series.reverse()
    return {
        "Id": query["Id"],
        "Label": query.get("Label") or stat["Metric"]["MetricName"],
        "Timestamps": [t for t, _ in series],
        "Values": [v for _, v in series],
        "StatusCode": "Complete",
    }


def split_pages(answer, partial):
    """The first page of `answer`: each series' first half, the rest kept behind PAGE_TOKEN.

    With `partial` the first page is marked PartialData, as CloudWatch marks a series that
    continues on the next page."""
    first, rest = [], []
    for r in answer.get("MetricDataResults", []):
        ts, vs = r.get("Timestamps", []), r.get("Values", [])
        n = len(ts) // 2
        head = dict(r, Timestamps=ts[:n], Values=vs[:n])
        if partial:
            head["StatusCode"] = "PartialData"
            head["Messages"] = [{"Code": "PartialData", "Value": "More data is available with NextToken"}]
        first.append(head)
        rest.append(dict(r, Timestamps=ts[n:], Values=vs[n:], StatusCode="Complete"))
    with LOCK:
        STATE["next_page"] = {"MetricDataResults": rest}
    return dict(answer, MetricDataResults=first, NextToken=PAGE_TOKEN)


# --- Scripted alarms -----------------------------------------------------------------------


def parse_alarms(req):
    """A /__tminus/alarms body as DescribeAlarms lists, each alarm with its ARN."""
    out = {}
    for field, kind in (("metric_alarms", "MetricAlarms"), ("composite_alarms", "CompositeAlarms")):
        alarms = req.get(field) or []
        if not isinstance(alarms, list) or not all(
            isinstance(a, dict) and isinstance(a.get("AlarmName"), str) for a in alarms
        ):
            raise BadControl(f"{field} must be a list of alarms, each with an AlarmName")
        out[kind] = [
            dict({"AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{a['AlarmName']}"}, **a)
            for a in alarms
        ]
    if len(out["MetricAlarms"]) + len(out["CompositeAlarms"]) > MAX_ALARMS:
        raise BadControl(f"at most {MAX_ALARMS} scripted alarms")
    return out


def describe_alarms(request, scripted):
    """DescribeAlarms answered from the scripted alarms, with CloudWatch's filters."""
    prefix, names = request.get("AlarmNamePrefix"), request.get("AlarmNames")
    if prefix and names:
        raise Rejected(400, "ValidationError", "AlarmNamePrefix and AlarmNames cannot be used together.")
    if names and len(names) > 100:
        raise Rejected(400, "ValidationError", "AlarmNames can list at most 100 alarms.")
    max_records = int(request.get("MaxRecords", 50))
    if not 1 <= max_records <= 100:
        raise Rejected(400, "ValidationError", "MaxRecords must be between 1 and 100.")
    types = request.get("AlarmTypes") or ["MetricAlarm"]
    state = request.get("StateValue")

    def wanted(alarm):
        name = alarm["AlarmName"]
        return (
            (not prefix or name.startswith(prefix))
            and (not names or name in names)
            and (not state or alarm.get("StateValue") == state)
        )

    # One name-ordered sequence, metric alarms first, paged by offset.
    found = [
        (kind, alarm)
        for kind, type_name in (("MetricAlarms", "MetricAlarm"), ("CompositeAlarms", "CompositeAlarm"))
        if type_name in types
        for alarm in sorted(scripted[kind], key=lambda a: a["AlarmName"])
        if wanted(alarm)
    ]
    offset = alarms_offset(request.get("NextToken"), len(found))
    page = found[offset : offset + max_records]
    answer = {
        "MetricAlarms": [a for kind, a in page if kind == "MetricAlarms"],
        "CompositeAlarms": [a for kind, a in page if kind == "CompositeAlarms"],
    }
    if offset + max_records < len(found):
        answer["NextToken"] = f"{ALARMS_TOKEN}{offset + max_records}"
    return answer


def alarms_offset(token, total):
    """Where a DescribeAlarms NextToken resumes; refused like CloudWatch refuses a bad one."""
    if not token:
        return 0
    if token.startswith(ALARMS_TOKEN) and token[len(ALARMS_TOKEN) :].isdigit():
        offset = int(token[len(ALARMS_TOKEN) :])
        if offset <= total:
            return offset
    raise Rejected(400, "InvalidNextToken", "The service returned an invalid NextToken.")


# --- HTTP ----------------------------------------------------------------------------------


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

    def reply_cbor(self, op, answer):
        shape = output_shape(op)
        out = to_cbor_value(answer, shape) if shape is not None else answer
        self.reply(200, cbor2.dumps(out or {}), CBOR_HEADERS)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path == "/__tminus/stats":
            with LOCK:
                snapshot = {k: v for k, v in STATE.items() if k not in PRIVATE}
                snapshot = json.loads(json.dumps(snapshot))
            return self.reply_json(200, snapshot)
        if self.path == "/__tminus/ping":
            return self.reply_json(200, {"ok": True})
        return self.proxy(b"")

    def do_POST(self):
        if int(self.headers.get("Content-Length") or 0) > MAX_BODY:
            # The unread body makes the connection unusable: close it after answering.
            self.close_connection = True
            return self.reply_json(413, {"error": f"bodies are limited to {MAX_BODY} bytes"})
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
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise BadControl("the body must be a JSON object")
            answer = self.control_action(what, req)
        except (ValueError, BadControl) as e:  # json.JSONDecodeError is a ValueError
            return self.reply_json(400, {"error": str(e)})
        if answer is None:
            return self.reply_json(404, {"error": what})
        return self.reply_json(200, answer)

    def control_action(self, what, req):
        """Applies one control request; its JSON answer, or None for an unknown endpoint."""
        if what == "reset":
            reset()
        elif what == "fault":
            with LOCK:
                STATE["fault"] = req
        elif what == "stub":
            with LOCK:
                STATE["stubs"].insert(0, req)
        elif what == "datapoints":
            key, points = parse_points(req)
            return {"ok": True, "points": add_points(key, points)}
        elif what == "alarms":
            alarms = parse_alarms(req)
            with LOCK:
                STATE["alarms"] = alarms
        else:
            return None
        return {"ok": True}

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
        # DynamoDB applies a conditional write atomically; moto's threaded server checks the
        # condition and writes in two steps, so two racing PutItems can both "succeed" and one
        # record silently replaces the other (seen: a three-writer race lost 1 record in 60).
        # Writes to DynamoDB go through one at a time here, as the real service orders them.
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("DynamoDB_") and target.split(".")[-1] in DYNAMO_WRITES:
            with DYNAMO_WRITE_LOCK:
                return self.forward(body)
        return self.forward(body)

    def forward(self, body):
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

    def huge(self, fault, content_type):
        """A 200 answer with an enormous body, streamed: what a runaway or hostile endpoint
        sends. Bounded (at most 1 GB) so a failing test cannot run forever."""
        size = min(int(fault.get("bytes", 200 * 1024 * 1024)), 1024 * 1024 * 1024)
        chunk = b"\0" * (1024 * 1024)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if content_type == CBOR_HEADERS["Content-Type"]:
            self.send_header("smithy-protocol", "rpc-v2-cbor")
        declare = bool(fault.get("declare"))
        if declare:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            while sent < size:
                part = chunk[: min(len(chunk), size - sent)]
                if declare:
                    self.wfile.write(part)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                sent += len(part)
            if not declare:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what a capped client does
        with LOCK:
            STATE.setdefault("huge_bytes_sent", []).append(sent)

    def flood(self, fault, cbor):
        """Millions of one-byte values in a body under any size cap: what a hostile endpoint
        sends to make a client build millions of structs."""
        n = min(int(fault.get("values", 5_000_000)), 16_000_000)
        if cbor:
            # {"MetricDataResults": [_ {} {} ... ]}, the array of indefinite length.
            body = b"\xa1" + cbor2.dumps("MetricDataResults") + b"\x9f" + b"\xa0" * n + b"\xff"
            return self.reply(200, body, CBOR_HEADERS)
        body = b'{"Quota": {"x": [' + b"{}," * (n - 1) + b"{}]}}"
        return self.reply(200, body, {"Content-Type": "application/x-amz-json-1.1"})

    def json_fault(self, op, fault):
        count(op)
        if fault["mode"] == "flood":
            return self.flood(fault, cbor=False)
        if fault["mode"] == "huge":
            return self.huge(fault, "application/x-amz-json-1.1")
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
                **CBOR_HEADERS,
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
                rest = STATE["next_page"] or {"MetricDataResults": []}
                STATE["next_page"] = None
            return self.reply_cbor(op, rest)
        fault = take_fault(op)
        if fault:
            if fault["mode"] == "throttle":
                return self.cbor_error(400, "ThrottlingException", "Rate exceeded")
            if fault["mode"] == "error500":
                return self.cbor_error(500, "InternalServiceError", "injected failure")
            if fault["mode"] == "delay":
                time.sleep(float(fault.get("seconds", 1)))
            if fault["mode"] == "huge":
                return self.huge(fault, CBOR_HEADERS["Content-Type"])
            if fault["mode"] == "flood":
                return self.flood(fault, cbor=True)
        try:
            answer = self.answer(op, request, fault)
        except Rejected as e:
            return self.cbor_error(e.status, e.code, e.message)
        return self.reply_cbor(op, answer)

    def answer(self, op, request, fault):
        """The JSON-shaped answer to a CloudWatch request: scripted where a test scripted it."""
        if op == "GetMetricData":
            return self.get_metric_data(request, fault)
        if op == "DescribeAlarms":
            with LOCK:
                alarms = STATE["alarms"]
            if alarms["MetricAlarms"] or alarms["CompositeAlarms"]:
                return describe_alarms(request, alarms)
        return self.moto_json(op, request)

    def get_metric_data(self, request, fault):
        """GetMetricData: scripted series from the store, Insights empty, the rest from moto."""
        queries = request.get("MetricDataQueries") or []
        if sum(1 for q in queries if is_insights(q)) > 1:
            # The wording CloudWatch uses (as reported by Grafana users, grafana#74563).
            raise Rejected(400, "ValidationError", "Maximum number of queries (1) exceeded")
        now = time.time()
        own = {}  # Id -> result the gateway answers itself
        scripted = set()  # Ids answered from the scripted store
        forwarded = []
        for member, q in enumerate(queries, start=1):
            points = scripted_points(q)
            if points is not None:
                own[q["Id"]] = scripted_result(q, points, member, request, now)
                scripted.add(q["Id"])
            elif is_insights(q):
                # moto "answers" SELECT (upper case only) with the sum of every metric it holds,
                # and fails with a 500 when the query has no Period: an empty answer is honest.
                own[q["Id"]] = insights_result(q)
            else:
                forwarded.append(q)
        if forwarded:
            answer = self.moto_json("GetMetricData", dict(request, MetricDataQueries=forwarded))
        elif to_json_value(request["EndTime"]) <= to_json_value(request["StartTime"]):
            # moto checks this when it is asked; nothing went to moto, so check it here.
            raise Rejected(400, "ValidationError", "The parameter EndTime must be greater than StartTime.")
        else:
            answer = {"MetricDataResults": []}
        results = merge_results(queries, own, answer.get("MetricDataResults", []))
        with LOCK:
            STATE["scripted_answers"] += sum(1 for r in results if r["Id"] in scripted)
        answer = dict(answer, MetricDataResults=results)
        return apply_answer_fault(answer, fault)

    def moto_json(self, op, request):
        """moto's JSON answer to a CloudWatch request; its errors raised as Rejected."""
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
            raise Rejected(500, "InternalServiceError", data[:200].decode(errors="replace")) from None
        if resp.status >= 300:
            code = str(answer.get("__type") or answer.get("code") or "InternalServiceError")
            message = answer.get("message") or answer.get("Message") or ""
            raise Rejected(resp.status, code.split("#")[-1], message)
        return answer


def insights_result(query):
    """An empty, complete answer to a Metrics Insights query (the gateway runs no SQL)."""
    return {
        "Id": query["Id"],
        "Label": query.get("Label") or query["Id"],
        "Timestamps": [],
        "Values": [],
        "StatusCode": "Complete",
    }


def merge_results(queries, own, moto_results):
    """One result list in query order: the gateway's own answers (unless ReturnData is false)
    and moto's, whose choice of what to return is kept."""
    from_moto = {r.get("Id"): r for r in moto_results}
    out = []
    for q in queries:
        if q["Id"] in own:
            if q.get("ReturnData", True):
                out.append(own[q["Id"]])
        elif q["Id"] in from_moto:
            out.append(from_moto[q["Id"]])
    return out


def apply_answer_fault(answer, fault):
    """A GetMetricData answer as a paginate, partial or messages fault reshapes it."""
    mode = fault["mode"] if fault else None
    if mode in ("paginate", "partial"):
        return split_pages(answer, partial=mode == "partial")
    if mode == "messages":
        message = {
            "Code": fault.get("code", "MaxMetricsExceeded"),
            "Value": fault.get("value", "Maximum number of allowed metrics exceeded"),
        }
        return dict(answer, Messages=[message])
    return answer


def main():
    port = int(sys.argv[1])
    moto = urllib.parse.urlparse(sys.argv[2])
    Handler.moto = (moto.hostname, moto.port)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
