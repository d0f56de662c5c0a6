//! The war room's state: what the UI reads. Mutated only by `App::update` (see `update.rs`).

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::app::alerts::{Alert, Episode, Severity};
use crate::journal::Record;
use crate::runbook::model::{Item, Metric, Quota, Runbook};
use crate::source::{AlarmState, Sample};
use crate::time::TOffset;

/// Points kept per metric: at 10 s resolution, two hours; bounded whatever the source sends.
pub const SERIES_CAPACITY: usize = 720;
/// Journal records kept in memory for the timeline pane.
pub const TIMELINE_CAPACITY: usize = 500;

/// The kind of session: where data comes from, and with it every side effect it may have.
/// The policies below are the only place that decides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Simulated,
    Live,
    /// A game day: simulated data with injected faults, on a clock that may run faster.
    Rehearsal,
    /// A recorded session played back (`tminus replay`), on a clock that may run faster.
    Replay,
}

impl Mode {
    /// Whether alerts run the runbook's notify command. Live: always. Simulated data and game
    /// days: only when the operator asked (`--notify`), so a demo never pages the real on-call.
    /// A replay: never. Its runbook comes from the recording, a file someone sent: data, not
    /// commands.
    pub fn runs_notify(self, asked: bool) -> bool {
        match self {
            Mode::Live => true,
            Mode::Simulated | Mode::Rehearsal => asked,
            Mode::Replay => false,
        }
    }

    /// Whether AWS writes (quota increase requests) can be made at all; `--allow-writes` and
    /// a confirmation are needed on top.
    pub fn can_write_aws(self) -> bool {
        self == Mode::Live
    }

    /// How the notify JSON and the journal name the session's data.
    pub fn data_kind(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Simulated => "simulated",
            Mode::Rehearsal => "rehearsal",
            Mode::Replay => "replay",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Simulated => "SIMULATED",
            Mode::Live => "LIVE",
            Mode::Rehearsal => "REHEARSAL",
            Mode::Replay => "REPLAY",
        }
    }
}

#[cfg(test)]
mod mode_tests {
    use super::Mode;

    #[test]
    fn only_live_data_pages_or_writes_unless_asked_and_a_replay_never() {
        let all = [Mode::Live, Mode::Simulated, Mode::Rehearsal, Mode::Replay];
        let notify: Vec<(bool, bool)> = all
            .iter()
            .map(|m| (m.runs_notify(false), m.runs_notify(true)))
            .collect();
        assert_eq!(
            notify,
            [(true, true), (false, true), (false, true), (false, false)]
        );
        let writes: Vec<bool> = all.iter().map(|m| m.can_write_aws()).collect();
        assert_eq!(writes, [true, false, false, false]);
    }
}

