//! A size cap on every AWS answer. The SDK reads a response body into memory before parsing it,
//! however long it is: an endpoint (a wrong `--endpoint-url`, a proxy, an attacker) streaming
//! an endless body drove `tminus quotas` to 8.7 GB in 25 s. Every CloudWatch and Service
//! Quotas client carries this interceptor: a `Content-Length` over the cap fails the call at
//! once, and any body (chunked too) stops being read at the first byte past it.

use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_cloudwatch::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest answer tminus accepts: the biggest legitimate one, a GetMetricData page of
/// 100,800 datapoints, is a few MB in CBOR.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Words `errors::explain_text` recognises.
pub const TOO_LARGE: &str = "answer larger than 16 MiB";

#[derive(Debug, thiserror::Error)]
#[error("{TOO_LARGE} from the AWS endpoint: stopped reading it")]
pub struct TooLarge;

/// The interceptor: add it to a client's config (`Aws::cloudwatch`, `Aws::servicequotas`).
#[derive(Debug, Clone, Copy)]
pub struct ResponseCap {
    pub max: u64,
}

impl Default for ResponseCap {
    fn default() -> Self {
        ResponseCap {
            max: MAX_RESPONSE_BYTES,
        }
    }
}

impl Intercept for ResponseCap {
    fn name(&self) -> &'static str {
        "tminus::ResponseCap"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max) {
            return Err(Box::new(TooLarge));
        }
        let body = response.take_body();
        *response.body_mut() = SdkBody::from_body_1_x(Capped {
            inner: body,
            left: self.max,
        });
        Ok(())
    }
}

/// A body that fails once more than `left` bytes have come through.
struct Capped {
    inner: SdkBody,
    left: u64,
}

impl Body for Capped {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                match this.left.checked_sub(n) {
                    Some(left) => {
                        this.left = left;
                        Poll::Ready(Some(Ok(frame)))
                    }
                    None => {
                        this.left = 0;
                        Poll::Ready(Some(Err(Box::new(TooLarge))))
                    }
                }
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
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

    #[tokio::test]
    async fn an_endless_body_stops_at_the_cap_and_a_small_one_passes() {
        let capped = Capped {
            inner: SdkBody::from_body_1_x(Endless),
            left: 1024 * 1024,
        };
        let err = capped.collect().await.err().unwrap();
        assert!(err.to_string().contains(TOO_LARGE), "{err}");
        let small = Capped {
            inner: SdkBody::from("hello"),
            left: 5,
        };
        assert_eq!(small.collect().await.unwrap().to_bytes(), "hello");
        let over = Capped {
            inner: SdkBody::from("hello!"),
            left: 5,
        };
        assert!(over.collect().await.is_err());
    }
}
