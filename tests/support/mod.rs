//! A local AWS for integration tests: a moto server and, in front of it, the CBOR gateway
//! (tests/support/cbor_gateway.py), both on free loopback ports, started by the test and killed
//! when the `Emulator` is dropped, even if the test panics. No test reaches the internet.
//!
//! The Python environment is installed, pinned, by scripts/test (target/aws-emulator-venv).

#![allow(dead_code)] // each test binary uses part of the harness

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatch::config::{Credentials, SharedCredentialsProvider};

pub struct Emulator {
    venv: PathBuf,
    moto: Child,
    moto_port: u16,
    gateway: Option<Child>,
    gateway_port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn venv() -> PathBuf {
    let dir = std::env::var_os("TMINUS_EMULATOR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/aws-emulator-venv")
        });
    assert!(
        dir.join("bin/moto_server").exists(),
        "the AWS emulator is not installed at {}: run scripts/test, which installs it (pinned)",
        dir.display()
    );
    dir
}

/// One HTTP/1.1 request to 127.0.0.1:port; the response body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    if !head.starts_with("HTTP/1.1 2") && !head.starts_with("HTTP/1.0 2") {
        return Err(head.lines().next().unwrap_or("").to_string());
    }
    Ok(body.to_string())
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Emulator {
    pub fn start() -> Emulator {
        let venv = venv();
        let moto_port = free_port();
        let moto = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting moto_server");
        let mut e = Emulator {
            venv,
            moto,
            moto_port,
            gateway: None,
            gateway_port: free_port(),
        };
        wait_until("moto", || {
            http(moto_port, "GET", "/moto-api/data.json", "").is_ok()
        });
        e.start_gateway();
        e
    }

    /// Starts (again) the gateway on its port: with `stop_gateway`, an outage and recovery
    /// of "AWS" while moto keeps its data.
    pub fn start_gateway(&mut self) {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/cbor_gateway.py");
        let child = Command::new(self.venv.join("bin/python"))
            .arg(script)
            .arg(self.gateway_port.to_string())
            .arg(format!("http://127.0.0.1:{}", self.moto_port))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("starting the CBOR gateway");
        self.gateway = Some(child);
        let port = self.gateway_port;
        wait_until("the gateway", || {
            http(port, "GET", "/__tminus/ping", "").is_ok()
        });
    }

    pub fn stop_gateway(&mut self) {
        if let Some(mut g) = self.gateway.take() {
            let _ = g.kill();
            let _ = g.wait();
        }
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.gateway_port)
    }

    pub fn stats(&self) -> serde_json::Value {
        let body = http(self.gateway_port, "GET", "/__tminus/stats", "").unwrap();
        serde_json::from_str(&body).unwrap()
    }

    /// Calls of one operation the gateway saw since the last reset.
    pub fn calls(&self, op: &str) -> u64 {
        self.stats()["ops"][op].as_u64().unwrap_or(0)
    }

    pub fn reset(&self) {
        http(self.gateway_port, "POST", "/__tminus/reset", "{}").unwrap();
    }

    pub fn fault(&self, fault: serde_json::Value) {
        http(
            self.gateway_port,
            "POST",
            "/__tminus/fault",
            &fault.to_string(),
        )
        .unwrap();
    }

    pub fn stub(&self, stub: serde_json::Value) {
        http(
            self.gateway_port,
            "POST",
            "/__tminus/stub",
            &stub.to_string(),
        )
        .unwrap();
    }

    /// Appends raw datapoints to the gateway's scripted CloudWatch store, e.g.
    /// `{"namespace": "N", "metric": "M", "dimensions": {}, "points": [{"t": 0.0, "v": 1.0}]}`
    /// (epoch seconds, optional `"visible_at"`; see tests/support/cbor_gateway.py).
    pub fn datapoints(&self, body: serde_json::Value) {
        http(
            self.gateway_port,
            "POST",
            "/__tminus/datapoints",
            &body.to_string(),
        )
        .unwrap();
    }

    /// Replaces the gateway's scripted alarms, which then answer DescribeAlarms:
    /// `{"metric_alarms": [...], "composite_alarms": [...]}` in the DescribeAlarms shape.
    pub fn alarms(&self, body: serde_json::Value) {
        http(
            self.gateway_port,
            "POST",
            "/__tminus/alarms",
            &body.to_string(),
        )
        .unwrap();
    }

    /// SDK configuration pointing at the gateway with test credentials, whatever the machine's
    /// AWS environment holds.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.endpoint_url())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "tests",
            )))
            .build()
    }

    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config())
    }

    /// The product's own AWS access, pointed at the emulator.
    pub fn aws(&self) -> tminus::source::aws::Aws {
        tminus::source::aws::Aws::from_sdk_config(self.sdk_config())
    }

    /// Puts one point a minute for the last `values.len()` minutes (oldest first), blocking.
    pub fn put_metric_blocking(&self, namespace: &str, name: &str, values: &[f64]) {
        let now = chrono::Utc::now().timestamp();
        let points: Vec<(i64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (now - now % 60 - (values.len() - i) as i64 * 60, *v))
            .collect();
        self.put_points_blocking(namespace, name, &points);
    }

    /// Datapoints at the given Unix seconds, in calls of at most 50 (the emulator drops larger
    /// request bodies).
    pub fn put_points_blocking(&self, namespace: &str, name: &str, points: &[(i64, f64)]) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for chunk in points.chunks(50) {
            let data: Vec<aws_sdk_cloudwatch::types::MetricDatum> = chunk
                .iter()
                .map(|(at, v)| {
                    aws_sdk_cloudwatch::types::MetricDatum::builder()
                        .metric_name(name)
                        .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(*at))
                        .value(*v)
                        .build()
                })
                .collect();
            rt.block_on(
                self.cloudwatch()
                    .put_metric_data()
                    .namespace(namespace)
                    .set_metric_data(Some(data))
                    .send(),
            )
            .unwrap();
        }
    }

    pub fn servicequotas(&self) -> aws_sdk_servicequotas::Client {
        aws_sdk_servicequotas::Client::new(&self.sdk_config())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_gateway();
        let _ = self.moto.kill();
        let _ = self.moto.wait();
    }
}