/// A metric's health as shown in its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    Warn,
    Crit,
    /// Data is older than it should be: the value shown may no longer be true.
    Stale,
    NoData,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "WARN",
            Status::Crit => "CRIT",
            Status::Stale => "stale",
            Status::NoData => "no data",
        }
    }
    pub fn from_severity(s: Option<Severity>) -> Status {
        match s {
            None => Status::Ok,
            Some(Severity::Warn) => Status::Warn,
            Some(Severity::Crit) => Status::Crit,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MetricState {
    /// Oldest first, strictly increasing timestamps, at most `SERIES_CAPACITY`.
    pub series: VecDeque<Sample>,
    /// When the last update for this metric arrived (as opposed to the time of its data).
    pub received_at: Option<DateTime<Utc>>,
    /// Threshold severity of the latest settled value, with hysteresis.
    pub severity: Option<Severity>,
    /// What the source said about the data (e.g. CloudWatch PartialData), shown with the row.
    pub note: Option<String>,
    /// Points at or after this are provisional (see `crate::signal`); `None`: all settled.
    pub settled_to: Option<DateTime<Utc>>,
    /// The alert episode folded from the settled points.
    pub episode: Episode,
}

impl MetricState {
    /// The newest point, settled or not: what the sparkline ends on and how fresh data is.
    pub fn latest(&self) -> Option<Sample> {
        self.series.back().copied()
    }

    pub fn is_settled(&self, s: &Sample) -> bool {
        self.settled_to.is_none_or(|t| s.at < t)
    }

    /// The newest settled point: the value alerts, quota usage and `verify:` are decided on.
    pub fn latest_settled(&self) -> Option<Sample> {
        self.series
            .iter()
            .rev()
            .find(|s| self.is_settled(s))
            .copied()
    }

    /// The provisional points (a bucket still filling, or not yet past its settle delay).
    /// They are the newest, so this walks back from the end only as far as they go (the
    /// metrics pane asks every frame).
    pub fn provisional(&self) -> impl Iterator<Item = &Sample> {
        self.series.iter().rev().take_while(|s| !self.is_settled(s))
    }
}

#[derive(Debug, Clone, Default)]
pub struct QuotaState {
    pub value: Option<f64>,
    pub usage: Option<f64>,
    pub at: Option<DateTime<Utc>>,
    pub severity: Option<Severity>,
    pub episode: Episode,
    /// Recent (time, usage) for the growth-rate forecast.
    pub history: VecDeque<(DateTime<Utc>, f64)>,
    /// The latest increase request from this war room: (desired value, status).
    pub request: Option<(f64, String)>,
    /// Whether AWS takes increase requests for it (Service Quotas' `Adjustable`), when known.
    pub adjustable: Option<bool>,
    /// A rate quota's period in seconds (per second: 1, per minute: 60).
    pub period_secs: Option<i64>,
    /// The value is the AWS default: the account has none applied.
    pub is_default: bool,
}

impl QuotaState {
    /// Used share of the quota in percent, when both value and usage are known.
    pub fn used_pct(&self) -> Option<f64> {
        crate::app::alerts::quota_used_pct(self.value, self.usage)
    }
    /// Free share of the quota in percent.
    pub fn headroom_pct(&self) -> Option<f64> {
        crate::app::alerts::quota_headroom_pct(self.value, self.usage)
    }
    /// Seconds until usage reaches the quota at the recent growth rate; None when not growing.
    pub fn seconds_to_exhaustion(&self) -> Option<i64> {
        let (first, last) = (self.history.front()?, self.history.back()?);
        let dt = (last.0 - first.0).num_seconds();
        let value = self.value?;
        if dt <= 0 {
            return None;
        }
        let rate = (last.1 - first.1) / dt as f64;
        if rate <= 0.0 || !rate.is_finite() {
            return None;
        }
        let left = (value - last.1).max(0.0);
        let secs = left / rate;
        (secs < 1e9).then_some(secs as i64)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmView {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    pub changed_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    Todo,
    InProgress,
    Done,
    Skipped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemState {
    pub status: ItemStatus,
    pub skip_reason: Option<String>,
    /// Who last changed it and when.
    pub changed: Option<(String, DateTime<Utc>)>,
    /// Ticked by its `verify:` rule.
    pub auto: bool,
    /// Who set it and where that record stands in the room's order (`None`: a record outside
    /// the room's log, such as a data-verified tick or anything outside rooms).
    pub by: Option<crate::app::room::Doer>,
}

impl ItemState {
    /// Where the record that set it stands in the room's order.
    pub fn pos(&self) -> crate::app::room::Pos {
        crate::app::room::Doer::pos_of(self.by.as_ref())
    }
}

impl Default for ItemState {
    fn default() -> Self {
        Self {
            status: ItemStatus::Todo,
            skip_reason: None,
            changed: None,
            auto: false,
            by: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SourceHealth {
    pub last_ok: Option<DateTime<Utc>>,
    /// The last error and when it happened; cleared by the next success.
    pub error: Option<(String, DateTime<Utc>)>,
    /// When the current run of failures began (None while healthy).
    pub failing_since: Option<DateTime<Utc>>,
    /// (when, API calls, metrics requested) over the last hour, for the cost estimate.
    pub requests: VecDeque<(DateTime<Utc>, u64, u64)>,
}

/// A source failing this long opens an alert: one failed refresh is noise, a minute of them
/// means the war room is blind to what the source feeds.
pub const SOURCE_ALERT_AFTER_SECS: i64 = 60;

/// USD per metric requested through GetMetricData (USD 0.01 per 1,000, public price).
pub const USD_PER_METRIC_REQUESTED: f64 = 0.01 / 1000.0;

impl SourceHealth {
    /// (API calls, metrics requested) per hour at the rate of the last hour (or of the time
    /// since the first request, if shorter). None before any request.
    pub fn hourly(&self, now: DateTime<Utc>) -> Option<(f64, f64)> {
        let first = self.requests.front()?.0;
        let span = (now - first).num_seconds().clamp(60, 3600) as f64;
        let (calls, metrics) = self
            .requests
            .iter()
            .fold((0u64, 0u64), |(c, m), r| (c + r.1, m + r.2));
        Some((calls as f64 * 3600.0 / span, metrics as f64 * 3600.0 / span))
    }
}

/// Panes that take focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Checklist,
    Metrics,
    Quotas,
    Alarms,
    Timeline,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Checklist,
        Pane::Metrics,
        Pane::Quotas,
        Pane::Alarms,
        Pane::Timeline,
    ];
    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
    pub fn title(self) -> &'static str {
        match self {
            Pane::Checklist => "Checklist",
            Pane::Metrics => "Metrics",
            Pane::Quotas => "Quota headroom",
            Pane::Alarms => "Alarms",
            Pane::Timeline => "Timeline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPurpose {
    /// Reason for skipping the item with this id.
    SkipReason(String),
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Overlay {
    #[default]
    None,
    Help,
    Input {
        purpose: InputPurpose,
        text: String,
    },
    ConfirmQuit,
    /// Requesting a quota increase: the quota (index) and the value typed so far.
    IncreaseQuota {
        quota: usize,
        text: String,
    },
    /// A go/no-go vote: GO or NO-GO (Tab switches) and the reason typed so far.
    Vote {
        go: bool,
        text: String,
    },
    /// A status update: conditions, actions, needs; `field` is the one being typed.
    StatusUpdate {
        field: usize,
        texts: [String; 3],
    },
    /// Taking a role from the runbook: the one selected.
    PickRole {
        selected: usize,
    },
    /// The banner's alert in full: the whole escalation ladder, who and how to reach them.
    AlertCard,
}

/// Work the app asks the event loop to do outside itself (it never calls AWS directly).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    RequestQuotaIncrease {
        quota: usize,
        service: String,
        code: String,
        region: Option<String>,
        desired: f64,
    },
    /// Replay only: jump the replay clock forward.
    Seek { secs: i64 },
}

#[derive(Debug, Clone, Default)]
pub struct UiState {
    pub focus: Option<Pane>,
    /// Selected row per pane, indexed by `Pane::index`.
    pub selected: [usize; 5],
    /// The focused pane fills the body (metrics: a full chart of the selected metric).
    pub zoomed: bool,
    /// The wall view (`w`, `--wall`): the war room drawn big for a projector or a TV.
    pub wall: bool,
    pub overlay: Overlay,
    /// Terminal size, for mouse hit-testing with the same layout the renderer uses.
    pub size: (u16, u16),
    /// A one-line message for the operator (e.g. why an action was refused), with its time.
    pub flash: Option<(String, DateTime<Utc>)>,
}

impl UiState {
    pub fn focused(&self) -> Pane {
        self.focus.unwrap_or(Pane::Checklist)
    }
    pub fn selected(&self, pane: Pane) -> usize {
        self.selected[pane.index()]
    }
}

/// A checklist item with where it sits in the runbook.
#[derive(Debug, Clone, Copy)]
pub struct ItemRef<'a> {
    pub checklist: usize,
    pub item: &'a Item,
    pub state: &'a ItemState,
    pub overdue: bool,
}

pub struct App {
    pub runbook: Runbook,
    pub runbook_path: String,
    pub t0: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub operator: String,
    pub mode: Mode,
    pub journal: Box<dyn crate::journal::JournalSink>,
    pub metrics: Vec<MetricState>,
    pub quotas: Vec<QuotaState>,
    pub alarms: BTreeMap<String, AlarmView>,
    /// Each alarm's alert episode: an alarm that flips back and forth stays one alert.
    pub(crate) alarm_episodes: BTreeMap<String, Episode>,
    /// Per runbook checklist, per item.
    pub items: Vec<Vec<ItemState>>,
    /// Open alerts and the recently closed ones (bounded), newest last.
    pub alerts: Vec<Alert>,
    pub timeline: VecDeque<Record>,
    pub sources: BTreeMap<String, SourceHealth>,
    pub phase: Option<usize>,
    pub ui: UiState,
    /// `--allow-writes`: quota increase requests may be sent (each still confirmed).
    pub allow_writes: bool,
    /// Where live data comes from ("us-east-1 · profile prod"), for the header.
    pub data_label: Option<String>,
    /// How many times real time the clock runs: 1 except in a rehearsal at `--speed N`.
    pub speed: f64,
    pub should_quit: bool,
    /// Set by every change that the screen shows; cleared by the renderer's caller.
    pub dirty: bool,
    pub(crate) verify: Vec<crate::app::update::VerifyRule>,
    /// The last phase the journal recorded, so a restart does not record it again.
    pub(crate) last_phase_journalled: Option<String>,
    /// Records journalled by this session and not yet taken by the event loop (for notify).
    pub(crate) outbox: Vec<Record>,
    /// Observed events applied but not yet in the journal (it could not be written), oldest
    /// first; retried on every update.
    pub unsaved: VecDeque<Record>,
    /// Waiting events dropped because the journal failed for too long (`UNSAVED_KEPT`).
    pub unsaved_dropped: usize,
    /// Commands for the event loop (AWS writes), taken with `take_commands`.
    pub(crate) commands: Vec<Command>,
    /// Rehearsal fault notices already journalled: (fault id, began), so none is written twice.
    pub(crate) faults_journalled: std::collections::HashSet<(String, bool)>,
    /// The capacity plan, once its source has read the history.
    pub plan: Option<crate::capacity::Plan>,
    /// What each phase's live polling costs (`tminus cost`), computed once for the cost meter.
    pub phase_costs: Vec<crate::source::aws::plan::PhaseCost>,
    /// Alone, a member of a team room, or watching one.
    pub seat: crate::app::room::Seat,
    /// The team's room, when this war room is in one.
    pub room: Option<crate::app::room::RoomState>,
    /// The go/no-go poll: each role's standing vote.
    pub votes: BTreeMap<String, VoteState>,
    /// Which role each operator holds (their latest `role_taken`).
    pub roles_held: BTreeMap<String, RoleHeld>,
    /// Who acknowledged each open alert, and where that stands in the room's order.
    pub(crate) acked_by:
        std::collections::HashMap<crate::app::alerts::AlertKey, crate::app::room::Doer>,
    /// The latest status update: when and by whom.
    pub last_update: Option<(DateTime<Utc>, String)>,
    /// Acknowledgements from the room of alerts not yet open here, with their place in the log
    /// (see `App::take_early_ack`).
    pub(crate) early_acks: VecDeque<(Record, crate::app::room::Pos)>,
    /// When this war room first opened (its journal's first session, else now).
    pub opened_at: DateTime<Utc>,
    /// The due time of the status update the scribe was last reminded of.
    pub(crate) update_reminded: Option<DateTime<Utc>>,
}

/// A role's standing vote in the go/no-go poll.
#[derive(Debug, Clone, PartialEq)]
pub struct VoteState {
    pub vote: crate::journal::Vote,
    pub reason: String,
    pub operator: String,
    pub at: DateTime<Utc>,
    /// Where the vote stands in the room's order (`None` outside rooms).
    pub by: Option<crate::app::room::Doer>,
}

/// The role an operator holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleHeld {
    pub role: String,
    /// Where taking it stands in the room's order (`None` outside rooms).
    pub by: Option<crate::app::room::Doer>,
}

impl App {
    pub fn offset(&self) -> TOffset {
        TOffset::between(self.t0, self.now)
    }

    /// Where the capacity plan puts `quota`'s usage at the event's peak: percent of its
    /// current value (the live one when known), and the forecast multiplier.
    pub fn quota_projection(&self, quota: &crate::runbook::model::Quota) -> Option<(f64, f64)> {
        let plan = self.plan.as_ref()?;
        let q = plan
            .quotas
            .iter()
            .find(|p| p.code == quota.code && p.service == quota.service)?;
        let value = self
            .runbook
            .quotas
            .iter()
            .position(|d| d.code == quota.code && d.service == quota.service)
            .and_then(|i| self.quotas.get(i)?.value)
            .or(q.value)?;
        let pct = crate::thresholds::quota_used_pct(Some(value), q.projected)?;
        Some((pct, q.forecast))
    }

    /// How often `def` is read now: live polling follows the event (`signal::poll_every`);
    /// other sessions' data arrives every period.
    pub fn poll_every(&self, def: &Metric) -> i64 {
        match self.mode {
            Mode::Live => {
                crate::signal::poll_every(&self.runbook, self.offset().secs(), def.period)
            }
            _ => i64::from(def.period),
        }
    }

    pub fn phase_name(&self) -> &str {
        self.phase
            .and_then(|p| self.runbook.phases.get(p))
            .map(|p| p.name.as_str())
            .unwrap_or("Countdown")
    }

    /// Shown metrics (hidden helper queries left out): (runbook index, definition, state).
    pub fn visible_metrics(&self) -> Vec<(usize, &Metric, &MetricState)> {
        self.runbook
            .metrics
            .iter()
            .zip(&self.metrics)
            .enumerate()
            .filter(|(_, (m, _))| !m.hidden)
            .map(|(i, (m, s))| (i, m, s))
            .collect()
    }

    pub fn quota_rows(&self) -> Vec<(&Quota, &QuotaState)> {
        self.runbook.quotas.iter().zip(&self.quotas).collect()
    }

    /// Status of a metric for display, taking data age into account.
    pub fn metric_status(&self, index: usize) -> Status {
        let (Some(def), Some(st)) = (self.runbook.metrics.get(index), self.metrics.get(index))
        else {
            return Status::NoData;
        };
        match st.latest() {
            None => Status::NoData,
            Some(s)
                if (self.now - s.at).num_seconds()
                    > stale_after_secs(def, self.poll_every(def)) =>
            {
                Status::Stale
            }
            Some(_) => Status::from_severity(st.severity),
        }
    }

    /// Checklist indices in display order: the current phase's lists first, then the rest in
    /// runbook order.
    pub fn checklist_order(&self) -> Vec<usize> {
        let current = self.phase_name().to_lowercase();
        let belongs = |i: usize| {
            let c = &self.runbook.checklists[i];
            let p = c.phase.as_deref().unwrap_or(&c.name);
            normalise(p) == normalise(&current)
        };
        let mut order: Vec<usize> = (0..self.runbook.checklists.len())
            .filter(|&i| belongs(i))
            .collect();
        order.extend((0..self.runbook.checklists.len()).filter(|&i| !belongs(i)));
        order
    }

    /// Every item in display order. The checklist pane's selection indexes into this.
    pub fn visible_items(&self) -> Vec<ItemRef<'_>> {
        let mut out = Vec::new();
        for c in self.checklist_order() {
            for (i, item) in self.runbook.checklists[c].items.iter().enumerate() {
                let state = &self.items[c][i];
                out.push(ItemRef {
                    checklist: c,
                    item,
                    state,
                    overdue: self.is_overdue(item, state),
                });
            }
        }
        out
    }

    pub fn is_overdue(&self, item: &Item, state: &ItemState) -> bool {
        matches!(state.status, ItemStatus::Todo | ItemStatus::InProgress)
            && item.due.is_some_and(|d| self.now > d.at(self.t0))
    }

    /// "3 overdue in Pre-flight · oldest 45m: Freeze deploys, Scale web, Warm caches": the
    /// roll-up alert's card, from the state now.
    pub fn overdue_summary(&self, checklist: &str) -> Option<String> {
        let c = self
            .runbook
            .checklists
            .iter()
            .position(|l| l.name == checklist)?;
        let late: Vec<&Item> = self.runbook.checklists[c]
            .items
            .iter()
            .enumerate()
            .filter(|(i, item)| self.is_overdue(item, &self.items[c][*i]))
            .map(|(_, item)| item)
            .collect();
        if late.is_empty() {
            return None;
        }
        let oldest = late
            .iter()
            .filter_map(|i| i.due)
            .min()
            .map(|d| {
                let secs = (self.now - d.at(self.t0)).num_seconds().max(0);
                format!(" · oldest {}", crate::time::Span(secs))
            })
            .unwrap_or_default();
        let titles: Vec<&str> = late.iter().map(|i| i.title.as_str()).collect();
        Some(format!(
            "{} overdue in {checklist}{oldest}: {}",
            late.len(),
            titles.join(", ")
        ))
    }

    pub fn overdue_count(&self) -> usize {
        self.visible_items().iter().filter(|r| r.overdue).count()
    }

    /// Share of checklist items done or skipped, in percent; None when there are no items.
    pub fn readiness_pct(&self) -> Option<f64> {
        let all: Vec<&ItemState> = self.items.iter().flatten().collect();
        if all.is_empty() {
            return None;
        }
        let complete = all
            .iter()
            .filter(|s| matches!(s.status, ItemStatus::Done | ItemStatus::Skipped))
            .count();
        Some(complete as f64 * 100.0 / all.len() as f64)
    }

    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.is_open())
    }

    /// The alert the banner shows: unacknowledged before acknowledged, then most severe, then
    /// highest escalation level, then oldest.
    pub fn top_alert(&self) -> Option<&Alert> {
        self.open_alerts().min_by_key(|a| {
            (
                a.acked.is_some(),
                std::cmp::Reverse(a.severity),
                std::cmp::Reverse(a.level),
                a.opened_at,
            )
        })
    }

    /// Age in seconds of the freshest data of a source kind, for panel titles.
    pub fn age_secs(&self, at: Option<DateTime<Utc>>) -> Option<i64> {
        at.map(|t| (self.now - t).num_seconds().max(0))
    }
}

/// A metric whose newest point is older than this many seconds is stale: the bucket being
/// filled, its settle delay, and two more periods (at least two minutes) in which nothing came.
/// How old a metric's newest settled point may be before it shows as stale: a period, the
/// settle delay and a margin, plus whatever slower polling adds (`poll_every` seconds between
/// reads instead of one period, far from T-0).
pub fn stale_after_secs(m: &Metric, poll_every: i64) -> i64 {
    let period = i64::from(m.period);
    period + crate::signal::settle_secs(m) + (2 * period).max(120) + (poll_every - period).max(0)
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
