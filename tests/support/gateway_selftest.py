"""Self-test of the CBOR gateway's CloudWatch realism layer (tests/support/cbor_gateway.py).

Starts moto and the gateway on free loopback ports, speaks Smithy RPC v2 CBOR to the gateway as
the AWS SDK for Rust does, checks every control endpoint and fault with asserts, and stops both.
Exits 0 when everything holds.

Usage (from the repository root, after scripts/test installed the emulator venv):
  target/aws-emulator-venv/bin/python tests/support/gateway_selftest.py
"""

import contextlib
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cbor2

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("TMINUS_EMULATOR_VENV") or ROOT / "target/aws-emulator-venv")
AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/monitoring/aws4_request, "
    "SignedHeaders=host, Signature=x"
)
NS = "Tminus/Selftest"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, path):
    deadline = time.time() + 30
    while time.time() < deadline:
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing answered {path} on port {port} within 30 s")


@contextlib.contextmanager
def emulator():
    """moto and the gateway, each in its own process group, stopped on the way out."""
    moto_port, gateway_port = free_port(), free_port()
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [VENV / "bin/moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        wait_for(moto_port, "/moto-api/data.json")
        procs.append(
            subprocess.Popen(
                [
                    VENV / "bin/python",
                    ROOT / "tests/support/cbor_gateway.py",
                    str(gateway_port),
                    f"http://127.0.0.1:{moto_port}",
                ],
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        wait_for(gateway_port, "/__tminus/ping")
        yield Gateway(gateway_port)
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)


class Gateway:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data, dict(resp.getheaders())

    def control(self, what, body=None, expect=200):
        status, data, _ = self.request("POST", f"/__tminus/{what}", json.dumps(body or {}).encode())
        assert status == expect, (what, status, data)
        return json.loads(data)

    def stats(self):
        status, data, _ = self.request("GET", "/__tminus/stats")
        assert status == 200
        return json.loads(data)

    def cw(self, op, body, expect=200):
        """One CloudWatch call over RPC v2 CBOR; (decoded answer, response headers)."""
        status, data, headers = self.request(
            "POST",
            f"/service/GraniteServiceVersion20100801/operation/{op}",
            cbor2.dumps(body),
            {
                "smithy-protocol": "rpc-v2-cbor",
                "Content-Type": "application/cbor",
                "Accept": "application/cbor",
                "Authorization": AUTH,
            },
        )
        assert status == expect, (op, status, cbor2.loads(data) if data else data)
        return (cbor2.loads(data) if data else {}), headers

    def get_metric_data(self, queries, start, end, expect=200, **extra):
        body = {"MetricDataQueries": queries, "StartTime": ts(start), "EndTime": ts(end), **extra}
        return self.cw("GetMetricData", body, expect)[0]


def ts(secs):
    """A timestamp as the SDK sends it: CBOR tag 1, epoch seconds."""
    return cbor2.CBORTag(1, float(secs))


def epoch(v):
    return v.timestamp()


def stat_query(qid, metric, stat="Sum", period=60, dims=None, **extra):
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": NS,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in (dims or {}).items()],
            },
            "Period": period,
            "Stat": stat,
        },
        **extra,
    }


def series(result):
    return [(epoch(t), v) for t, v in zip(result["Timestamps"], result["Values"])]


def by_id(answer):
    return {r["Id"]: r for r in answer["MetricDataResults"]}


