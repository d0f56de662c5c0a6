//! Bounds on every AWS answer, before the SDK parses it.
//!
//! The SDK reads a response body into memory and then parses it, however long it is: an
//! endpoint (a wrong `--endpoint-url`, a proxy, an attacker) streaming an endless body drove
//! `tminus quotas` to 8.7 GB in 25 s. Size alone is not enough either: 16 MB of one-byte empty
//! CBOR maps parse into 16 million structs (2.3 GB). So every CloudWatch and Service Quotas
//! client carries this interceptor, which
//! - fails the call at once when `Content-Length` is over `MAX_RESPONSE_BYTES`;
//! - reads the body (chunked too) no further than that, and fails past it;
//! - counts the values in the complete body (CBOR data items, JSON values) and fails when
//!   there are more than the operation can legitimately answer (`max_values`), so what the SDK
//!   builds from it is bounded too.

use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_cloudwatch::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest answer tminus accepts: the biggest legitimate one, a GetMetricData page of
/// 100,800 datapoints, is a few MB in CBOR.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Words `errors::explain_text` recognises in both errors below.
pub const OVERSIZED: &str = "oversized answer";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Oversized {
    #[error("{OVERSIZED} from the AWS endpoint: larger than 16 MiB")]
    Bytes,
    #[error("{OVERSIZED} from the AWS endpoint: with more than {0} values")]
    Values(usize),
}

/// The most values (CBOR data items or JSON values) an answer to `operation` may hold, well
/// above any real one: GetMetricData returns at most 100,800 datapoints a call (three items
/// each in CBOR: a tagged timestamp and a value) over at most 500 queries; DescribeAlarms at
/// most 100 alarms a page; Service Quotas answers describe one quota or request.
pub fn max_values(operation: &str) -> usize {
    match operation {
        "GetMetricData" => 500_000,
        "DescribeAlarms" => 50_000,
        // A 1 MB page of room records, each a few attributes and a JSON string.
        "Query" => 200_000,
        _ => 20_000,
    }
}

/// The interceptor: add it to a client's config (`Aws::cloudwatch`, `Aws::servicequotas`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseCap;

impl Intercept for ResponseCap {
    fn name(&self) -> &'static str {
        "tminus::ResponseCap"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let max_values = max_values(cfg.load::<Metadata>().map_or("", Metadata::name));
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(Box::new(Oversized::Bytes));
        }
        let format = match response.headers().get("content-type") {
            Some(t) if t.contains("cbor") => Format::Cbor,
            Some(t) if t.contains("json") => Format::Json,
            _ => Format::Other,
        };
        let body = response.take_body();
        *response.body_mut() = SdkBody::from_body_1_x(Checked {
            inner: body,
            chunks: Vec::new(),
            len: 0,
            max_bytes: MAX_RESPONSE_BYTES,
            max_values,
            format,
            done: false,
        });
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Cbor,
    Json,
    Other,
}

/// The inner body read whole (at most `max_bytes`), its values counted, then handed on as one
/// frame.
struct Checked {
    inner: SdkBody,
    chunks: Vec<Bytes>,
    len: usize,
    max_bytes: usize,
    max_values: usize,
    format: Format,
    done: bool,
}

impl Checked {
    fn finish(&mut self) -> Result<Bytes, Oversized> {
        let body = match self.chunks.len() {
            0 => Bytes::new(),
            1 => self.chunks.pop().unwrap_or_default(),
            _ => {
                let mut all = Vec::with_capacity(self.len);
                for c in self.chunks.drain(..) {
                    all.extend_from_slice(&c);
                }
                Bytes::from(all)
            }
        };
        let over = match self.format {
            Format::Cbor => cbor_values_over(&body, self.max_values),
            Format::Json => json_values_over(&body, self.max_values),
            Format::Other => false,
        };
        if over {
            Err(Oversized::Values(self.max_values))
        } else {
            Ok(body)
        }
    }
}

impl Body for Checked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers carry nothing tminus reads.
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    this.len += data.len();
                    if this.len > this.max_bytes {
                        this.done = true;
                        this.chunks.clear();
                        return Poll::Ready(Some(Err(Box::new(Oversized::Bytes))));
                    }
                    this.chunks.push(data);
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(Some(match this.finish() {
                        Ok(body) => Ok(Frame::data(body)),
                        Err(e) => Err(Box::new(e)),
                    }));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// Whether CBOR `b` holds more than `max` data items (every header counts: map keys, tags and
