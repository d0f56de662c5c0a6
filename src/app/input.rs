//! Operator input: keys and mouse turned into actions (each journalled through `App::act`).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use super::state::*;
use crate::journal::Event;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) {
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
            Overlay::Vote { go, text } => {
                match key.code {
                    KeyCode::Esc => self.ui.overlay = Overlay::None,
                    KeyCode::Enter => self.submit_vote(),
                    KeyCode::Tab | KeyCode::BackTab => *go = !*go,
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    KeyCode::Char(c)
                        if !key.modifiers.contains(KeyModifiers::CONTROL)
                            && text.chars().count() < 500 =>
                    {
                        text.push(c)
                    }
                    _ => {}
                }
                return;
            }
            Overlay::StatusUpdate { field, texts } => {
                match key.code {
                    KeyCode::Esc => self.ui.overlay = Overlay::None,
                    // Enter moves to the next field; on the last it posts.
                    KeyCode::Enter if *field < 2 => *field += 1,
                    KeyCode::Enter => self.submit_update(),
                    KeyCode::Tab | KeyCode::Down => *field = (*field + 1) % 3,
                    KeyCode::BackTab | KeyCode::Up => *field = (*field + 2) % 3,
                    KeyCode::Backspace => {
                        texts[*field].pop();
                    }
                    KeyCode::Char(c)
                        if !key.modifiers.contains(KeyModifiers::CONTROL)
                            && texts[*field].chars().count() < 500 =>
                    {
                        texts[*field].push(c)
                    }
                    _ => {}
                }
                return;
            }
            Overlay::PickRole { selected } => {
                let n = self.runbook.roles.len();
                match key.code {
                    KeyCode::Esc | KeyCode::Char('q') => self.ui.overlay = Overlay::None,
                    KeyCode::Down | KeyCode::Char('j') if n > 0 => *selected = (*selected + 1) % n,
                    KeyCode::Up | KeyCode::Char('k') if n > 0 => {
                        *selected = (*selected + n - 1) % n
                    }
                    KeyCode::Enter => {
                        let pick = self.runbook.roles.get(*selected).map(|r| r.id.clone());
                        self.ui.overlay = Overlay::None;
                        if let Some(id) = pick {
                            self.take_role_by_id(&id);
                        }
                    }
                    _ => {}
                }
                return;
            }
            Overlay::AlertCard => {
                match key.code {
                    KeyCode::Char('e') => self.move_escalation(true),
                    KeyCode::Char('E') => self.move_escalation(false),
                    KeyCode::Char('a') => self.acknowledge_top(),
                    _ => self.ui.overlay = Overlay::None,
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
            KeyCode::Char('w') => self.ui.wall = !self.ui.wall,
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
            KeyCode::Char('v') => self.start_vote(),
            KeyCode::Char('c') => {
                if self.top_alert().is_some() {
                    self.ui.overlay = Overlay::AlertCard;
                } else {
                    self.flash("no open alert".into());
                }
            }
            KeyCode::Char('u') => self.start_update(),
            KeyCode::Char('e') => self.move_escalation(true),
            KeyCode::Char('E') => self.move_escalation(false),
            KeyCode::Char('r') => {
                if !self.seat.can_act() {
                    self.flash("watching: this seat is read-only".into());
                } else if self.runbook.roles.is_empty() {
                    self.flash("the runbook has no roles: add roles: to it".into());
                } else {
                    let selected = self
                        .my_role()
                        .and_then(|r| self.runbook.roles.iter().position(|x| x.id == r))
                        .unwrap_or(0);
                    self.ui.overlay = Overlay::PickRole { selected };
                }
            }
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

    pub(super) fn request_quit(&mut self) {
        if self.open_alerts().next().is_some() {
            self.ui.overlay = Overlay::ConfirmQuit;
        } else {
            self.should_quit = true;
        }
    }

    pub(super) fn cycle_focus(&mut self, step: i64) {
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

    pub(super) fn move_selection(&mut self, step: i64) {
        let pane = self.ui.focused();
        let rows = self.row_count(pane) as i64;
        let cur = self.ui.selected[pane.index()] as i64;
        self.ui.selected[pane.index()] =
            (cur.saturating_add(step)).clamp(0, (rows - 1).max(0)) as usize;
    }

    pub(super) fn selected_item_id(&self) -> Option<(String, ItemStatus)> {
        if self.ui.focused() != Pane::Checklist {
            return None;
        }
        let items = self.visible_items();
        let r = items.get(self.ui.selected(Pane::Checklist))?;
        Some((r.item.id.clone(), r.state.status))
    }

    pub(super) fn toggle_selected_item(&mut self) {
        let Some((item, status)) = self.selected_item_id() else {
            return;
        };
        let event = match status {
            ItemStatus::Done => Event::ItemReopened { item },
            _ => Event::ItemDone { item, auto: false },
        };
        self.act(event);
    }

    pub(super) fn mark_selected_in_progress(&mut self) {
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

    pub(super) fn start_skip(&mut self) {
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

    pub(super) fn submit_input(&mut self) {
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
    pub(super) fn start_increase(&mut self) {
        if self.ui.focused() != Pane::Quotas || self.runbook.quotas.is_empty() {
            self.flash("select a quota first (press 3 for the quota pane)".into());
            return;
        }
        if !self.mode.can_write_aws() {
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

    pub(super) fn submit_increase(&mut self) {
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

    pub(super) fn acknowledge_top(&mut self) {
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

    pub(super) fn on_click(&mut self, pane: Pane, row: Option<usize>) {
        if self.ui.overlay != Overlay::None || self.ui.wall {
            return;
        }
        self.ui.focus = Some(pane);
        if let Some(r) = row.filter(|r| *r < self.row_count(pane)) {
            self.ui.selected[pane.index()] = r;
        }
        self.dirty = true;
    }

    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        match m.kind {
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