def check_aggregation(gw):
    """Buckets on the minute-rounded StartTime, sparse, EndTime exclusive, every statistic."""
    # A minute that is not a multiple of the 300 s period, an hour back: everything settled.
    base = math.floor(time.time() / 300) * 300 - 3600 + 60
    gw.control(
        "datapoints",
        {
            "namespace": NS,
            "metric": "Requests",
            "dimensions": {"LoadBalancer": "app/web/1", "AvailabilityZone": "a"},
            "points": [
                {"t": base - 1, "v": 1000},  # before the rounded start
                {"t": base + 10, "v": 1},  # before StartTime, after its rounding: counted
                {"t": base + 70, "v": 2},
                {"t": base + 130, "v": 3},
                {"t": base + 250, "v": 4},
                # [base + 300, base + 600) has nothing: no datapoint
                {"t": base + 600, "v": 5},
                {"t": base + 899.5, "v": 6},
                {"t": base + 900, "v": 100},  # in a bucket starting at EndTime: not returned
            ],
        },
    )
    dims = {"AvailabilityZone": "a", "LoadBalancer": "app/web/1"}  # another order, same set
    stats = {"Sum": (10, 11), "Average": (2.5, 5.5), "Minimum": (1, 5), "Maximum": (4, 6),
             "SampleCount": (4, 2), "p50": (2, 5), "p25": (1, 5), "p99.9": (4, 6)}
    queries = [stat_query(f"q{i}", "Requests", s, 300, dims) for i, s in enumerate(stats)]
    answer = gw.get_metric_data(queries, base + 17, base + 900)
    assert [r["Id"] for r in answer["MetricDataResults"]] == [q["Id"] for q in queries]
    for q, (stat, (first, last)) in zip(queries, stats.items()):
        r = by_id(answer)[q["Id"]]
        assert r["StatusCode"] == "Complete", r
        # Newest first by default; bucket starts on the minute grid of StartTime, not base - 60.
        assert series(r) == [(base + 600, last), (base, first)], (stat, series(r))
        assert r["Label"] == "Requests"
    ascending = gw.get_metric_data(queries[:1], base + 17, base + 900, ScanBy="TimestampAscending")
    assert series(ascending["MetricDataResults"][0]) == [(base, 10), (base + 600, 11)]

    # The exact dimension set identifies the metric: a subset goes to moto, which has nothing.
    subset = stat_query("sub", "Requests", "Sum", 300, {"LoadBalancer": "app/web/1"})
    assert series(gw.get_metric_data([subset], base, base + 900)["MetricDataResults"][0]) == []

    # CloudWatch refuses a statistic it does not know; the gateway refuses what it cannot compute.
    odd = stat_query("odd", "Requests", "Median", 300, dims)
    error, headers = gw.cw("GetMetricData", {"MetricDataQueries": [odd], "StartTime": ts(base),
                                             "EndTime": ts(base + 900)}, expect=400)
    assert error["__type"].endswith("#ValidationError") and "member.1" in error["message"], error
    assert headers["x-amzn-query-error"] == "ValidationError;Sender"
    print("ok: aggregation, sparse buckets, EndTime, ScanBy, stats, dimensions")


def check_late_and_open_buckets(gw):
    """Late points appear once published; an open bucket holds only what has arrived."""
    now = time.time()
    settled = math.floor(now / 60) * 60 - 600
    gw.control("datapoints", {"namespace": NS, "metric": "Late",
                              "points": [{"t": settled + 5, "v": 7, "visible_at": now + 1.5}]})
    q = stat_query("late", "Late")
    assert series(gw.get_metric_data([q], settled - 60, settled + 120)["MetricDataResults"][0]) == []
    time.sleep(max(0.0, now + 1.6 - time.time()))
    assert series(gw.get_metric_data([q], settled - 60, settled + 120)["MetricDataResults"][0]) == [
        (settled, 7)
    ]

    now = time.time()
    gw.control("datapoints", {"namespace": NS, "metric": "Open", "points": [
        {"t": now - 1, "v": 3},  # arrived
        {"t": now - 0.5, "v": 40, "visible_at": now + 3600},  # published late
        {"t": now + 3000, "v": 500},  # in the future: visible only once its time comes
    ]})
    q = stat_query("open", "Open", "Sum")
    r = gw.get_metric_data([q], now - 300, now + 3600)["MetricDataResults"][0]
    assert [v for _, v in series(r)] == [3], series(r)
    print("ok: late publishing, partial open bucket")


