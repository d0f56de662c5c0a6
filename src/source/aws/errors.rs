//! AWS failures in one line an operator can act on, instead of an SDK debug dump.
//!
//! Calls return the raw cause chain (`describe`); the source that reports it explains it once
//! (`explain_text`), with the profile in use. Explaining twice doubled prefixes and cut off the
//! part an operator needs.

use std::error::Error;

/// The whole cause chain as text: what a call returns, explained once by whoever reports it.
pub fn describe(err: &(dyn Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

/// What went wrong and what to do about it. `profile` is the profile in use, for the fix.
pub fn explain(err: &(dyn Error + 'static), profile: Option<&str>) -> String {
    explain_text(&describe(err), profile)
}

/// What the one reporting an error does next, which its wording must not misstate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Then<'a> {
    /// The war room's sources: back off and try again.
    Retry,
    /// A one-shot command (`tminus quotas`): reports and ends. `endpoint` names where the calls
    /// went (an endpoint URL or "AWS (region)"); `within` is the time AWS had to answer.
    Stop {
        endpoint: &'a str,
        within: std::time::Duration,
    },
}

/// `explain_for` as the war room says it (`Then::Retry`).
pub fn explain_text(text: &str, profile: Option<&str>) -> String {
    explain_for(text, profile, Then::Retry)
}

pub fn explain_for(text: &str, profile: Option<&str>, then: Then<'_>) -> String {
    let lower = text.to_lowercase();
    let profile_arg = profile
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(&n.to_lowercase()));
    if let Some(at) = text.find(super::cap::OVERSIZED) {
        let detail = text[at..]
            .split_once("endpoint: ")
            .map_or("too large", |(_, d)| d.lines().next().unwrap_or(d));
        return format!(
            "the AWS endpoint sent an answer {detail}: stopped reading it (check --endpoint-url, AWS_ENDPOINT_URL or a proxy in between)"
        );
    }
    if has(&["sso"]) && has(&["expired", "token", "refresh"]) {
        return format!("AWS SSO session expired or missing: run `aws sso login{profile_arg}`");
    }
    if has(&[
        "no providers in chain",
        "credentialsnotloaded",
        "no credentials",
        "failed to load credentials",
        "could not load credentials",
        "loading credentials",
        "credentials provider",
        "imds",
    ]) {
        return format!(
            "no AWS credentials found: set AWS_PROFILE or --profile, run `aws configure`, or for SSO profiles `aws sso login{profile_arg}`"
        );
    }
    if has(&[
        "expiredtoken",
        "token included in the request is expired",
        "expired token",
    ]) {
        // Not an SSO session (that case is above): temporary keys from the environment, a
        // role or credential_process ran out.
        return "AWS credentials expired: refresh the temporary credentials (environment, role or credential_process) and retry"
            .to_string();
    }
    if has(&[
        "invalidclienttokenid",
        "unrecognizedclient",
        "signaturedoesnotmatch",
    ]) {
        return "AWS rejected the credentials (unknown key or bad signature): check the profile"
            .to_string();
    }
    if has(&["accessdenied", "not authorized", "unauthorizedoperation"]) {
        return match missing_action(text) {
            Some(action) => format!(
                "access denied: the credentials lack {action} (the README lists tminus's IAM policy)"
            ),
            None => format!(
                "access denied: the credentials lack a permission tminus needs (the README lists its IAM policy): {}",
                first_line(text)
            ),
        };
    }
    if has(&[
        "throttl",
        "rate exceeded",
        "toomanyrequests",
        "limitexceeded",
    ]) {
        return match then {
            Then::Retry => "throttled by AWS: backing off and retrying".to_string(),
            Then::Stop { .. } => "throttled by AWS: try again in a minute".to_string(),
        };
    }
    if has(&["timeout", "timed out"]) {
        return match then {
            Then::Retry => "AWS did not answer in time: retrying with backoff".to_string(),
            Then::Stop { endpoint, within } => {
                format!("no answer from {endpoint} within {} s", within.as_secs())
            }
        };
    }
    if has(&[
        "dispatch failure",
        "connection refused",
        "dns error",
        "failed to lookup",
        "connect error",
        "io error",
    ]) {
        return format!("cannot reach the AWS endpoint: {}", first_line(text));
    }
    if has(&["region", "no region"]) && has(&["missing", "not set", "invalid"]) {
        return "no AWS region: set AWS_REGION, --region or `aws: { region: ... }` in the runbook"
            .to_string();
    }
    first_line(text)
}

/// "cloudwatch:GetMetricData" from "... is not authorized to perform: cloudwatch:GetMetricData
/// on resource ...": the one thing to add to the policy, wherever AWS put it in a long message.
fn missing_action(text: &str) -> Option<String> {
    let after = text
        .split("perform: ")
        .nth(1)
        .or_else(|| text.split("perform ").nth(1))?;
    let action: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-' || *c == '*')
        .collect();
    (action.contains(':') && action.len() <= 128).then_some(action)
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    crate::text::truncate(line, 200)
}

#[cfg(test)]
mod tests {
    use super::{Then, explain_for, explain_text};

    #[test]
    fn credential_problems_say_how_to_fix_them() {
        let sso = explain_text(
            "dispatch failure: other: the credential provider was not enabled: SSO token has expired",
            Some("prod"),
        );
        assert_eq!(
            sso,
            "AWS SSO session expired or missing: run `aws sso login --profile prod`"
        );
        let none = explain_text(
            "failed to construct request: no providers in chain provided credentials",
            None,
        );
        assert!(none.starts_with("no AWS credentials found"), "{none}");
        let imds = explain_text(
            "dispatch failure: other: an error occurred while loading credentials: failed to load IMDS session token",
            None,
        );
        assert!(imds.starts_with("no AWS credentials found"), "{imds}");
        assert!(
            explain_text(
                "ExpiredToken: The security token included in the request is expired",
                None
            )
            .starts_with("AWS credentials expired")
        );
        let denied = explain_text(
            "AccessDenied: User is not authorized to perform cloudwatch:GetMetricData",
            None,
        );
        assert_eq!(
            denied,
            "access denied: the credentials lack cloudwatch:GetMetricData (the README lists tminus's IAM policy)"
        );
        // The action is at the end of a long message: it used to be cut off at 200 characters.
        let arn = "arn:aws:sts::123456789012:assumed-role/launch-readonly-with-a-rather-long-role-name/jane.doe@example.com";
        let long = format!(
            "service error: AccessDeniedException: User: {arn} is not authorized to perform: servicequotas:GetServiceQuota because no identity-based policy allows the servicequotas:GetServiceQuota action"
        );
        assert!(long.len() > 200);
        assert_eq!(
            explain_text(&long, Some("prod")),
            "access denied: the credentials lack servicequotas:GetServiceQuota (the README lists tminus's IAM policy)"
        );
        // Expired keys that are not an SSO session are not told to run `aws sso login`.
        let expired = explain_text(
            "ExpiredTokenException: The security token included in the request is expired",
            Some("prod"),
        );
        assert!(expired.starts_with("AWS credentials expired"), "{expired}");
        assert!(!expired.contains("sso"), "{expired}");
        assert!(explain_text("ThrottlingException: Rate exceeded", None).contains("throttled"));
        assert!(
            explain_text(
                "dispatch failure: io error: Connection refused (os error 111)",
                None
            )
            .starts_with("cannot reach")
        );
        assert_eq!(
            explain_text("SomethingElse: odd\nmore detail", None),
            "SomethingElse: odd"
        );
        assert!(
            explain_text(
                "response error: tminus::ResponseCap modify_before_deserialization interceptor encountered an error: oversized answer from the AWS endpoint: larger than 16 MiB",
                None
            )
            .starts_with("the AWS endpoint sent an answer larger than 16 MiB: stopped reading it")
        );
        assert!(
            explain_text(
                "response error: oversized answer from the AWS endpoint: with more than 500000 values",
                None
            )
            .starts_with(
                "the AWS endpoint sent an answer with more than 500000 values: stopped reading it"
            )
        );
    }

    #[test]
    fn one_shot_commands_are_not_told_they_will_retry() {
        let stop = Then::Stop {
            endpoint: "http://127.0.0.1:9",
            within: std::time::Duration::from_secs(20),
        };
        for text in [
            "GetServiceQuota timed out",
            "timeout error: operation timeout",
        ] {
            assert_eq!(
                explain_for(text, None, stop),
                "no answer from http://127.0.0.1:9 within 20 s"
            );
            assert_eq!(
                explain_text(text, None),
                "AWS did not answer in time: retrying with backoff"
            );
        }
        let throttled = explain_for("ThrottlingException: Rate exceeded", None, stop);
        assert_eq!(throttled, "throttled by AWS: try again in a minute");
    }
}
