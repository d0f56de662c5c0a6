//! `App::update`: the one place state changes. No terminal I/O here; the only I/O is the
//! journal append, which must succeed before an operator action is applied.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::alerts::{self, Alert, AlertKey, Severity};
use super::state::*;
use crate::journal::{Event, JournalSink, Record};
use crate::runbook::model::Runbook;
use crate::source::{AlarmState, Sample, Update};

/// Closed alerts kept for the screen; the journal keeps them all.
const CLOSED_ALERTS_KEPT: usize = 100;
/// Quota usage points kept for the time-to-exhaustion forecast.
const QUOTA_HISTORY: usize = 60;
/// Quota headroom alerts: low headroom must hold in two of three readings, and the alert
/// closes after five minutes of enough headroom.
const QUOTA_RULE: alerts::EpisodeRule = alerts::EpisodeRule {
    datapoints: alerts_default_breach().0,
    of: alerts_default_breach().1,
    clear_after_secs: crate::signal::DEFAULT_CLEAR_SECS,
};

const fn alerts_default_breach() -> (usize, usize) {
    (
        crate::signal::DEFAULT_BREACH.datapoints as usize,
        crate::signal::DEFAULT_BREACH.of as usize,
    )
}

/// Merges a source's points into a metric's series. An update that says what is settled is
/// authoritative from the previous settled boundary on (a provisional point it no longer
/// carries is dropped); settled buckets with no datapoint get the metric's fill value (sparse
/// counters: no datapoint means zero). Timestamps stay strictly increasing and bounded.
fn merge_points(
    st: &mut MetricState,
    def: &crate::runbook::model::Metric,
    points: Vec<Sample>,
    settled_to: Option<DateTime<Utc>>,
) {
    let previous = st.settled_to;
    if let (Some(_), Some(prev)) = (settled_to, previous) {
        st.series.retain(|p| p.at < prev);
    }
    let first = points.iter().map(|p| p.at).min();
    for p in points {
        insert_point(&mut st.series, p);
    }
    if let (Some(fill), Some(to)) = (crate::signal::fill(def), settled_to) {
        // From the previous boundary; on the first update from its first point, or half an
        // hour back when it has none (a sparse counter that was zero all along).
        let first_window = crate::time::TOffset(-30 * 60).at(to);
        let from = previous.unwrap_or_else(|| first.map_or(first_window, |f| f.min(first_window)));
        let period = i64::from(def.period.max(1));
        let mut b = crate::signal::align_down(from, period);
        // Bounded: never more buckets than the series holds.
        let mut filled = 0;
        while b < to && filled < SERIES_CAPACITY {
            if st.series.binary_search_by_key(&b, |p| p.at).is_err() {
                insert_point(&mut st.series, Sample { at: b, value: fill });
            }
            // A recording is data: a bucket at the end of time must not overflow the date.
            let Some(next) = b.checked_add_signed(chrono::Duration::seconds(period)) else {
                break;
            };
            b = next;
            filled += 1;
        }
    }
    while st.series.len() > SERIES_CAPACITY {
        st.series.pop_front();
    }
    if settled_to.is_some() {
        st.settled_to = settled_to.max(previous);
    }
}