def check_mixed_with_moto(gw):
    """Scripted, moto and Insights queries in one call, answered in query order."""
    now = time.time()
    minute = math.floor(now / 60) * 60 - 300
    put = {"Namespace": NS, "MetricData": [{"MetricName": "FromMoto", "Value": 9.0, "Timestamp": ts(minute)}]}
    gw.cw("PutMetricData", put)
    gw.control("datapoints", {"namespace": NS, "metric": "Scripted",
                              "points": [{"t": minute + 1, "v": 2}, {"t": minute + 61, "v": 3}]})
    queries = [
        stat_query("m", "FromMoto"),
        stat_query("s", "Scripted"),
        {"Id": "sql", "Expression": 'SELECT SUM(Scripted) FROM "Tminus/Selftest"'},
        stat_query("hidden", "Scripted", ReturnData=False),
        {"Id": "e", "Expression": "hidden"},  # math over a scripted query: sent, accepted
    ]
    before = gw.stats()["scripted_answers"]
    answer = gw.get_metric_data(queries, minute - 600, minute + 120)
    assert [r["Id"] for r in answer["MetricDataResults"]] == ["m", "s", "sql", "e"], answer
    results = by_id(answer)
    assert [v for _, v in series(results["m"])] == [9.0]
    assert series(results["s"]) == [(minute + 60, 3), (minute, 2)]
    assert results["sql"]["StatusCode"] == "Complete" and series(results["sql"]) == []
    # moto does not evaluate math; the expression comes back, empty.
    assert results["e"]["StatusCode"] == "Complete"
    stats = gw.stats()
    assert stats["scripted_answers"] == before + 1, stats
    assert stats["insights_queries_per_call"][-1] == 1
    assert stats["get_metric_data_query_counts"][-1] == 5
    print("ok: scripted + moto + Insights + ReturnData=false in one call, in query order")


def check_insights_limit(gw):
    now = time.time()
    queries = [
        {"Id": "a", "Expression": "SELECT AVG(CPUUtilization) FROM \"AWS/EC2\"", "Period": 60},
        {"Id": "b", "Expression": "  select max(CPUUtilization) from \"AWS/EC2\"", "Period": 60},
    ]
    error, headers = gw.cw("GetMetricData", {"MetricDataQueries": queries, "StartTime": ts(now - 600),
                                             "EndTime": ts(now)}, expect=400)
    assert error["__type"].endswith("#ValidationError"), error
    assert error["message"] == "Maximum number of queries (1) exceeded", error
    assert headers["x-amzn-query-error"] == "ValidationError;Sender"
    assert gw.stats()["insights_queries_per_call"][-1] == 2
    print("ok: two Metrics Insights queries in one call are refused")


def check_page_faults(gw):
    """paginate and partial split every series over two pages; messages adds a call-level note."""
    base = math.floor(time.time() / 60) * 60 - 1200
    gw.control("datapoints", {"namespace": NS, "metric": "Paged",
                              "points": [{"t": base + 60 * i, "v": i} for i in range(6)]})
    q = [stat_query("p", "Paged")]
    want = [(base + 60 * i, i) for i in range(6)]
    for mode, first_status in (("paginate", "Complete"), ("partial", "PartialData")):
        gw.control("fault", {"mode": mode, "op": "GetMetricData", "count": 1})
        first = gw.get_metric_data(q, base, base + 360, ScanBy="TimestampAscending")
        assert first["NextToken"] == "tminus-page-2", first
        head = first["MetricDataResults"][0]
        assert head["StatusCode"] == first_status, head
        assert ("Messages" in head) == (mode == "partial"), head
        if mode == "partial":
            assert head["Messages"][0]["Code"] == "PartialData"
        second = gw.get_metric_data(
            q, base, base + 360, ScanBy="TimestampAscending", NextToken=first["NextToken"]
        )
        tail = second["MetricDataResults"][0]
        assert "NextToken" not in second and tail["StatusCode"] == "Complete", second
        assert series(head) + series(tail) == want, (series(head), series(tail))
        # The fault ran out: the next call is whole again.
        assert "NextToken" not in gw.get_metric_data(q, base, base + 360)

    gw.control("fault", {"mode": "messages", "op": "GetMetricData", "count": 2})
    for _ in range(2):
        answer = gw.get_metric_data(q, base, base + 360)
        assert answer["Messages"] == [
            {"Code": "MaxMetricsExceeded", "Value": "Maximum number of allowed metrics exceeded"}
        ], answer
    assert "Messages" not in gw.get_metric_data(q, base, base + 360)

    gw.control("fault", {"mode": "throttle", "op": "GetMetricData", "count": 1})
    error, _ = gw.cw("GetMetricData", {"MetricDataQueries": q, "StartTime": ts(base),
                                       "EndTime": ts(base + 360)}, expect=400)
    assert error["__type"].endswith("#ThrottlingException")
    print("ok: paginate, partial, messages and throttle faults")


