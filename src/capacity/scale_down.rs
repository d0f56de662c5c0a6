//! The scale-down list after the event: the quota increases that were requested, and the
//! items done that the runbook says how to revert (`revert:`), each to revert or keep. Pure:
//! read from a journal's records.

use chrono::{DateTime, Utc};

use crate::journal::{Event, Record};
use crate::runbook::Runbook;

/// A quota increase requested through the war room, with the last status AWS gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    pub code: String,
    pub service: String,
    pub current: Option<f64>,
    pub desired: f64,
    pub at: DateTime<Utc>,
    pub by: String,
    pub status: Option<String>,
}

/// An item that was done and that the runbook says how to undo.
#[derive(Debug, Clone, PartialEq)]
pub struct ToRevert {
    pub title: String,
    pub done_at: DateTime<Utc>,
    pub by: String,
    pub revert: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScaleDown {
    pub requested: Vec<Requested>,
    pub revert: Vec<ToRevert>,
}

/// Over every session in the journal (preparation spans days): requests in order, and items
/// done (and not reopened since) that carry `revert:`. Items the war room added (the capacity
/// plan's requests) count too.
pub fn scale_down(rb: &Runbook, records: &[Record]) -> ScaleDown {
    let rb = crate::journal::with_added_items(rb, records);
    let mut out = ScaleDown::default();
    let mut done: Vec<(String, DateTime<Utc>, String)> = Vec::new();
    for r in records {
        match &r.event {
            Event::QuotaIncreaseRequested {
                service,
                code,
                current,
                desired,
            } => out.requested.push(Requested {
                code: code.clone(),
                service: service.clone(),
                current: *current,
                desired: *desired,
                at: r.ts,
                by: r.operator.clone(),
                status: None,
            }),
            Event::QuotaRequestStatus { code, status, .. } => {
                if let Some(q) = out.requested.iter_mut().rev().find(|q| &q.code == code) {
                    q.status = Some(status.clone());
                }
            }
            Event::ItemDone { item, .. } => {
                done.retain(|(i, ..)| i != item);
                done.push((item.clone(), r.ts, r.operator.clone()));
            }
            Event::ItemReopened { item } | Event::ItemSkipped { item, .. } => {
                done.retain(|(i, ..)| i != item)
            }
            _ => {}
        }
    }
    for (id, at, by) in done {
        let item = rb
            .checklists
            .iter()
            .flat_map(|c| &c.items)
            .find(|i| i.id == id);
        if let Some((item, revert)) = item.and_then(|i| Some((i, i.revert.clone()?))) {
            out.revert.push(ToRevert {
                title: item.title.clone(),
                done_at: at,
                by,
                revert,
            });
        }
    }
    out
}

/// The list as text for a terminal (cleaned) under a heading line.
pub fn table(rb: &Runbook, s: &ScaleDown) -> String {
    let t0 = rb.event.starts_at;
    let when = |at: DateTime<Utc>| crate::time::TOffset::between(t0, at).to_string();
    let mut out = format!(
        "Scale-down after {}: {} increase(s) requested, {} item(s) to revert or keep\n",
        crate::text::clean(&rb.event.name),
        s.requested.len(),
        s.revert.len()
    );
    if !s.requested.is_empty() {
        out.push('\n');
        let mut rows = vec![
            [
                "QUOTA",
                "SERVICE",
                "FROM",
                "TO",
                "REQUESTED",
                "BY",
                "STATUS",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for q in &s.requested {
            rows.push(vec![
                q.code.clone(),
                q.service.clone(),
                q.current
                    .map(crate::format::value)
                    .unwrap_or_else(|| "—".into()),
                crate::format::value(q.desired),
                when(q.at),
                q.by.clone(),
                q.status.clone().unwrap_or_else(|| "sent".into()),
            ]);
        }
        out.push_str(&crate::text::columns(&rows));
    }
    if !s.revert.is_empty() {
        out.push('\n');
        let mut rows = vec![
            ["DONE", "BY", "ITEM", "TO REVERT"]
                .map(String::from)
                .to_vec(),
        ];
        for i in &s.revert {
            rows.push(vec![
                when(i.done_at),
                i.by.clone(),
                i.title.clone(),
                i.revert.clone(),
            ]);
        }
        out.push_str(&crate::text::columns(&rows));
    }
    if s.requested.is_empty() && s.revert.is_empty() {
        out.push_str("\nNothing to scale down: no increase was requested and no item with `revert:` was done.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn requests_and_done_items_with_revert_are_listed_reopened_ones_not() {
        let rb = crate::runbook::parse(
            "t.yaml",
            "event: { name: Sale, starts_at: 2026-12-01T17:00:00Z }
checklists:
  - name: Pre-scale
    items:
      - { id: asg, title: Pre-scale web ASG to 24, revert: Scale web ASG back to 12 }
      - { id: warm, title: Warm caches, revert: nothing to undo }
      - { id: freeze, title: Freeze deploys }
",
        )
        .unwrap();
        let t0 = rb.event.starts_at;
        let rec = |m: i64, event: Event| Record {
            ts: t0 + Duration::minutes(m),
            operator: "jane".into(),
            room: None,
            event,
        };
        let done = |id: &str| Event::ItemDone {
            item: id.into(),
            auto: false,
        };
        let records = vec![
            rec(-120, done("asg")),
            rec(-110, done("warm")),
            rec(-100, done("freeze")),
            rec(
                -90,
                Event::ItemReopened {
                    item: "warm".into(),
                },
            ),
            rec(
                -80,
                Event::QuotaIncreaseRequested {
                    service: "lambda".into(),
                    code: "L-B99A9384".into(),
                    current: Some(1000.0),
                    desired: 5000.0,
                },
            ),
            rec(
                -70,
                Event::QuotaRequestStatus {
                    code: "L-B99A9384".into(),
                    status: "APPROVED".into(),
                    request_id: Some("r-1".into()),
                },
            ),
        ];
        let s = scale_down(&rb, &records);
        assert_eq!(s.revert.len(), 1, "{s:?}");
        assert_eq!(s.revert[0].revert, "Scale web ASG back to 12");
        assert_eq!(s.requested.len(), 1);
        assert_eq!(s.requested[0].status.as_deref(), Some("APPROVED"));
        let text = table(&rb, &s);
        assert!(
            text.contains("L-B99A9384  lambda   1000  5000  T-1h20m    jane  APPROVED"),
            "{text}"
        );
        assert!(
            text.contains("Pre-scale web ASG to 24  Scale web ASG back to 12"),
            "{text}"
        );
        assert!(
            !text.contains("Warm caches") && !text.contains("Freeze deploys"),
            "{text}"
        );
    }
}
