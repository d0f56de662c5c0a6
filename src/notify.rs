//! The runbook's `escalation.notify` command: run for every alert that opens, turns critical or
//! escalates, with the alert as one JSON object on stdin. It is exec'd directly, never through
//! a shell, so alert text can never become a command.

use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::mpsc::Sender;

use crate::app::alerts::{AlertKey, Severity};
use crate::journal::{Event, Record};
use crate::source::Update;

/// A notify command that takes longer than this is killed: a hung pager script must not pile
/// up processes during an incident.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, PartialEq)]
pub struct Notification<'a> {
    pub event: &'a str,
    /// "live", "simulated", "rehearsal": a script can tell a demo from the real thing.
    pub mode: &'static str,
    pub kind: &'static str,
    /// What the alert is about; absent on a status update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'a AlertKey>,
    /// A status update's three parts, to post to chat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<StatusFields<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub operator: &'a str,
}

/// A status update as the notify command gets it.
#[derive(Debug, Serialize, PartialEq)]
pub struct StatusFields<'a> {
    pub conditions: &'a str,
    pub actions: &'a str,
    pub needs: &'a str,
}

/// The notification for a journal record, if it is one worth paging about (or, for a status
/// update, posting).
pub fn notification<'a>(
    event_name: &'a str,
    mode: crate::app::Mode,
    r: &'a Record,
) -> Option<Notification<'a>> {
    let plain = |kind| Notification {
        event: event_name,
        mode: mode.data_kind(),
        kind,
        key: None,
        update: None,
        severity: None,
        message: None,
        level: None,
        who: None,
        contact: None,
        at: r.ts,
        operator: &r.operator,
    };
    let base = |kind, key: &'a AlertKey| Notification {
        key: Some(key),
        ..plain(kind)
    };
    match &r.event {
        Event::AlertOpened {
            key,
            severity,
            message,
        } => Some(Notification {
            severity: Some(*severity),
            message: Some(message),
            ..base("alert_opened", key)
        }),
        Event::AlertSeverity {
            key,
            severity: Severity::Crit,
            message,
        } => Some(Notification {
            severity: Some(Severity::Crit),
            message: Some(message),
            ..base("alert_critical", key)
        }),
        Event::AlertEscalated {
            key,
            level,
            who,
            contact,
        } => Some(Notification {
            level: Some(*level),
            who: Some(who),
            contact: Some(contact),
            ..base("alert_escalated", key)
        }),
        Event::StatusUpdate {
            conditions,
            actions,
            needs,
        } => Some(Notification {
            update: Some(StatusFields {
                conditions,
                actions,
                needs,
            }),
            ..plain("status_update")
        }),
        _ => None,
    }
}

/// Runs the command for one notification on its own task; failures come back as a health
/// update for the "notify" source so they show on screen instead of vanishing.
pub fn spawn(command: &[String], payload: Vec<u8>, tx: Sender<Update>) {
    let Some((program, args)) = command.split_first() else {
        return;
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    tokio::spawn(async move {
        let result = async {
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("cannot start notify command: {e}"))?;
            if let Some(mut stdin) = child.stdin.take() {
                // A command that ignores stdin is fine; a broken pipe is not an error here.
                let _ = stdin.write_all(&payload).await;
            }
            match tokio::time::timeout(TIMEOUT, child.wait()).await {
                Ok(Ok(status)) if status.success() => Ok(()),
                Ok(Ok(status)) => Err(format!("notify command failed: {status}")),
                Ok(Err(e)) => Err(format!("notify command: {e}")),
                Err(_) => Err(format!(
                    "notify command timed out after {}s and was killed",
                    TIMEOUT.as_secs()
                )),
            }
        }
        .await;
        let _ = tx
            .send(Update::Health {
                source: "notify".into(),
                error: result.err(),
                at: Utc::now(),
            })
            .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_for_opened_critical_and_escalated_alerts_only() {
        let ts = DateTime::parse_from_rfc3339("2026-12-01T17:05:00Z")
            .unwrap()
            .to_utc();
        let rec = |event| Record {
            ts,
            operator: "jane".into(),
            room: None,
            event,
        };
        let key = AlertKey::Metric("p99".into());
        let opened = rec(Event::AlertOpened {
            key: key.clone(),
            severity: Severity::Warn,
            message: "p99 600".into(),
        });
        let json = serde_json::to_string(
            &notification("Launch", crate::app::Mode::Live, &opened).unwrap(),
        )
        .unwrap();
        assert_eq!(
            json,
            r#"{"event":"Launch","mode":"live","kind":"alert_opened","key":{"kind":"metric","id":"p99"},"severity":"warn","message":"p99 600","at":"2026-12-01T17:05:00Z","operator":"jane"}"#
        );
        let esc = rec(Event::AlertEscalated {
            key: key.clone(),
            level: 1,
            who: "SO".into(),
            contact: "+1".into(),
        });
        assert_eq!(
            notification("Launch", crate::app::Mode::Live, &esc)
                .unwrap()
                .kind,
            "alert_escalated"
        );
        assert!(
            notification(
                "Launch",
                crate::app::Mode::Live,
                &rec(Event::AlertAcknowledged { key: key.clone() })
            )
            .is_none()
        );
        let down = rec(Event::AlertSeverity {
            key,
            severity: Severity::Warn,
            message: String::new(),
        });
        assert!(notification("Launch", crate::app::Mode::Live, &down).is_none());
        // The data's kind travels with every notification.
        let sim = notification("Launch", crate::app::Mode::Simulated, &opened).unwrap();
        assert_eq!(sim.mode, "simulated");
    }

    #[tokio::test]
    async fn runs_the_command_with_the_alert_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got.json");
        let script = format!("cat > {}", out.display());
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        spawn(
            &["sh".into(), "-c".into(), script],
            b"{\"a\":1}".to_vec(),
            tx.clone(),
        );
        let Some(Update::Health { source, error, .. }) = rx.recv().await else {
            panic!("no health update")
        };
        assert_eq!((source.as_str(), error), ("notify", None));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"a\":1}");

        spawn(&["/nonexistent/notify".into()], Vec::new(), tx);
        let Some(Update::Health { error, .. }) = rx.recv().await else {
            panic!("no health update")
        };
        assert!(error.unwrap().contains("cannot start"));
    }

    #[test]
    fn a_status_update_goes_to_the_notify_command_with_its_three_parts() {
        let r = Record::new(
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            "raj",
            Event::StatusUpdate {
                conditions: "all green".into(),
                actions: "scaling web".into(),
                needs: "nothing".into(),
            },
        );
        let n = notification("Sale", crate::app::Mode::Live, &r).unwrap();
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["kind"], "status_update");
        assert_eq!(json["update"]["conditions"], "all green");
        assert_eq!(json["update"]["needs"], "nothing");
        assert_eq!(json["operator"], "raj");
        assert!(json.get("key").is_none());
    }
}
