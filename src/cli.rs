//! Command-line interface: what each subcommand takes. Behaviour lives in `run.rs` and friends.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tminus",
    version,
    about = "A terminal war room for launch day",
    long_about = "A terminal war room for launch day: a countdown to T-0 with the current phase, \
                  CloudWatch metrics and alarms against thresholds, service-quota headroom, runbook \
                  checklists with owners and due times, and escalation with a timeline of what happened.",
    after_help = "Examples:\n  \
                  tminus demo                                 # the demo runbook, simulated, T-0 in 3 minutes\n  \
                  tminus run runbooks/launch.yaml             # live: CloudWatch and Service Quotas\n  \
                  tminus run runbooks/launch.yaml --simulate  # any runbook on simulated data\n  \
                  tminus rehearse runbooks/gameday-web.yaml --speed 10 --surprise  # game day\n  \
                  tminus quotas runbooks/launch.yaml --json   # headroom table; exit 1 if any is critical\n  \
                  tminus plan runbooks/launch.yaml --peak 22x # which quotas break at 22x, what to request, by when\n  \
                  tminus check runbooks/*.yaml themes/*.yaml  # validate, like a linter\n\n\
                  Inside the war room press ? for every key."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the war room on the bundled demo runbook with simulated data, T-0 a few minutes away
    Demo(DemoArgs),
    /// Open the war room on a runbook: live AWS data (read-only), or --simulate
    Run(RunArgs),
    /// Game day: the war room on simulated data with the runbook's injected faults
    /// (`rehearsal.inject`), on a clock that can run faster than real time; prints a score
    /// (time to detect, acknowledge and resolve each fault, checklist timing) on quit
    Rehearse(RehearseArgs),
    /// Play a recording (kept beside every journal, or `run --record FILE`) back through the war room: review an event, or
    /// rehearse on real data. ] and } jump ahead
    Replay(ReplayArgs),
    /// Write the review of an event or a game day: summary, alerts with escalation and
    /// acknowledgement times, metric peaks and charts (from the recording kept beside the
    /// journal), quota headroom, the plan against reality, checklist, scale-down, notes,
    /// timeline and, for rehearsals, the scores; several journals: game days side by side
    Report(ReportArgs),
    /// Print every quota of a runbook with value, usage, headroom and status; exit 1 if any is
    /// critical (for pipelines)
    Quotas(QuotasArgs),
    /// The capacity plan, weeks before the event: each quota's peak usage over the history,
    /// projected to the forecast peak (--peak 22x), its headroom then, the value to request and
    /// the date to request it by; the same projection for metrics with thresholds. Exit 1 if
    /// anything is projected critical, 2 if something could not be read
    Plan(PlanArgs),
    /// A read-only seat in a team's room: everything on screen, no action possible, not
    /// counted in votes (for executives, support, anyone watching)
    Watch(WatchArgs),
    /// The team's shared war room on DynamoDB: `room create TABLE` makes the table (on-demand
    /// capacity, TTL on old rooms); running it again is harmless
    #[command(subcommand)]
    Room(RoomCommand),
    /// Estimate what polling runbooks live costs: GetMetricData calls and metrics requested per
    /// refresh and per hour, USD per hour at the public price, and each phase's cost under the
    /// runbook's `polling:` against full rate (no AWS calls made)
    Cost {
        #[arg(required = true, value_name = "RUNBOOK")]
        runbooks: Vec<PathBuf>,
    },
    /// Validate runbooks and themes; print every problem as file:line:column and exit 1 if any
    Check {
        /// Runbook or theme files (themes are files under a themes/ directory)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Joining the team's room: one shared log of ticks, notes, acknowledgements, roles, votes and
/// status updates for everyone in it.
#[derive(Debug, Args, Clone, Default)]
pub struct RoomArgs {
    /// Join the team's room NAME: your actions go to its shared log and everyone's come back
    /// (the first to join fixes its runbook and T-0; later joiners use them)
    #[arg(long, value_name = "NAME", requires = "room_table", value_parser = crate::room::parse_room_name)]
    pub room: Option<String>,
    /// The DynamoDB table rooms live in (`tminus room create TABLE` makes it)
    #[arg(long, value_name = "TABLE", env = "TMINUS_ROOM_TABLE", value_parser = crate::room::parse_table_name)]
    pub room_table: Option<String>,
    /// The runbook role to take (an id from its roles:, e.g. ic, scribe); r changes it later
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The room to watch
    #[arg(long, value_name = "NAME", value_parser = crate::room::parse_room_name)]
    pub room: String,
    /// The DynamoDB table rooms live in
    #[arg(long, value_name = "TABLE", env = "TMINUS_ROOM_TABLE", value_parser = crate::room::parse_table_name)]
    pub room_table: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How long until T-0 when a new demo starts (e.g. 90s, 3m, 1h; at most 366d)
    #[arg(long = "in", value_name = "DURATION", default_value = "3m", value_parser = crate::time::parse_lead)]
    pub t0_in: crate::time::Span,
    /// Start a new demo even if an earlier one in the same journal is still running
    #[arg(long)]
    pub fresh: bool,
    /// Run the runbook's notify command for the demo's alerts (off by default: simulated data
    /// must not page anyone); the JSON says "mode": "simulated"
    #[arg(long)]
    pub notify: bool,
    #[command(flatten)]
    pub room: RoomArgs,
    /// Where the room's table is (with --room)
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The runbook (YAML) to open
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Use the built-in simulator instead of live AWS data
    #[arg(long)]
    pub simulate: bool,
    /// Override the runbook's T-0: an RFC 3339 time (2026-12-01T17:00:00Z) or a delay from now
    /// (+10m, at most 366 days)
    #[arg(long, value_name = "TIME", value_parser = crate::run::T0::parse)]
    pub t0: Option<crate::run::T0>,
    /// Record every update received to FILE (JSON lines) instead of beside the journal, for
    /// `tminus replay` and reports; safe to kill, and a restart continues the same file
    #[arg(long, value_name = "FILE", conflicts_with = "no_record")]
    pub record: Option<PathBuf>,
    /// Allow the one write tminus can make: requesting a quota increase (key `i` on a quota,
    /// always confirmed first). Without it tminus is read-only
    #[arg(long)]
    pub allow_writes: bool,
    /// With --simulate: run the runbook's notify command for simulated alerts (off by default:
    /// simulated data must not page anyone); live sessions always notify
    #[arg(long)]
    pub notify: bool,
    #[command(flatten)]
    pub room: RoomArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The journal of the event or game day; several journals (game days of one runbook)
    /// are compared side by side: time to detect, acknowledge and resolve per fault type, and
    /// checklist timeliness, run by run
    #[arg(value_name = "JOURNAL", required = true)]
    pub journals: Vec<PathBuf>,
    /// markdown, or html (one self-contained file with SVG charts)
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// The event's recording: metric peaks, charts and quota headroom [default: the one every
    /// war room keeps beside its journal, <journal>.recording]
    #[arg(long, value_name = "FILE")]
    pub recording: Option<PathBuf>,
    /// The runbook [default: the recording's copy, else the path in the journal]
    #[arg(long, value_name = "FILE")]
    pub runbook: Option<PathBuf>,
    /// Write here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording to play (JSON lines written by `tminus run --record FILE`)
    #[arg(value_name = "FILE")]
    pub recording: PathBuf,
    /// Play N times faster than it happened (1 to 1000)
    #[arg(long, value_name = "N", default_value = "1", value_parser = crate::rehearsal::parse_speed)]
    pub speed: f64,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RehearseArgs {
    /// The runbook (YAML) to rehearse
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// How many times real time the clock runs (e.g. 10: an hour in six minutes)
    #[arg(long, value_name = "N", default_value = "1", value_parser = crate::rehearsal::parse_speed)]
    pub speed: f64,
    /// Where on the runbook's timeline the rehearsal starts (T-0 is event.starts_at)
    #[arg(long, value_name = "OFFSET", default_value = "T-30m", value_parser = crate::time::parse_cli_offset)]
    pub start_at: crate::time::TOffset,
    /// Add faults drawn from the seed that the runbook does not list (revealed by the score)
    #[arg(long)]
    pub surprise: bool,
    /// Run the runbook's notify command for alerts (off by default: a game day must not page
    /// the real on-call unless you mean it to)
    #[arg(long)]
    pub notify: bool,
    /// Rehearse on your own traffic: read each metric's recent history from CloudWatch (the
    /// only AWS calls a rehearsal makes, read-only), shape the simulation from it (daily
    /// pattern, level, noise; the forecast peak around T-0) and save it beside the runbook
    /// (<runbook>.calibration.json) for later offline game days
    #[arg(long)]
    pub calibrate: bool,
    /// Play a saved calibration (offline) [with --calibrate: where to save it]
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// With --calibrate: peak traffic against normal, e.g. 22x (default: event.forecast)
    #[arg(long, value_name = "N", value_parser = crate::runbook::model::parse_multiplier, requires = "calibrate")]
    pub peak: Option<f64>,
    /// With --calibrate: how far back to read, 1h to 90d (default: plan.history, else 14d)
    #[arg(long, value_name = "DURATION", value_parser = crate::capacity::parse_history, requires = "calibrate")]
    pub history: Option<i64>,
    #[command(flatten)]
    pub room: RoomArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct QuotasArgs {
    /// The runbook (YAML) whose quotas to read
    #[arg(value_name = "RUNBOOK")]
    pub runbook: PathBuf,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Subcommand)]
pub enum RoomCommand {
    /// Create the DynamoDB table rooms live in (on-demand capacity, TTL on the `ttl`
    /// attribute); harmless when it exists
    Create {
        /// The table's name
        #[arg(value_name = "TABLE")]
        table: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The runbook (YAML) to plan for
    #[arg(value_name = "RUNBOOK", required_unless_present = "scale_down")]
    pub runbook: Option<PathBuf>,
    /// After the event: list the quota increases requested and the items done that the
    /// runbook says how to revert (`revert:`), from this journal, to revert or keep
    #[arg(long, value_name = "JOURNAL")]
    pub scale_down: Option<PathBuf>,
    /// Peak traffic against normal, e.g. 22x (default: the runbook's event.forecast, else 1x);
    /// a quota's or metric's own `forecast:` still wins
    #[arg(long, value_name = "N", value_parser = crate::runbook::model::parse_multiplier)]
    pub peak: Option<f64>,
    /// How far back to read usage, 1h to 90d (default: the runbook's plan.history, else 14d)
    #[arg(long, value_name = "DURATION", value_parser = crate::capacity::parse_history)]
    pub history: Option<i64>,
    /// Plan from the simulator's history: no AWS account needed
    #[arg(long)]
    pub simulate: bool,
    /// When T-0 is, instead of the runbook's event.starts_at: an RFC 3339 time or +DURATION
    #[arg(long, value_name = "TIME", value_parser = crate::run::T0::parse)]
    pub t0: Option<crate::run::T0>,
    /// Print JSON instead of tables
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Where and as whom to call AWS. Credentials come from the standard chain (environment,
/// profiles, SSO, web identity, container, IMDS).
#[derive(Debug, Args, Clone, Default)]
pub struct AwsArgs {
    /// AWS profile (overrides the runbook's aws.profile; AWS_PROFILE works too)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (overrides the runbook's aws.region; AWS_REGION works too)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint, e.g. an emulator on http://127.0.0.1:5000
    /// (AWS_ENDPOINT_URL works too)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    pub fn settings(&self) -> crate::source::aws::AwsSettings {
        crate::source::aws::AwsSettings {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Colour theme: a name from themes/ (dark, light, high-contrast, colorblind) or a path.
    /// NO_COLOR=1 forces a monochrome screen
    #[arg(long, value_name = "NAME|PATH", env = "TMINUS_THEME")]
    pub theme: Option<String>,
    /// Journal file (JSON lines) holding every action and alert [default: .tminus/<runbook>.journal]
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Name recorded with your actions in the journal [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Simulator seed: the same seed gives the same simulated event
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    /// Open in the wall view: the countdown, phase, readiness, the open alert and the worst
    /// signals drawn big, for a projector or a TV (w switches back)
    #[arg(long)]
    pub wall: bool,
    /// Do not record what the war room receives (by default it is kept beside the journal as
    /// <journal>.recording, at most 256 MiB, for `report`'s charts and `replay`)
    #[arg(long)]
    pub no_record: bool,
}

impl CommonArgs {
    /// Where the war room records: `--record FILE`, else beside the journal, unless
    /// `--no-record`.
    pub fn record_to(&self, file: Option<&PathBuf>) -> crate::record::RecordTo {
        match (self.no_record, file) {
            (true, _) => crate::record::RecordTo::Off,
            (false, Some(f)) => crate::record::RecordTo::File(f.clone()),
            (false, None) => crate::record::RecordTo::BesideJournal,
        }
    }
}