def check_huge_answers(gw):
    """huge streams a body of the asked size, chunked or with its length declared, for the CBOR
    and the JSON protocols."""
    size = 3 * 1024 * 1024 + 5
    path = "/service/GraniteServiceVersion20100801/operation/GetMetricData"
    for declare in (False, True):
        gw.control("fault", {"mode": "huge", "op": "GetMetricData", "count": 1, "bytes": size,
                             "declare": declare})
        status, data, headers = gw.request("POST", path, cbor2.dumps({}),
                                           {"smithy-protocol": "rpc-v2-cbor",
                                            "Content-Type": "application/cbor"})
        assert status == 200 and len(data) == size and data.count(0) == size, (status, len(data))
        assert ("Content-Length" in headers) == declare, headers
        assert ("Transfer-Encoding" in headers) != declare, headers
    gw.control("fault", {"mode": "huge", "op": "GetServiceQuota", "count": 1, "bytes": size})
    status, data, headers = gw.request(
        "POST", "/", b"{}",
        {"X-Amz-Target": "ServiceQuotasV20190624.GetServiceQuota",
         "Content-Type": "application/x-amz-json-1.1"})
    assert status == 200 and len(data) == size, (status, len(data))
    assert headers["Content-Type"] == "application/x-amz-json-1.1", headers
    assert gw.stats()["huge_bytes_sent"] == [size] * 3
    gw.control("fault", {"mode": "flood", "op": "GetMetricData", "count": 1, "values": 1000})
    answer, _ = gw.cw("GetMetricData", {})
    assert answer == {"MetricDataResults": [{}] * 1000}, str(answer)[:200]
    gw.control("fault", {"mode": "flood", "op": "GetServiceQuota", "count": 1, "values": 1000})
    status, data, _ = gw.request(
        "POST", "/", b"{}",
        {"X-Amz-Target": "ServiceQuotasV20190624.GetServiceQuota",
         "Content-Type": "application/x-amz-json-1.1"})
    assert status == 200 and json.loads(data) == {"Quota": {"x": [{}] * 1000}}, data[:200]
    print("ok: huge and flood answers")


ALARMS = {
    "metric_alarms": [
        {"AlarmName": "web-5xx", "StateValue": "ALARM", "StateReason": "Threshold Crossed",
         "StateUpdatedTimestamp": 1790000100, "StateTransitionedTimestamp": 1790000000,
         "Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_ELB_5XX_Count", "Threshold": 5},
        {"AlarmName": "web-p99", "StateValue": "OK", "StateReason": "ok",
         "StateUpdatedTimestamp": 1790000200, "StateTransitionedTimestamp": 1790000200},
        {"AlarmName": "db-throttles", "StateValue": "INSUFFICIENT_DATA", "StateReason": "no data",
         "StateUpdatedTimestamp": 1790000300, "StateTransitionedTimestamp": 1790000300},
    ],
    "composite_alarms": [
        {"AlarmName": "web-health", "StateValue": "ALARM", "StateReason": "web-5xx is in ALARM",
         "AlarmRule": "ALARM(web-5xx) OR ALARM(web-p99)",
         "StateUpdatedTimestamp": 1790000400, "StateTransitionedTimestamp": 1790000000},
    ],
}


def names(answer, kind):
    return [a["AlarmName"] for a in answer.get(kind, [])]


