//! Joining a team's room from the command line, before the war room opens: reads the room's
//! header (writing it when this is the first session), decides what every seat runs (the
//! room's runbook text, T-0, data and seed), and keeps a copy of the header beside the journal
//! so a seat can open, and queue its actions, while the table cannot be reached.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::room::Seat;
use crate::room::RoomMeta;
use crate::room::table::Table;
use crate::run::RoomJoin;

/// How long joining may wait for the table before opening from the cached header.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The header kept beside the journal: `<journal>.room.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    room: String,
    table: String,
    meta: RoomMeta,
}

pub fn cache_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".room.json");
    PathBuf::from(name)
}

/// What joining decided.
pub struct Joined {
    pub join: RoomJoin,
    pub meta: RoomMeta,
}

/// Joins (or, for a watcher, reads) `room` in `table`. `ours` is the header this session would
/// fix if it is the first; a watcher has none and needs the room to exist.
pub fn join(
    aws: &crate::source::aws::AwsSettings,
    table: &str,
    room: &str,
    ours: Option<RoomMeta>,
    journal: &Path,
    seat: Seat,
    operator: &str,
) -> Result<Joined> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (client, got) = rt.block_on(async {
        let mut a = crate::source::aws::Aws::new(aws.clone());
        let client = a.dynamodb(None).await;
        let t = Table::new(client.clone(), table);
        let got = tokio::time::timeout(JOIN_TIMEOUT, async {
            match &ours {
                Some(m) => t.open_room(room, m, Utc::now()).await.map(Some),
                None => t.read_room(room).await,
            }
        })
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the table did not answer within {} s",
                JOIN_TIMEOUT.as_secs()
            ))
        });
        (client, got)
    });
    let cache = cache_path(journal);
    let (meta, offline) = match got {
        Ok(Some(meta)) => {
            let c = Cached {
                room: room.into(),
                table: table.into(),
                meta: meta.clone(),
            };
            // The cache is a convenience for opening offline; failing to write it is said
            // when it is needed, not now.
            if let Some(dir) = cache.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = serde_json::to_vec(&c).map(|b| std::fs::write(&cache, b));
            (meta, None)
        }
        Ok(None) => bail!(
            "there is no room {room:?} in the table {table}: the first seat creates it with `tminus run|demo|rehearse ... --room {room} --room-table {table}`"
        ),
        Err(e) => match read_cache(&cache, room, table) {
            Some(meta) => (meta, Some(crate::text::clean(&e).into_owned())),
            None => bail!(
                "cannot reach the room {room:?} in the DynamoDB table {table}: {} (check --region, --endpoint-url and your credentials; `tminus room create {table}` makes the table)",
                crate::text::clean(&e)
            ),
        },
    };
    Ok(Joined {
        join: RoomJoin {
            table: Table::new(client, table),
            name: room.into(),
            session: crate::run::session_id(operator),
            seat,
            offline,
            notices: Vec::new(),
            runbook_yaml: meta.runbook_yaml.clone(),
        },
        meta,
    })
}

/// The cached header for this room and table, if one was kept (bounded: a header is a
/// runbook, so the runbook's cap with room to spare).
fn read_cache(path: &Path, room: &str, table: &str) -> Option<RoomMeta> {
    let text = crate::limits::read_text(path, 2 * crate::limits::MAX_YAML_BYTES).ok()?;
    let c: Cached = serde_json::from_str(&text).ok()?;
    (c.room == room && c.table == table).then_some(c.meta)
}

/// What this session would fix as the room's header if it is the first to join.
pub struct Offer<'a> {
    pub yaml: &'a str,
    pub t0: DateTime<Utc>,
    /// "live", "simulated" or "rehearsal" (`Mode::data_kind`).
    pub mode: &'a str,
    pub seed: u64,
    pub rehearsal: Option<crate::room::RoomClock>,
}

impl Offer<'_> {
    pub fn header(&self, event_name: &str, operator: &str) -> RoomMeta {
        RoomMeta {
            event_name: event_name.into(),
            runbook_yaml: self.yaml.into(),
            t0: self.t0,
            created_by: operator.into(),
            created_at: Utc::now(),
            mode: self.mode.into(),
            seed: self.seed,
            rehearsal: self.rehearsal,
        }
    }
}

/// The runbook this seat runs: `ours` when its text is the room's, else the room's (and its
/// notify command never runs here: it came over the network), said in `notices`. A watcher
/// has no runbook of its own (`None`).
pub fn room_runbook(
    joined: &mut Joined,
    ours: Option<(&str, crate::runbook::Runbook)>,
) -> Result<crate::runbook::Runbook> {
    let ours_yaml = match ours {
        Some((yaml, rb)) if yaml == joined.meta.runbook_yaml => return Ok(rb),
        Some((yaml, _)) => Some(yaml),
        None => None,
    };
    let label = format!("room {}", joined.join.name);
    let mut rb = crate::limits::check_yaml(&label, &joined.meta.runbook_yaml)
        .map_err(|d| anyhow::anyhow!("{}", crate::diag::render(&[d])))
        .and_then(|()| {
            crate::runbook::parse(&label, &joined.meta.runbook_yaml)
                .map_err(|d| anyhow::anyhow!("{}", crate::diag::render(&d)))
        })
        .with_context(|| format!("the runbook of {label} does not load"))?;
    if rb.escalation.notify.take().is_some() {
        joined.join.notices.push(
            "the room's runbook has a notify command: it came from the room, so it does not run on this seat"
                .into(),
        );
    }
    if ours_yaml.is_some() {
        joined.join.notices.push(format!(
            "this room runs {}'s runbook ({}), which differs from yours: using the room's",
            joined.meta.created_by, joined.meta.event_name
        ));
    }
    Ok(rb)
}
