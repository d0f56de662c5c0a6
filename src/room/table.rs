//! The room's DynamoDB table: created once (`tminus room create`), then read and appended to
//! by every tminus in the room. Errors come back as one explained line.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use chrono::{DateTime, Utc};

use super::{Entry, Follower, Outgoing, Presence, RoomMeta, TTL_SECS};
use crate::journal::Record;

/// The most pages one read follows: at DynamoDB's 1 MB a page, enough for any war room's
/// catch-up, and a bound on what an endpoint can make us hold.
const MAX_PAGES: usize = 64;
/// Appends that lose the race this many times in a row give up and say so (the caller keeps
/// the record queued and tries again).
const MAX_ATTEMPTS: usize = 32;

pub struct Table {
    client: Client,
    name: String,
}

/// What `create` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    Existed,
}

fn explain<E>(what: &str, e: &aws_sdk_dynamodb::error::SdkError<E>) -> String
where
    E: std::fmt::Debug
        + std::error::Error
        + aws_sdk_dynamodb::error::ProvideErrorMetadata
        + Send
        + Sync
        + 'static,
{
    match e.as_service_error() {
        Some(s) => match (s.code(), s.message()) {
            (Some(c), Some(m)) => format!("{what}: {c}: {m}"),
            (Some(c), None) => format!("{what}: {c}"),
            _ => format!("{what}: {s}"),
        },
        // The same one-line explanation the other AWS sources give ("cannot reach the AWS
        // endpoint", "no AWS credentials found", ...), not the SDK's cause chain.
        None => format!("{what}: {}", crate::source::aws::errors::explain(e, None)),
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl Table {
    pub fn new(client: Client, name: impl Into<String>) -> Table {
        Table {
            client,
            name: name.into(),
        }
    }

    /// Creates the table (on-demand capacity, TTL on `ttl`) and waits until it is active.
    /// Running it again is harmless.
    pub async fn create(&self) -> Result<Created, String> {
        let def = |name: &str, t: ScalarAttributeType| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(t)
                .build()
                .map_err(|e| e.to_string())
        };
        let key = |name: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(t)
                .build()
                .map_err(|e| e.to_string())
        };
        let created = match self
            .client
            .create_table()
            .table_name(&self.name)
            .attribute_definitions(def("room", ScalarAttributeType::S)?)
            .attribute_definitions(def("seq", ScalarAttributeType::N)?)
            .key_schema(key("room", KeyType::Hash)?)
            .key_schema(key("seq", KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
        {
            Ok(_) => Created::New,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                Created::Existed
            }
            Err(e) => return Err(explain("creating the room table", &e)),
        };
        // Wait for ACTIVE (seconds on AWS, at once on an emulator), at most a minute.
        for _ in 0..60 {
            let d = self
                .client
                .describe_table()
                .table_name(&self.name)
                .send()
                .await
                .map_err(|e| explain("reading the room table", &e))?;
            let active = d
                .table()
                .and_then(|t| t.table_status())
                .is_some_and(|s| s.as_str() == "ACTIVE");
            if active {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name("ttl")
            .build()
            .map_err(|e| e.to_string())?;
        if let Err(e) = self
            .client
            .update_time_to_live()
            .table_name(&self.name)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            // Already enabled is what we want.
            let msg = explain("turning on TTL", &e);
            if !msg.contains("already enabled") {
                return Err(msg);
            }
        }
        Ok(created)
    }

    /// The room's item (seq 0): the runbook and T-0 every joiner uses. The first session
    /// writes `ours`; later ones get what the first wrote.
    pub async fn open_room(
        &self,
        room: &str,
        ours: &RoomMeta,
        now: DateTime<Utc>,
    ) -> Result<RoomMeta, String> {
        let json = serde_json::to_string(ours).map_err(|e| e.to_string())?;
        let put = self
            .client
            .put_item()
            .table_name(&self.name)
            .item("room", s(room))
            .item("seq", n(0))
            .item("meta", s(json))
            .item("ttl", n(now.timestamp() + TTL_SECS))
            .condition_expression("attribute_not_exists(seq)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(ours.clone()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                self.read_room(room)
                    .await?
                    .ok_or_else(|| format!("room {room:?} has no readable header"))
            }
            Err(e) => Err(explain("opening the room", &e)),
        }
    }

    /// The room's header if the room exists (a watcher reads it; it never creates a room).
    pub async fn read_room(&self, room: &str) -> Result<Option<RoomMeta>, String> {
        let got = self
            .client
            .get_item()
            .table_name(&self.name)
            .key("room", s(room))
            .key("seq", n(0))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| explain("reading the room", &e))?;
        match got
            .item()
            .and_then(|i| i.get("meta"))
            .and_then(|v| v.as_s().ok())
        {
            Some(text) => serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("room {room:?}: {e}")),
            None => Ok(None),
        }
    }

    /// Every record after `after`, in order (consistent reads, pages followed).
    pub async fn read_after(&self, room: &str, after: u64) -> Result<Vec<Entry>, String> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("#r = :r AND #s > :s")
                .expression_attribute_names("#r", "room")
                .expression_attribute_names("#s", "seq")
                .expression_attribute_values(":r", s(room))
                .expression_attribute_values(":s", n(after))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| explain("reading the room", &e))?;
            for item in page.items() {
                out.push(entry(item).map_err(|e| format!("room {room:?}: {e}"))?);
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Appends `out` at the next free place and returns its place. What others wrote before
    /// it that `follower` had not seen goes into `missed` (to fold first), as soon as it is
    /// read: the follower has moved past it, so it must reach the war room even when this
    /// call fails or is cut short later. A write that had landed before (a retry) is found,
    /// not repeated.
    pub async fn append(
        &self,
        room: &str,
        follower: &mut Follower,
        out: &Outgoing,
        now: DateTime<Utc>,
        missed: &mut Vec<Entry>,
    ) -> Result<u64, String> {
        let json = serde_json::to_string(&out.record).map_err(|e| e.to_string())?;
        for _ in 0..MAX_ATTEMPTS {
            if let Some(seq) = follower.seq_of(&out.id) {
                return Ok(seq);
            }
            let seq = follower.seen + 1;
            let put = self
                .client
                .put_item()
                .table_name(&self.name)
                .item("room", s(room))
                .item("seq", n(seq))
                .item("id", s(&out.id))
                .item("record", s(&json))
                .item("ttl", n(now.timestamp() + TTL_SECS))
                .condition_expression("attribute_not_exists(seq)")
                .send()
                .await;
            match put {
                Ok(_) => {
                    follower.take(vec![Entry {
                        seq,
                        id: out.id.clone(),
                        record: out.record.clone(),
                    }]);
                    return Ok(seq);
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    let newer = self.read_after(room, follower.seen).await?;
                    missed.extend(follower.take(newer));
                }
                Err(e) => return Err(explain("writing to the room", &e)),
            }
        }
        Err(format!(
            "writing to the room: lost the race {MAX_ATTEMPTS} times in a row; queued, will retry"
        ))
    }
}