def check_alarms(gw):
    # Scripted alarms replace moto's answer; moto still holds its own alarm.
    gw.cw("PutMetricAlarm", {"AlarmName": "in-moto", "Namespace": NS, "MetricName": "M", "Statistic": "Sum",
                             "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0,
                             "ComparisonOperator": "GreaterThanThreshold"})
    gw.control("alarms", ALARMS)

    def describe(body, expect=200):
        return gw.cw("DescribeAlarms", body, expect)[0]

    every = describe({})
    assert names(every, "MetricAlarms") == ["db-throttles", "web-5xx", "web-p99"], every
    assert names(every, "CompositeAlarms") == [], "composite alarms only when AlarmTypes asks"
    web = every["MetricAlarms"][1]
    assert epoch(web["StateTransitionedTimestamp"]) == 1790000000
    assert epoch(web["StateUpdatedTimestamp"]) == 1790000100
    assert web["Threshold"] == 5.0 and isinstance(web["Threshold"], float)
    assert web["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-5xx"

    both = describe({"AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "AlarmNamePrefix": "web-"})
    assert names(both, "MetricAlarms") == ["web-5xx", "web-p99"]
    assert names(both, "CompositeAlarms") == ["web-health"]
    assert both["CompositeAlarms"][0]["AlarmRule"] == "ALARM(web-5xx) OR ALARM(web-p99)"
    only_composite = describe({"AlarmTypes": ["CompositeAlarm"]})
    assert names(only_composite, "MetricAlarms") == []
    assert names(only_composite, "CompositeAlarms") == ["web-health"]
    assert names(describe({"AlarmNames": ["web-p99", "nope", "db-throttles"]}), "MetricAlarms") == [
        "db-throttles", "web-p99"
    ]
    assert names(describe({"StateValue": "ALARM", "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}),
                 "CompositeAlarms") == ["web-health"]
    assert names(describe({"StateValue": "ALARM"}), "MetricAlarms") == ["web-5xx"]

    error = describe({"AlarmNamePrefix": "web-", "AlarmNames": ["db-throttles"]}, expect=400)
    assert error["__type"].endswith("#ValidationError"), error
    too_many = describe({"AlarmNames": [f"a{i}" for i in range(101)]}, expect=400)
    assert too_many["__type"].endswith("#ValidationError"), too_many

    page1 = describe({"MaxRecords": 2, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})
    assert names(page1, "MetricAlarms") == ["db-throttles", "web-5xx"] and page1["NextToken"]
    page2 = describe({"MaxRecords": 2, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
                      "NextToken": page1["NextToken"]})
    assert names(page2, "MetricAlarms") == ["web-p99"] and names(page2, "CompositeAlarms") == ["web-health"]
    assert "NextToken" not in page2
    assert describe({"NextToken": "bogus"}, expect=400)["__type"].endswith("#InvalidNextToken")
    assert describe({"MaxRecords": 0}, expect=400)["__type"].endswith("#ValidationError")

    # No scripted alarms: moto answers again.
    gw.control("alarms", {"metric_alarms": [], "composite_alarms": []})
    assert names(describe({}), "MetricAlarms") == ["in-moto"]
    print("ok: scripted DescribeAlarms filters, types, paging, timestamps")


def check_control_bounds_and_reset(gw):
    gw.control("datapoints", {"namespace": NS, "metric": "M", "points": [{"t": "soon", "v": 1}]}, expect=400)
    gw.control("alarms", {"metric_alarms": [{"StateValue": "OK"}]}, expect=400)
    status, _, _ = gw.request("POST", "/__tminus/fault", b"{not json")
    assert status == 400

    # An oversized body is refused before it is read (it is never sent here).
    status, data, _ = gw.request("POST", "/__tminus/datapoints", b"x", {"Content-Length": "20000000"})
    assert status == 413, (status, data)

    gw.control("reset")
    stored = gw.control("datapoints", {"namespace": NS, "metric": "Bulk",
                                       "points": [{"t": i, "v": 1} for i in range(200_000)]})
    assert stored == {"ok": True, "points": 200_000}, stored
    gw.control("datapoints", {"namespace": NS, "metric": "Bulk", "points": [{"t": 0, "v": 1}]}, expect=400)

    gw.control("alarms", ALARMS)
    gw.control("fault", {"mode": "messages"})
    gw.control("reset")
    stats = gw.stats()
    assert stats["scripted_answers"] == 0 and stats["insights_queries_per_call"] == [], stats
    assert stats["fault"] is None and stats["ops"] == {}, stats
    now = time.time()
    gone = gw.get_metric_data([stat_query("b", "Bulk")], now - 600, now)
    assert series(gone["MetricDataResults"][0]) == [] and "Messages" not in gone
    assert gw.stats()["scripted_answers"] == 0
    assert names(gw.cw("DescribeAlarms", {})[0], "MetricAlarms") == ["in-moto"]
    print("ok: control validation, bounds, reset")


def main():
    if not (VENV / "bin/moto_server").exists():
        raise SystemExit(f"no emulator venv at {VENV}: run scripts/test (it installs it)")
    with emulator() as gw:
        check_aggregation(gw)
        check_late_and_open_buckets(gw)
        check_mixed_with_moto(gw)
        check_insights_limit(gw)
        check_page_faults(gw)
        check_huge_answers(gw)
        check_alarms(gw)
        check_control_bounds_and_reset(gw)
    print("gateway self-test passed")


if __name__ == "__main__":
    sys.exit(main())