/// string chunks too, which only overestimates). Linear; malformed input stops the count (the
/// SDK reports it).
pub fn cbor_values_over(b: &[u8], max: usize) -> bool {
    let mut i = 0usize;
    let mut n = 0usize;
    while i < b.len() {
        let head = b[i];
        i += 1;
        let (major, info) = (head >> 5, head & 0x1f);
        let width = match info {
            0..=23 => 0,
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => 0,
            _ => return false,
        };
        let Some(arg_bytes) = b.get(i..i + width) else {
            return false;
        };
        let arg = if info < 24 {
            u64::from(info)
        } else {
            arg_bytes
                .iter()
                .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
        };
        i += width;
        if major == 7 && info == 31 {
            continue; // the "break" ending an indefinite-length item
        }
        n += 1;
        if n > max {
            return true;
        }
        // Byte and text strings: skip their contents.
        if (major == 2 || major == 3) && info != 31 {
            match usize::try_from(arg).ok().and_then(|a| i.checked_add(a)) {
                Some(next) => i = next,
                None => return false,
            }
        }
    }
    false
}

/// Whether JSON `b` holds more than `max` values: objects, arrays, members and elements, counted
/// by their punctuation outside strings. Linear.
pub fn json_values_over(b: &[u8], max: usize) -> bool {
    let mut n = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &c in b {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' | b',' | b':' => {
                n += 1;
                if n > max {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// An endless body: 64 KiB chunks forever.
    struct Endless;
    impl Body for Endless {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 64 * 1024])))))
        }
    }

    fn checked(inner: SdkBody, max_bytes: usize, max_values: usize, format: Format) -> Checked {
        Checked {
            inner,
            chunks: Vec::new(),
            len: 0,
            max_bytes,
            max_values,
            format,
            done: false,
        }
    }

    #[tokio::test]
    async fn an_endless_body_stops_at_the_cap_and_a_small_one_passes() {
        let endless = checked(SdkBody::from_body_1_x(Endless), 1 << 20, 10, Format::Other);
        let err = endless.collect().await.err().unwrap();
        assert_eq!(err.to_string(), Oversized::Bytes.to_string());
        let small = checked(SdkBody::from("hello"), 5, 10, Format::Other);
        assert_eq!(small.collect().await.unwrap().to_bytes(), "hello");
        let over = checked(SdkBody::from("hello!"), 5, 10, Format::Other);
        assert!(over.collect().await.is_err());
        // Counted once whole: a JSON answer with too many values fails, a real one passes.
        let many = checked(SdkBody::from("[1,2,3,4]"), 100, 3, Format::Json);
        assert!(
            many.collect()
                .await
                .err()
                .unwrap()
                .to_string()
                .contains("more than 3 values")
        );
        let fine = checked(SdkBody::from(r#"{"a":[1,2]}"#), 100, 5, Format::Json);
        assert_eq!(fine.collect().await.unwrap().to_bytes(), r#"{"a":[1,2]}"#);
    }

    #[test]
    fn values_are_counted_as_the_parsers_see_them() {
        // {"a": [1, "xy", h'00ff'], "b": 1(1.5)}: map, key, array, 1, "xy", bytes, key, tag,
        // float = 9 items.
        let cbor = [
            0xa2, 0x61, b'a', 0x83, 0x01, 0x62, b'x', b'y', 0x42, 0x00, 0xff, 0x61, b'b', 0xc1,
            0xf9, 0x3e, 0x00,
        ];
        assert!(!cbor_values_over(&cbor, 9));
        assert!(cbor_values_over(&cbor, 8));
        // Indefinite-length array of two: the break does not count.
        assert!(!cbor_values_over(&[0x9f, 0x01, 0x02, 0xff], 3));
        assert!(cbor_values_over(&[0x9f, 0x01, 0x02, 0xff], 2));
        // A million empty maps in 1 MB: what the cap exists for.
        let flood: Vec<u8> = std::iter::once(0x9f)
            .chain(std::iter::repeat_n(0xa0, 1_000_000))
            .chain(std::iter::once(0xff))
            .collect();
        assert!(cbor_values_over(&flood, 500_000));
        // Truncated or reserved: not counted further (the SDK reports it).
        assert!(!cbor_values_over(&[0x5a, 0xff], 0));
        assert!(!cbor_values_over(&[0x1c, 0x01, 0x01], 1));
        // JSON: punctuation inside strings does not count.
        assert!(!json_values_over(br#"{"a,b:[{": "x\",y"}"#, 2));
        assert!(json_values_over(br#"{"a": [1, 2, 3]}"#, 4));
        assert!(!json_values_over(br#"{"a": [1, 2, 3]}"#, 5));
    }
}
