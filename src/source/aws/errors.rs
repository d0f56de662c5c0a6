//! AWS failures in one line an operator can act on, instead of an SDK debug dump.

use std::error::Error;

/// The whole cause chain as text, for matching.
fn chain(err: &(dyn Error + 'static)) -> String {
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
    let text = chain(err);
    explain_text(&text, profile)
}

pub fn explain_text(text: &str, profile: Option<&str>) -> String {
    let lower = text.to_lowercase();
    let profile_arg = profile
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(&n.to_lowercase()));
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
        return format!(
            "AWS credentials expired: refresh them (for SSO: `aws sso login{profile_arg}`)"
        );
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
        return format!(
            "access denied: the credentials lack a permission tminus needs (see the IAM policy in the README): {}",
            first_line(text)
        );
    }
    if has(&[
        "throttl",
        "rate exceeded",
        "toomanyrequests",
        "limitexceeded",
    ]) {
        return "throttled by AWS: backing off and retrying".to_string();
    }
    if has(&["timeout", "timed out"]) {
        return "AWS did not answer in time: retrying with backoff".to_string();
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

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    crate::ui::text::truncate(line, 200)
}

#[cfg(test)]
mod tests {
    use super::explain_text;

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
        assert!(
            explain_text(
                "AccessDenied: User is not authorized to perform cloudwatch:GetMetricData",
                None
            )
            .contains("IAM policy")
        );
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
    }
}