impl Table {
    /// Writes this seat's presence item (every few seconds while the war room is open).
    pub async fn put_seat(&self, room: &str, seat: &Presence) -> Result<(), String> {
        let json = serde_json::to_string(seat).map_err(|e| e.to_string())?;
        self.client
            .put_item()
            .table_name(&self.name)
            .item("room", s(format!("{room}#seats")))
            .item("seq", n(super::seat_number(&seat.session)))
            .item("seat", s(json))
            .item("ttl", n(seat.last_seen.timestamp() + TTL_SECS))
            .send()
            .await
            .map_err(|e| explain("writing presence", &e))?;
        Ok(())
    }

    /// Every seat's presence item (one page: a room has tens of seats, not thousands).
    pub async fn seats(&self, room: &str) -> Result<Vec<Presence>, String> {
        let page = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("#r = :r")
            .expression_attribute_names("#r", "room")
            .expression_attribute_values(":r", s(format!("{room}#seats")))
            .send()
            .await
            .map_err(|e| explain("reading presence", &e))?;
        Ok(page
            .items()
            .iter()
            .filter_map(|i| i.get("seat")?.as_s().ok())
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect())
    }
}

/// A log item as an entry; the room's own item (seq 0) is not one.
fn entry(item: &HashMap<String, AttributeValue>) -> Result<Entry, String> {
    let seq: u64 = item
        .get("seq")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or("an item without a sequence number")?;
    let id = item
        .get("id")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let record: Record = match item.get("record").and_then(|v| v.as_s().ok()) {
        Some(text) => serde_json::from_str(text).map_err(|e| format!("record {seq}: {e}"))?,
        None if seq == 0 => return Err("the room header is not a record".into()),
        None => return Err(format!("record {seq} has no body")),
    };
    Ok(Entry { seq, id, record })
}