/// Inserts in time order; a point at an existing timestamp replaces it (late data).
fn insert_point(series: &mut VecDeque<Sample>, p: Sample) {
    match series.binary_search_by_key(&p.at, |s| s.at) {
        Ok(i) => series[i].value = p.value,
        Err(i) => series.insert(i, p),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// The clock moved: re-evaluate phases, overdue items and escalation.
    Tick,
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Source(Update),
}

/// A parsed `verify:` rule: "<metric id> <op> <number>".
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyRule {
    pub checklist: usize,
    pub item: usize,
    pub metric: usize,
    pub op: String,
    pub value: f64,
}

impl VerifyRule {
    pub fn holds(&self, v: f64) -> bool {
        match self.op.as_str() {
            ">=" => v >= self.value,
            "<=" => v <= self.value,
            ">" => v > self.value,
            "<" => v < self.value,
            "==" => v == self.value,
            _ => false,
        }
    }
}

/// Splits "web_instances >= 40" into its three parts. Shared with runbook validation.
pub fn parse_verify(s: &str) -> Option<(String, String, f64)> {
    let ops = [">=", "<=", "==", ">", "<"];
    let (pos, op) = ops
        .iter()
        .filter_map(|op| s.find(op).map(|p| (p, *op)))
        .min_by_key(|(p, op)| (*p, std::cmp::Reverse(op.len())))?;
    let id = s[..pos].trim();
    let value = s[pos + op.len()..].trim().parse::<f64>().ok()?;
    if id.is_empty()
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || !value.is_finite()
    {
        return None;
    }
    Some((id.to_string(), op.to_string(), value))
}

pub struct AppOptions {
    pub runbook_path: String,
    pub t0: DateTime<Utc>,
    pub operator: String,
    pub mode: Mode,
}

impl App {
    /// Builds the app and replays `past` journal records into it, so a restart (or a crash)
    /// resumes exactly where the journal left off.
    pub fn new(
        runbook: Runbook,
        opts: AppOptions,
        now: DateTime<Utc>,
        journal: Box<dyn JournalSink>,
        past: Vec<Record>,
    ) -> App {
        let items = runbook
            .checklists
            .iter()
            .map(|c| vec![ItemState::default(); c.items.len()])
            .collect();
        let mut app = App {
            metrics: vec![MetricState::default(); runbook.metrics.len()],
            quotas: vec![QuotaState::default(); runbook.quotas.len()],
            runbook,
            runbook_path: opts.runbook_path,
            t0: opts.t0,
            now,
            operator: opts.operator,
            mode: opts.mode,
            journal,
            alarms: BTreeMap::new(),
            alarm_episodes: BTreeMap::new(),
            items,
            alerts: Vec::new(),
            timeline: VecDeque::new(),
            sources: BTreeMap::new(),
            phase: None,
            ui: UiState::default(),
            allow_writes: false,
            data_label: None,
            speed: 1.0,
            should_quit: false,
            dirty: true,
            verify: Vec::new(),
            last_phase_journalled: None,
            outbox: Vec::new(),
            commands: Vec::new(),
            faults_journalled: Default::default(),
        };
        app.verify = app.verify_rules();
        for r in &past {
            app.apply(r);
        }
        // Alerts restored as open resume their episode, so hysteresis and the clear time carry
        // over a restart instead of the alert opening again.
        let open: Vec<(AlertKey, Severity, u32)> = app
            .alerts
            .iter()
            .filter(|a| a.is_open())
            .map(|a| (a.key.clone(), a.severity, a.flaps))
            .collect();
        for (key, severity, flaps) in open {
            let episode = alerts::Episode::resumed(severity, flaps);
            match &key {
                AlertKey::Metric(id) => {
                    if let Some(i) = app.runbook.metrics.iter().position(|m| &m.id == id) {
                        app.metrics[i].severity = Some(severity);
                        app.metrics[i].episode = episode;
                    }
                }
                AlertKey::Quota(code) => {
                    if let Some(i) = app.runbook.quotas.iter().position(|q| &q.code == code) {
                        app.quotas[i].severity = Some(severity);
                        app.quotas[i].episode = episode;
                    }
                }
                AlertKey::Alarm(name) => {
                    app.alarm_episodes.insert(name.clone(), episode);
                }
                _ => {}
            }
        }
        app
    }

    fn verify_rules(&self) -> Vec<VerifyRule> {
        let mut rules = Vec::new();
        for (c, list) in self.runbook.checklists.iter().enumerate() {
            for (i, item) in list.items.iter().enumerate() {
                let Some((id, op, value)) = item.verify.as_deref().and_then(parse_verify) else {
                    continue;
                };
                if let Some(metric) = self.runbook.metrics.iter().position(|m| m.id == id) {
                    rules.push(VerifyRule {
                        checklist: c,
                        item: i,
                        metric,
                        op,
                        value,
                    });
                }
            }
        }
        rules
    }

    /// Records this session journalled since the last call: the event loop hands alert
    /// events to the notify command.
    pub fn take_outbox(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.outbox)
    }

    /// AWS writes the operator confirmed, for the event loop to carry out.
    pub fn take_commands(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.commands)
    }

    pub fn journal_location(&self) -> String {
        self.journal.location()
    }

    /// Folds one message into the state. `now` is the clock's time when the message arrived.
    pub fn update(&mut self, now: DateTime<Utc>, msg: Msg) {
        let second_changed = now.timestamp() != self.now.timestamp();
        self.now = now;
        match msg {
            Msg::Tick => {
                if second_changed {
                    self.dirty = true;
                }
            }
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(m) => self.on_mouse(m),
            Msg::Resize(w, h) => {
                self.ui.size = (w, h);
                self.dirty = true;
            }
            Msg::Source(u) => self.on_source(u),
        }
        self.evaluate_time_rules();
    }

    /// Phase changes, overdue items and escalation all depend on the clock alone.
    fn evaluate_time_rules(&mut self) {
        let offset = self.offset();
        let phase = self.runbook.phases.iter().rposition(|p| p.from <= offset);
        if phase != self.phase {
            self.phase = phase;
            self.dirty = true;
            if let Some(p) = phase {
                let name = self.runbook.phases[p].name.clone();
                if self.last_phase_journalled.as_deref() != Some(name.as_str()) {
                    self.act(Event::PhaseEntered { phase: name });
                }
            }
        }

        // Overdue items roll up into one alert per checklist: ten late items are one problem
        // to call someone about, not ten. Only changes are collected: this runs every tick.
        let mut overdue = Vec::new();
        for (c, list) in self.runbook.checklists.iter().enumerate() {
            let late = list
                .items
                .iter()
                .enumerate()
                .any(|(i, item)| self.is_overdue(item, &self.items[c][i]));
            let key = AlertKey::Checklist(list.name.clone());
            let open = self.alerts.iter().any(|a| a.is_open() && a.key == key);
            if late != open {
                let wanted = self
                    .overdue_summary(&list.name)
                    .map(|message| (Severity::Warn, message));
                overdue.push((key, wanted));
            }
        }
        // Alerts per overdue item from journals written before the roll-up: closed, once.
        for a in self.alerts.iter().filter(|a| a.is_open()) {
            if let AlertKey::Overdue(_) = a.key {
                overdue.push((a.key.clone(), None));
            }
        }
        for (key, wanted) in overdue {
            self.sync_alert(key, wanted);
        }

        let mut blind = Vec::new();
        for (name, h) in &self.sources {
            let key = AlertKey::Source(name.clone());
            let failing = h
                .failing_since
                .is_some_and(|t| (self.now - t).num_seconds() >= SOURCE_ALERT_AFTER_SECS);
            let open = self.alerts.iter().any(|a| a.is_open() && a.key == key);
            if failing != open {
                let wanted = h.error.as_ref().filter(|_| failing).map(|(e, _)| {
                    (
                        Severity::Warn,
                        format!("{name} failing for over a minute: {e}"),
                    )
                });
                blind.push((key, wanted));
            }
        }
        for (key, wanted) in blind {
            self.sync_alert(key, wanted);
        }

        let levels = &self.runbook.escalation.levels;
        let mut escalations = Vec::new();
        for a in self
            .alerts
            .iter()
            .filter(|a| a.is_open() && a.acked.is_none())
        {
            let reached = alerts::escalation_level(levels, (self.now - a.opened_at).num_seconds());
            if let Some(l) = reached
                && a.level.is_none_or(|cur| l > cur)
            {
                let lvl = &levels[l];
                escalations.push(Event::AlertEscalated {
                    key: a.key.clone(),
                    level: l,
                    who: lvl.who.clone(),
                    contact: lvl.contact.clone(),
                });
            }
        }
        for e in escalations {
            self.act(e);
        }
    }

    /// `sync_alert` for a signal folded into an episode, journalling when it starts flapping.
    fn sync_episode(
        &mut self,
        key: AlertKey,
        episode: &alerts::Episode,
        wanted: Option<(Severity, String)>,
    ) {
        self.sync_alert(key.clone(), wanted);
        let newly_flapping = episode.is_flapping()
            && self
                .alerts
                .iter()
                .any(|a| a.is_open() && a.key == key && a.flaps < alerts::FLAPPING_AFTER);
        if newly_flapping {
            self.act(Event::AlertFlapping {
                key,
                flaps: episode.flaps,
            });
        }
    }

    /// Opens, changes or closes the alert for `key` to match `wanted`, journalling each change.
    fn sync_alert(&mut self, key: AlertKey, wanted: Option<(Severity, String)>) {
        let open = self.alerts.iter().find(|a| a.is_open() && a.key == key);
        let event = match (open, wanted) {
            (None, Some((severity, message))) => Some(Event::AlertOpened {
                key,
                severity,
                message,
            }),
            (Some(a), Some((severity, message))) if a.severity != severity => {
                Some(Event::AlertSeverity {
                    key,
                    severity,
                    message,
                })
            }
            (Some(_), None) => Some(Event::AlertClosed { key }),
            _ => None,
        };
        if let Some(e) = event {
            self.act(e);
        }
    }

    /// Journals `event` and, only once it is durably written, applies it. On a failed write the
    /// action is refused and the operator told why.
    pub fn act(&mut self, event: Event) -> bool {
        let record = Record {
            ts: self.now,
            operator: self.operator.clone(),
            event,
        };
        match self.journal.append(&record) {
            Ok(()) => {
                self.apply(&record);
                self.outbox.push(record);
                true
            }
            Err(e) => {
                self.flash(format!("NOT SAVED: {e:#}"));
                false
            }
        }
    }

    fn flash(&mut self, text: String) {
        self.ui.flash = Some((text, self.now));
        self.dirty = true;
    }

    /// Applies a journal record to the state: used for live actions and for start-up replay.
    fn apply(&mut self, r: &Record) {
        self.dirty = true;
        match &r.event {
            Event::SessionStarted { .. } | Event::Note { .. } | Event::SessionEnded {} => {}
            // Kept off the timeline: in a game day the operators have to find faults for
            // themselves; the score reveals them.
            Event::FaultInjected { fault, .. } => {
                self.faults_journalled.insert((fault.clone(), true));
                return;
            }
            Event::FaultRecovered { fault, .. } => {
                self.faults_journalled.insert((fault.clone(), false));
                return;
            }
            Event::QuotaIncreaseRequested { code, desired, .. } => {
                if let Some(i) = self.runbook.quotas.iter().position(|q| &q.code == code) {
                    self.quotas[i].request = Some((*desired, "REQUESTING".into()));
                }
            }
            Event::QuotaRequestStatus { code, status, .. } => {
                if let Some(i) = self.runbook.quotas.iter().position(|q| &q.code == code)
                    && let Some(r) = self.quotas[i].request.as_mut()
                {
                    r.1 = status.clone();
                }
            }
            Event::PhaseEntered { phase } => self.last_phase_journalled = Some(phase.clone()),
            Event::ItemDone { item, auto } => self.set_item(item, ItemStatus::Done, None, r, *auto),
            Event::ItemInProgress { item } => {
                self.set_item(item, ItemStatus::InProgress, None, r, false)
            }
            Event::ItemReopened { item } => self.set_item(item, ItemStatus::Todo, None, r, false),
            Event::ItemSkipped { item, reason } => {
                self.set_item(item, ItemStatus::Skipped, Some(reason.clone()), r, false)
            }
            Event::AlertOpened {
                key,
                severity,
                message,
            } => {
                // A journal cut short by a crash may hold an open alert already: replace it.
                self.alerts.retain(|a| !(a.is_open() && &a.key == key));
                self.alerts.push(Alert {
                    key: key.clone(),
                    severity: *severity,
                    message: message.clone(),
                    opened_at: r.ts,
                    acked: None,
                    level: None,
                    closed_at: None,
                    flaps: 0,
                });
            }
            Event::AlertSeverity {
                key,
                severity,
                message,
            } => {
                if let Some(a) = self.open_alert_mut(key) {
                    a.severity = *severity;
                    a.message = message.clone();
                }
            }
            Event::AlertFlapping { key, flaps } => {
                if let Some(a) = self.open_alert_mut(key) {
                    a.flaps = *flaps;
                }
            }
            Event::AlertEscalated { key, level, .. } => {
                if let Some(a) = self.open_alert_mut(key) {
                    a.level = Some(*level);
                }
            }
            Event::AlertAcknowledged { key } => {
                if let Some(a) = self.open_alert_mut(key) {
                    a.acked = Some((r.operator.clone(), r.ts));
                }
            }
            Event::AlertClosed { key } => {
                if let Some(a) = self.open_alert_mut(key) {
                    a.closed_at = Some(r.ts);
                }
                let closed = self.alerts.iter().filter(|a| !a.is_open()).count();
                if closed > CLOSED_ALERTS_KEPT
                    && let Some(i) = self.alerts.iter().position(|a| !a.is_open())
                {
                    self.alerts.remove(i);
                }
            }
        }
        if self.timeline.len() == TIMELINE_CAPACITY {
            self.timeline.pop_front();
        }
        self.timeline.push_back(r.clone());
    }

    fn open_alert_mut(&mut self, key: &AlertKey) -> Option<&mut Alert> {
        self.alerts
            .iter_mut()
            .find(|a| a.is_open() && &a.key == key)
    }

    fn set_item(
        &mut self,
        id: &str,
        status: ItemStatus,
        reason: Option<String>,
        r: &Record,
        auto: bool,
    ) {
        for (c, list) in self.runbook.checklists.iter().enumerate() {
            if let Some(i) = list.items.iter().position(|it| it.id == id) {
                self.items[c][i] = ItemState {
                    status,
                    skip_reason: reason,
                    changed: Some((r.operator.clone(), r.ts)),
                    auto,
                };
                return;
            }
        }
        // An item removed from the runbook since it was journalled: nothing to show.
    }

    // ---- data ---------------------------------------------------------------------------

    fn on_source(&mut self, u: Update) {
        self.dirty = true;
        match u {
            Update::Samples {
                metric,
                points,
                settled_to,
            } => self.on_samples(metric, points, settled_to),
            Update::Quota {
                quota,
                value,
                usage,
                at,
            } => self.on_quota(quota, value, usage, at),
            Update::QuotaMeta {
                quota,
                adjustable,
                period_secs,
                default,
            } => {
                if let Some(st) = self.quotas.get_mut(quota) {
                    st.adjustable = Some(adjustable);
                    st.period_secs = period_secs;
                    st.is_default = default;
                }
            }
            Update::Alarm {
                name,
                state,
                reason,
                changed_at,
            } => {
                let key = AlertKey::Alarm(name.clone());
                // CloudWatch has already judged the datapoints: each poll is one observation,
                // and an alarm that flips back to ALARM within the clear time stays one alert.
                let episode = self.alarm_episodes.entry(name.clone()).or_default();
                let level = (state == AlarmState::Alarm).then_some(Severity::Crit);
                episode.observe(
                    self.now,
                    level,
                    alerts::EpisodeRule::immediate(crate::signal::DEFAULT_CLEAR_SECS),
                );
                let episode = episode.clone();
                let wanted = episode
                    .open
                    .map(|s| (s, format!("alarm {name} in ALARM: {reason}")));
                self.alarms.insert(
                    name.clone(),
                    AlarmView {
                        name,
                        state,
                        reason,
                        changed_at,
                        received_at: self.now,
                    },
                );
                self.sync_episode(key, &episode, wanted);
            }
            Update::QuotaRequest {
                quota,
                status,
                request_id,
                error,
            } => {
                let Some(q) = self.runbook.quotas.get(quota) else {
                    return;
                };
                let status = match error {
                    Some(e) => format!("FAILED: {e}"),
                    None => status,
                };
                let changed = self.quotas[quota]
                    .request
                    .as_ref()
                    .is_none_or(|r| r.1 != status);
                if changed {
                    let code = q.code.clone();
                    self.act(Event::QuotaRequestStatus {
                        code,
                        status,
                        request_id,
                    });
                }
            }
            Update::MetricNote { metric, note } => {
                if let Some(st) = self.metrics.get_mut(metric) {
                    st.note = note;
                }
            }
            Update::Usage {
                source,
                calls,
                metrics,
                at,
            } => {
                let h = self.sources.entry(source).or_default();
                h.requests.push_back((at, calls, metrics));
                while h
                    .requests
                    .front()
                    .is_some_and(|r| (at - r.0).num_seconds() > 3600)
                {
                    h.requests.pop_front();
                }
            }
            Update::Fault(n) => {
                if self.faults_journalled.contains(&(n.id.clone(), n.started)) {
                    return;
                }
                let event = if n.started {
                    Event::FaultInjected {
                        fault: n.id,
                        description: n.description,
                        target: n.target,
                        at: n.at,
                        until: n.until,
                        surprise: n.surprise,
                        affects: n.affects,
                    }
                } else {
                    Event::FaultRecovered {
                        fault: n.id,
                        at: n.at,
                    }
                };
                self.act(event);
            }
            Update::Health { source, error, at } => {
                let h = self.sources.entry(source).or_default();
                match error {
                    None => {
                        h.last_ok = Some(at);
                        h.error = None;
                        h.failing_since = None;
                    }
                    Some(e) => {
                        h.failing_since.get_or_insert(at);
                        h.error = Some((e, at));
                    }
                }
            }
        }
    }

    fn on_samples(
        &mut self,
        metric: usize,
        points: Vec<Sample>,
        settled_to: Option<DateTime<Utc>>,
    ) {
        let (Some(def), Some(st)) = (
            self.runbook.metrics.get(metric),
            self.metrics.get_mut(metric),
        ) else {
            return;
        };
        st.received_at = Some(self.now);
        merge_points(st, def, points, settled_to);

        // Judge each newly settled point once, in time order: the episode decides the alert.
        let rule = alerts::EpisodeRule {
            datapoints: crate::signal::breach_rule(def).datapoints as usize,
            of: crate::signal::breach_rule(def).of as usize,
            clear_after_secs: crate::signal::clear_after_secs(def),
        };
        // A NaN or an infinity is shown as what the source sent, never judged.
        let fresh: Vec<Sample> = st
            .series
            .iter()
            .filter(|p| st.is_settled(p) && st.episode.last.is_none_or(|l| p.at > l))
            .filter(|p| p.value.is_finite())
            .copied()
            .collect();
        for p in &fresh {
            st.severity = alerts::metric_severity(
                p.value,
                def.warn,
                def.crit,
                def.direction,
                st.episode.open,
            );
            st.episode.observe(p.at, st.severity, rule);
        }
        let Some(latest) = st.latest_settled() else {
            return;
        };
        let episode = st.episode.clone();
        let wanted = episode.open.map(|sev| {
            let threshold = if sev == Severity::Crit {
                def.crit
            } else {
                def.warn
            };
            let unit = def
                .unit
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default();
            let cmp = match def.direction {
                crate::runbook::model::Direction::Above => ">=",
                crate::runbook::model::Direction::Below => "<=",
            };
            (
                sev,
                format!(
                    "{} {}{unit} {cmp} {}",
                    def.display_title(),
                    crate::ui::format::value(latest.value),
                    crate::ui::format::value(threshold.unwrap_or(f64::NAN))
                ),
            )
        });
        let key = AlertKey::Metric(def.id.clone());
        self.sync_episode(key, &episode, wanted);
        if fresh.is_empty() {
            return;
        }

        // A quota whose usage is this metric (`usage_metric:` in the runbook) moves with its
        // settled points.
        let id = self.runbook.metrics[metric].id.clone();
        let usage_of: Vec<usize> = self
            .runbook
            .quotas
            .iter()
            .enumerate()
            .filter(|(_, q)| q.usage_metric.as_deref() == Some(id.as_str()))
            .map(|(i, _)| i)
            .collect();
        for q in usage_of {
            for p in &fresh {
                self.on_quota(q, None, Some(p.value), p.at);
            }
        }

        let ticks: Vec<String> = self
            .verify
            .iter()
            .filter(|r| r.metric == metric && r.holds(latest.value))
            .filter(|r| {
                matches!(
                    self.items[r.checklist][r.item].status,
                    ItemStatus::Todo | ItemStatus::InProgress
                )
            })
            .map(|r| {
                self.runbook.checklists[r.checklist].items[r.item]
                    .id
                    .clone()
            })
            .collect();
        for item in ticks {
            self.act(Event::ItemDone { item, auto: true });
        }
    }

    fn on_quota(
        &mut self,
        quota: usize,
        value: Option<f64>,
        usage: Option<f64>,
        at: DateTime<Utc>,
    ) {
        let (Some(def), Some(st)) = (self.runbook.quotas.get(quota), self.quotas.get_mut(quota))
        else {
            return;
        };
        // Value and usage may come from different sources (Service Quotas, CloudWatch): an
        // update carries what its source knows and leaves the rest as it was.
        let value_changed = value.is_some() && value != st.value;
        st.value = value.or(st.value);
        st.usage = usage.or(st.usage);
        st.at = Some(at);
        if let Some(u) = usage.filter(|u| u.is_finite()) {
            if st.history.len() == QUOTA_HISTORY {
                st.history.pop_front();
            }
            st.history.push_back((at, u));
        }
        let Some(headroom) = st.headroom_pct() else {
            return;
        };
        st.severity = alerts::quota_severity(
            headroom,
            def.warn_below.0,
            def.crit_below.0,
            st.episode.open,
        );
        // A new usage reading is an observation, and so is a new value; the same value again
        // is not a second reading of the same usage.
        if usage.is_some() || value_changed {
            // A quota of 0 is a fact from Service Quotas, not a noisy reading: no need to wait
            // for it to hold.
            let rule = if st.value == Some(0.0) {
                alerts::EpisodeRule::immediate(QUOTA_RULE.clear_after_secs)
            } else {
                QUOTA_RULE
            };
            st.episode.observe(at, st.severity, rule);
        }
        let episode = st.episode.clone();
        let wanted = episode.open.map(|sev| {
            (
                sev,
                format!(
                    "{} headroom {:.0}% (below {:.0}%)",
                    def.display_title(),
                    headroom,
                    match sev {
                        Severity::Crit => def.crit_below.0,
                        Severity::Warn => def.warn_below.0,
                    }
                ),
            )
        });
        self.sync_episode(AlertKey::Quota(def.code.clone()), &episode, wanted);
    }

    // ---- operator input -----------------------------------------------------------------

    fn on_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        self.ui.flash = None;
        match &mut self.ui.overlay {
            Overlay::Help => {
                if matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                ) {
                    self.ui.overlay = Overlay::None;
                }
                return;
            }
            Overlay::IncreaseQuota { text, .. } => {
                match key.code {
                    KeyCode::Esc => self.ui.overlay = Overlay::None,
                    KeyCode::Enter => self.submit_increase(),
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    KeyCode::Char(c) if (c.is_ascii_digit() || c == '.') && text.len() < 15 => {
                        text.push(c)
                    }
                    _ => {}
                }
                return;
            }
            Overlay::ConfirmQuit => {
                match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Char('q') => {
                        self.should_quit = true
                    }
                    _ => self.ui.overlay = Overlay::None,
                }
                return;
            }
            Overlay::Input { text, .. } => {
                match key.code {
                    KeyCode::Esc => self.ui.overlay = Overlay::None,
                    KeyCode::Enter => self.submit_input(),
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        text.clear()
                    }
                    KeyCode::Char(c)
                        if !key.modifiers.contains(KeyModifiers::CONTROL)
                            && text.chars().count() < 500 =>
                    {
                        text.push(c);
                    }
                    _ => {}
                }
                return;
            }
            Overlay::None => {}
        }

        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => self.request_quit(),
            KeyCode::Char('q') => self.request_quit(),
            KeyCode::Char('?') => self.ui.overlay = Overlay::Help,
            KeyCode::Esc => self.ui.zoomed = false,
            KeyCode::Tab => self.cycle_focus(1),
            KeyCode::BackTab => self.cycle_focus(-1),
            KeyCode::Char('l') | KeyCode::Right => self.cycle_focus(1),
            KeyCode::Char('h') | KeyCode::Left => self.cycle_focus(-1),
            KeyCode::Char(c @ '1'..='5') => {
                self.ui.focus = Some(Pane::ALL[(c as u8 - b'1') as usize]);
            }
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::PageDown => self.move_selection(10),
            KeyCode::PageUp => self.move_selection(-10),
            KeyCode::Home | KeyCode::Char('g') => self.move_selection(i64::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.move_selection(i64::MAX / 2),
            KeyCode::Char('z') => self.ui.zoomed = !self.ui.zoomed,
            KeyCode::Char(' ') | KeyCode::Enter => {
                if self.ui.focused() == Pane::Checklist {
                    self.toggle_selected_item();
                } else {
                    self.ui.zoomed = !self.ui.zoomed;
                }
            }
            KeyCode::Char('p') => self.mark_selected_in_progress(),
            KeyCode::Char('s') => self.start_skip(),
            KeyCode::Char('n') => {
                self.ui.overlay = Overlay::Input {
                    purpose: InputPurpose::Note,
                    text: String::new(),
                };
            }
            KeyCode::Char('a') => self.acknowledge_top(),
            KeyCode::Char('i') => self.start_increase(),
            KeyCode::Char(']') if self.mode == Mode::Replay => {
                self.commands.push(Command::Seek { secs: 300 });
                self.flash("replay: +5 minutes".into());
            }
            KeyCode::Char('}') if self.mode == Mode::Replay => {
                self.commands.push(Command::Seek { secs: 1800 });
                self.flash("replay: +30 minutes".into());
            }
            _ => {}
        }
    }

    fn request_quit(&mut self) {
        if self.open_alerts().next().is_some() {
            self.ui.overlay = Overlay::ConfirmQuit;
        } else {
            self.should_quit = true;
        }
    }

    fn cycle_focus(&mut self, step: i64) {
        let n = Pane::ALL.len() as i64;
        let cur = self.ui.focused().index() as i64;
        self.ui.focus = Some(Pane::ALL[(cur + step).rem_euclid(n) as usize]);
    }

    /// Rows in a pane, for clamping its selection.
    pub fn row_count(&self, pane: Pane) -> usize {
        match pane {
            Pane::Checklist => self.visible_items().len(),
            Pane::Metrics => self.visible_metrics().len(),
            Pane::Quotas => self.runbook.quotas.len(),
            Pane::Alarms => self.alarms.len(),
            Pane::Timeline => self.timeline.len(),
        }
    }

    fn move_selection(&mut self, step: i64) {
        let pane = self.ui.focused();
        let rows = self.row_count(pane) as i64;
        let cur = self.ui.selected[pane.index()] as i64;
        self.ui.selected[pane.index()] =
            (cur.saturating_add(step)).clamp(0, (rows - 1).max(0)) as usize;
    }

    fn selected_item_id(&self) -> Option<(String, ItemStatus)> {
        if self.ui.focused() != Pane::Checklist {
            return None;
        }
        let items = self.visible_items();
        let r = items.get(self.ui.selected(Pane::Checklist))?;
        Some((r.item.id.clone(), r.state.status))
    }

    fn toggle_selected_item(&mut self) {
        let Some((item, status)) = self.selected_item_id() else {
            return;
        };
        let event = match status {
            ItemStatus::Done => Event::ItemReopened { item },
            _ => Event::ItemDone { item, auto: false },
        };
        self.act(event);
    }

    fn mark_selected_in_progress(&mut self) {
        match self.selected_item_id() {
            Some((item, ItemStatus::InProgress)) => {
                self.act(Event::ItemReopened { item });
            }
            Some((item, _)) => {
                self.act(Event::ItemInProgress { item });
            }
            None => self.flash("select a checklist item first (Tab to the checklist)".into()),
        }
    }

    fn start_skip(&mut self) {
        match self.selected_item_id() {
            Some((item, _)) => {
                self.ui.overlay = Overlay::Input {
                    purpose: InputPurpose::SkipReason(item),
                    text: String::new(),
                }
            }
            None => self.flash("select a checklist item first (Tab to the checklist)".into()),
        }
    }

    fn submit_input(&mut self) {
        let Overlay::Input { purpose, text } = std::mem::take(&mut self.ui.overlay) else {
            return;
        };
        let text = text.trim().to_string();
        if text.is_empty() {
            // Keep the dialog open: a skip needs a reason, and an empty note is a mis-key.
            self.ui.overlay = Overlay::Input { purpose, text };
            return;
        }
        let event = match &purpose {
            InputPurpose::SkipReason(item) => Event::ItemSkipped {
                item: item.clone(),
                reason: text.clone(),
            },
            InputPurpose::Note => Event::Note { text: text.clone() },
        };
        if !self.act(event) {
            // Not saved: give the operator their text back rather than lose it.
            self.ui.overlay = Overlay::Input { purpose, text };
        }
    }

    /// `i` on a quota: opens the request dialog, or says why it cannot.
    fn start_increase(&mut self) {
        if self.ui.focused() != Pane::Quotas || self.runbook.quotas.is_empty() {
            self.flash("select a quota first (press 3 for the quota pane)".into());
            return;
        }
        if self.mode != Mode::Live {
            self.flash("quota increases need live AWS: tminus run RUNBOOK --allow-writes".into());
            return;
        }
        if !self.allow_writes {
            self.flash(
                "read-only: restart with --allow-writes to request quota increases (each is confirmed first)"
                    .into(),
            );
            return;
        }
        let quota = self
            .ui
            .selected(Pane::Quotas)
            .min(self.runbook.quotas.len() - 1);
        let st = &self.quotas[quota];
        if st.adjustable == Some(false) {
            let q = &self.runbook.quotas[quota];
            self.flash(format!(
                "{} {} is not adjustable: Service Quotas takes no increase requests for it",
                q.service, q.code
            ));
            return;
        }
        let Some(current) = st.value else {
            self.flash("the quota's current value is not known yet".into());
            return;
        };
        // A suggestion the operator edits: half as much again, or twice the usage if higher.
        let suggested = (current * 1.5).max(st.usage.unwrap_or(0.0) * 2.0).ceil();
        self.ui.overlay = Overlay::IncreaseQuota {
            quota,
            text: format!("{suggested}"),
        };
    }

    fn submit_increase(&mut self) {
        let Overlay::IncreaseQuota { quota, text } = std::mem::take(&mut self.ui.overlay) else {
            return;
        };
        let current = self.quotas[quota].value;
        let desired = match text.parse::<f64>() {
            Ok(d) if d.is_finite() && current.is_none_or(|c| d > c) => d,
            _ => {
                self.ui.overlay = Overlay::IncreaseQuota { quota, text };
                self.flash("enter a value above the current quota".into());
                return;
            }
        };
        let q = &self.runbook.quotas[quota];
        let (service, code, region) = (q.service.clone(), q.code.clone(), q.region.clone());
        // Journalled first: the request is on record before anything goes to AWS.
        if self.act(Event::QuotaIncreaseRequested {
            service: service.clone(),
            code: code.clone(),
            current,
            desired,
        }) {
            self.commands.push(Command::RequestQuotaIncrease {
                quota,
                service,
                code,
                region,
                desired,
            });
        }
    }

    fn acknowledge_top(&mut self) {
        let target = self
            .open_alerts()
            .filter(|a| a.acked.is_none())
            .min_by_key(|a| {
                (
                    std::cmp::Reverse(a.severity),
                    std::cmp::Reverse(a.level),
                    a.opened_at,
                )
            })
            .map(|a| a.key.clone());
        match target {
            Some(key) => {
                self.act(Event::AlertAcknowledged { key });
            }
            None => self.flash("no unacknowledged alert".into()),
        }
    }

    fn on_mouse(&mut self, m: MouseEvent) {
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                if self.ui.overlay != Overlay::None {
                    return;
                }
                if let Some((pane, row)) = crate::ui::hit_test(self, m.column, m.row) {
                    self.ui.focus = Some(pane);
                    if let Some(r) = row.filter(|r| *r < self.row_count(pane)) {
                        self.ui.selected[pane.index()] = r;
                    }
                    self.dirty = true;
                }
            }
            MouseEventKind::ScrollDown => {
                self.move_selection(1);
                self.dirty = true;
            }
            MouseEventKind::ScrollUp => {
                self.move_selection(-1);
                self.dirty = true;
            }
            _ => {}
        }
    }
}
