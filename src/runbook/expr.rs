//! CloudWatch metric math: the one parser. Validation (`tminus check`), the simulator and the
//! AWS query planner all read expressions through it, so what `check` accepts is exactly what
//! the simulator evaluates (or refuses, located) and what the planner sends.
//!
//! A hand-written recursive-descent parser rather than a crate: the grammar is CloudWatch's
//! operators, numbers, strings, metric ids, arrays and its function list, and the semantics
//! (an unknown operand or a division by zero drops the point instead of producing NaN/inf) are
//! CloudWatch's, not a general-purpose evaluator's.
//!
//! Grammar (lowest precedence first):
//! ```text
//! expr    := and ('OR' and | '||' and)*
//! and     := not ('AND' not | '&&' not)*
//! not     := ('NOT' | '!') not | cmp
//! cmp     := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
//! sum     := term (('+' | '-') term)*
//! term    := unary (('*' | '/') unary)*
//! unary   := '-' unary | '+' unary | power
//! power   := atom ('^' unary)?            right-associative, binds tighter than unary minus
//! atom    := number | string | id | KEYWORD | FUNC '(' args? ')' | '(' expr ')' | '[' args? ']'
//! ```
//! A Metrics Insights query ("SELECT AVG(CPUUtilization) FROM ...") is a different language:
//! it is sent to CloudWatch as written and never parsed here (`is_insights_query`).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    /// A quoted string: SEARCH's query, a label.
    Str(String),
    /// A metric id.
    Var(String),
    /// REPEAT, LINEAR, ASC, DESC: arguments of FILL and SORT.
    Keyword(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    /// A function, its arguments and the byte offset of its name (for located errors).
    Call(Func, Vec<Expr>, usize),
    /// `[m1, m2]`: an array of time series.
    Array(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

/// Every CloudWatch metric math function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Abs,
    AnomalyDetectionBand,
    Avg,
    Ceil,
    DatapointCount,
    Date,
    Day,
    DbPerfInsights,
    Diff,
    DiffTime,
    Epoch,
    Fill,
    First,
    Floor,
    Hour,
    If,
    InsightRuleMetric,
    Lambda,
    Last,
    Log,
    Log10,
    Max,
    MetricCount,
    Metrics,
    Min,
    Minute,
    Month,
    Period,
    Rate,
    RemoveEmpty,
    RunningSum,
    Search,
    ServiceQuota,
    Slice,
    Sort,
    Stddev,
    Sum,
    TimeSeries,
    Year,
}

/// (name, function, arguments allowed: min, max)
const FUNCS: &[(&str, Func, usize, usize)] = &[
    ("ABS", Func::Abs, 1, 1),
    ("ANOMALY_DETECTION_BAND", Func::AnomalyDetectionBand, 1, 2),
    ("AVG", Func::Avg, 1, 1),
    ("CEIL", Func::Ceil, 1, 1),
    ("DATAPOINT_COUNT", Func::DatapointCount, 1, 1),
    ("DATE", Func::Date, 1, 1),
    ("DAY", Func::Day, 1, 1),
    ("DB_PERF_INSIGHTS", Func::DbPerfInsights, 3, 3),
    ("DIFF", Func::Diff, 1, 1),
    ("DIFF_TIME", Func::DiffTime, 1, 1),
    ("EPOCH", Func::Epoch, 1, 1),
    ("FILL", Func::Fill, 2, 2),
    ("FIRST", Func::First, 1, 1),
    ("FLOOR", Func::Floor, 1, 1),
    ("HOUR", Func::Hour, 1, 1),
    ("IF", Func::If, 2, 3),
    ("INSIGHT_RULE_METRIC", Func::InsightRuleMetric, 2, 2),
    ("LAMBDA", Func::Lambda, 1, 8),
    ("LAST", Func::Last, 1, 1),
    ("LOG", Func::Log, 1, 1),
    ("LOG10", Func::Log10, 1, 1),
    ("MAX", Func::Max, 1, 1),
    ("METRIC_COUNT", Func::MetricCount, 1, 1),
    ("METRICS", Func::Metrics, 0, 1),
    ("MIN", Func::Min, 1, 1),
    ("MINUTE", Func::Minute, 1, 1),
    ("MONTH", Func::Month, 1, 1),
    ("PERIOD", Func::Period, 1, 1),
    ("RATE", Func::Rate, 1, 1),
    ("REMOVE_EMPTY", Func::RemoveEmpty, 1, 1),
    ("RUNNING_SUM", Func::RunningSum, 1, 1),
    ("SEARCH", Func::Search, 2, 3),
    ("SERVICE_QUOTA", Func::ServiceQuota, 1, 1),
    ("SLICE", Func::Slice, 3, 3),
    ("SORT", Func::Sort, 3, 4),
    ("STDDEV", Func::Stddev, 1, 1),
    ("SUM", Func::Sum, 1, 1),
    ("TIME_SERIES", Func::TimeSeries, 1, 1),
    ("YEAR", Func::Year, 1, 1),
];

const KEYWORDS: &[&str] = &["REPEAT", "LINEAR", "ASC", "DESC"];

impl Func {
    pub fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|(_, f, _, _)| *f == self)
            .map_or("?", |(n, _, _, _)| n)
    }

    /// Whether the simulator computes it bucket by bucket. The others need the whole window
    /// (RATE, RUNNING_SUM, SORT...) or live AWS (SEARCH, SERVICE_QUOTA...): a simulated
    /// session refuses a runbook using them instead of showing a metric with no data.
    pub fn simulated(self) -> bool {
        matches!(
            self,
            Func::Abs
                | Func::Avg
                | Func::Ceil
                | Func::Fill
                | Func::Floor
                | Func::If
                | Func::Log
                | Func::Log10
                | Func::Max
                | Func::Min
                | Func::Period
                | Func::Stddev
                | Func::Sum
                | Func::Minute
                | Func::Hour
                | Func::Day
                | Func::Date
                | Func::Month
                | Func::Year
                | Func::Epoch
        )
    }
}

/// The names of every function, for "did you mean" hints.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCS.iter().map(|(n, _, _, _)| *n)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the expression where the problem is.
    pub at: usize,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.at + 1)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    /// Operators and punctuation, one or two characters.
    Sym(&'static str),
}

/// Deep nesting is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 64;
/// Longer expressions are refused: CloudWatch allows 2,048 characters in an expression.
pub const MAX_LEN: usize = 2048;

const SYMS: &[&str] = &[
    "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "^", "(", ")", "[", "]", ",", "<", ">",
    "!",
];

fn err<T>(at: usize, message: impl Into<String>, hint: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        at,
        message: message.into(),
        hint: hint.into(),
    })
}

fn tokenize(src: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            // Exponent: 1e3, 2.5E-2.
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    while j < bytes.len() && bytes[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text = &src[start..i];
            let Ok(n) = text.parse::<f64>() else {
                return err(
                    start,
                    format!("bad number {text:?}"),
                    "write numbers like 100, 0.5 or 1e3",
                );
            };
            out.push((start, Tok::Num(n)));
        } else if c == '\'' || c == '"' {
            let start = i;
            let Some(len) = src[i + 1..].find(c) else {
                return err(
                    start,
                    format!("unterminated string: missing {c}"),
                    "close the quoted text",
                );
            };
            out.push((start, Tok::Str(src[i + 1..i + 1 + len].to_string())));
            i += len + 2;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((start, Tok::Ident(src[start..i].to_string())));
        } else if let Some(sym) = SYMS.iter().find(|s| src[i..].starts_with(**s)) {
            out.push((i, Tok::Sym(sym)));
            i += sym.len();
        } else {
            // Report the character, not a byte of it.
            let ch = src[i..].chars().next().unwrap_or('?');
            return err(
                i,
                format!("unexpected character {ch:?}"),
                "metric math uses + - * / ^, comparisons, AND/OR/NOT, numbers, metric ids and functions",
            );
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|(p, _)| *p).unwrap_or(self.end)
    }
    fn eat(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(t)) if *t == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(t)) if t == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                self.at(),
                "expression nested too deeply",
                "simplify the expression",
            );
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut lhs = self.and()?;
        while self.eat_word("OR") || self.eat("||") {
            let rhs = self.and()?;
            lhs = Expr::Bin(Op::Or, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.not()?;
        while self.eat_word("AND") || self.eat("&&") {
            let rhs = self.not()?;
            lhs = Expr::Bin(Op::And, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let e = if self.eat_word("NOT") || self.eat("!") {
            Expr::Not(Box::new(self.not()?))
        } else {
            self.cmp()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let lhs = self.sum()?;
        for (s, op) in [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.eat(s) {
                let rhs = self.sum()?;
                return Ok(Expr::Bin(op, Box::new(lhs), Box::new(rhs)));
            }
        }
        Ok(lhs)
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.term()?;
        loop {
            let op = if self.eat("+") {
                Op::Add
            } else if self.eat("-") {
                Op::Sub
            } else {
                break;
            };
            let rhs = self.term()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            let op = if self.eat("*") {
                Op::Mul
            } else if self.eat("/") {
                Op::Div
            } else {
                break;
            };
            let rhs = self.unary()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let e = if self.eat("-") {
            Expr::Neg(Box::new(self.unary()?))
        } else if self.eat("+") {
            self.unary()?
        } else {
            self.power()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.atom()?;
        if self.eat("^") {
            let exp = self.unary()?;
            return Ok(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    /// Comma-separated expressions up to `close`.
    fn list(&mut self, close: &str) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        if self.eat(close) {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(close) {
                return Ok(args);
            }
            if !self.eat(",") {
                return err(self.at(), format!("expected ',' or '{close}'"), "");
            }
        }
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Expr::Num(n))
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if !self.eat("(") {
                    if KEYWORDS.contains(&name.as_str()) {
                        return Ok(Expr::Keyword(name));
                    }
                    return Ok(Expr::Var(name));
                }
                let Some(&(_, func, min, max)) = FUNCS.iter().find(|(n, ..)| *n == name) else {
                    let upper = name.to_ascii_uppercase();
                    let hint = if FUNCS.iter().any(|(n, ..)| *n == upper) {
                        format!("CloudWatch functions are upper case: {upper}")
                    } else if let Some(c) = crate::diag::closest(&name, function_names()) {
                        format!("did you mean {c}?")
                    } else {
                        "see the CloudWatch metric math functions: SUM, AVG, MAX, MIN, RATE, FILL, IF, METRICS...".into()
                    };
                    return err(at, format!("unknown metric math function `{name}`"), hint);
                };
                let args = self.list(")")?;
                if args.len() < min || args.len() > max {
                    let want = if min == max {
                        format!("{min}")
                    } else {
                        format!("{min} to {max}")
                    };
                    return err(
                        at,
                        format!("{name} takes {want} argument(s), not {}", args.len()),
                        match func {
                            Func::Sum | Func::Avg | Func::Min | Func::Max | Func::Stddev => {
                                format!("for each timestamp across metrics write {name}([a, b])")
                            }
                            _ => String::new(),
                        },
                    );
                }
                Ok(Expr::Call(func, args, at))
            }
            Some(Tok::Sym("(")) => {
                self.pos += 1;
                let e = self.expr()?;
                if !self.eat(")") {
                    return err(self.at(), "expected ')'", "a `(` is never closed");
                }
                Ok(e)
            }
            Some(Tok::Sym("[")) => {
                self.pos += 1;
                Ok(Expr::Array(self.list("]")?))
            }
            Some(Tok::Sym(c)) => err(
                at,
                format!("expected a number, a metric id or '(' before {c:?}"),
                "",
            ),
            None => err(at, "expression ends too early", "complete the expression"),
        }
    }
}

/// A Metrics Insights query ("SELECT AVG(CPUUtilization) FROM SCHEMA(...)"): a language of its
/// own, sent to CloudWatch as written.
pub fn is_insights_query(expr: &str) -> bool {
    expr.trim_start()
        .get(..7)
        .is_some_and(|w| w.eq_ignore_ascii_case("SELECT "))
}

/// What an expression needs to be evaluated for one bucket.
pub struct EvalContext<'a> {
    /// The bucket's start, Unix seconds (for HOUR, DAY... and EPOCH).
    pub t: i64,
    /// The expression's period in seconds (for PERIOD).
    pub period: f64,
    /// A metric id's value at this bucket; None: no datapoint.
    pub lookup: &'a mut dyn FnMut(&str) -> Option<f64>,
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, ParseError> {
        if src.len() > MAX_LEN {
            return err(
                MAX_LEN,
                format!("expression is {} characters long", src.len()),
                format!("CloudWatch allows at most {MAX_LEN}"),
            );
        }
        let toks = tokenize(src)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: src.len(),
            depth: 0,
        };
        let e = p.expr()?;
        if p.pos != p.toks.len() {
            return err(p.at(), "unexpected text after the expression", "");
        }
        Ok(e)
    }

    /// Metric ids the expression reads, in order of first use, without duplicates.
    pub fn refs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Var(v) = e
                && !out.contains(&v.as_str())
            {
                out.push(v.as_str());
            }
        });
        out
    }

    /// Metric ids used outside any FILL(...): where a missing datapoint drops the timestamp.
    pub fn unfilled_refs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_unfilled(&mut out);
        out
    }

    fn collect_unfilled<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Var(v) => {
                if !out.contains(&v.as_str()) {
                    out.push(v);
                }
            }
            Expr::Call(Func::Fill, _, _) => {}
            Expr::Num(_) | Expr::Str(_) | Expr::Keyword(_) => {}
            Expr::Neg(e) | Expr::Not(e) => e.collect_unfilled(out),
            Expr::Bin(_, a, b) => {
                a.collect_unfilled(out);
                b.collect_unfilled(out);
            }
            Expr::Call(_, args, _) | Expr::Array(args) => {
                args.iter().for_each(|a| a.collect_unfilled(out))
            }
        }
    }

    /// The first function the simulator cannot evaluate, with its offset.
    pub fn unsimulated(&self) -> Option<(Func, usize)> {
        let mut found = None;
        self.walk(&mut |e| {
            if let Expr::Call(f, _, at) = e
                && !f.simulated()
                && found.is_none()
            {
                found = Some((*f, *at));
            }
        });
        found
    }

    /// The function calls in the expression, with their offsets.
    pub fn calls(&self) -> Vec<(Func, &[Expr], usize)> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Call(f, args, at) = e {
                out.push((*f, args.as_slice(), *at));
            }
        });
        out
    }

    /// Visits every node, parents first.
    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Num(_) | Expr::Str(_) | Expr::Var(_) | Expr::Keyword(_) => {}
            Expr::Neg(e) | Expr::Not(e) => e.walk(f),
            Expr::Bin(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Call(_, args, _) | Expr::Array(args) => args.iter().for_each(|a| a.walk(f)),
        }
    }

    /// Evaluates one bucket. `None` (no point at this timestamp) when an operand has no
    /// datapoint, a division is by zero, the result is not a finite number, or the expression
    /// needs what one bucket cannot give (see `Func::simulated`).
    pub fn eval(&self, cx: &mut EvalContext<'_>) -> Option<f64> {
        let truth = |b: bool| if b { 1.0 } else { 0.0 };
        let v = match self {
            Expr::Num(n) => *n,
            Expr::Var(id) => (cx.lookup)(id)?,
            Expr::Str(_) | Expr::Keyword(_) | Expr::Array(_) => return None,
            Expr::Neg(e) => -e.eval(cx)?,
            Expr::Not(e) => truth(e.eval(cx)? == 0.0),
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval(cx)?, b.eval(cx)?);
                match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    Op::Div if b == 0.0 => return None,
                    Op::Div => a / b,
                    Op::Pow => a.powf(b),
                    Op::Lt => truth(a < b),
                    Op::Le => truth(a <= b),
                    Op::Gt => truth(a > b),
                    Op::Ge => truth(a >= b),
                    Op::Eq => truth(a == b),
                    Op::Ne => truth(a != b),
                    Op::And => truth(a != 0.0 && b != 0.0),
                    Op::Or => truth(a != 0.0 || b != 0.0),
                }
            }
            Expr::Call(func, args, _) => eval_call(*func, args, cx)?,
        };
        v.is_finite().then_some(v)
    }
}

fn eval_call(func: Func, args: &[Expr], cx: &mut EvalContext<'_>) -> Option<f64> {
    let one = |cx: &mut EvalContext<'_>| args.first()?.eval(cx);
    let calendar = |t: i64| chrono::DateTime::from_timestamp(t, 0);
    use chrono::{Datelike, Timelike};
    Some(match func {
        Func::Abs => one(cx)?.abs(),
        Func::Ceil => one(cx)?.ceil(),
        Func::Floor => one(cx)?.floor(),
        Func::Log => one(cx)?.ln(),
        Func::Log10 => one(cx)?.log10(),
        Func::Fill => match one(cx) {
            Some(v) => v,
            // REPEAT and LINEAR need the neighbouring points: one bucket has none.
            None => args.get(1)?.eval(cx)?,
        },
        Func::If => {
            let cond = one(cx)?;
            if cond != 0.0 {
                args.get(1)?.eval(cx)?
            } else {
                args.get(2)?.eval(cx)?
            }
        }
        Func::Sum | Func::Avg | Func::Min | Func::Max | Func::Stddev => {
            // Over an array, per timestamp. Over one series CloudWatch gives one number for
            // the whole window, which one bucket cannot.
            let Some(Expr::Array(items)) = args.first() else {
                return None;
            };
            let vals: Vec<f64> = items.iter().filter_map(|e| e.eval(cx)).collect();
            if vals.is_empty() {
                return None;
            }
            let n = vals.len() as f64;
            let mean = vals.iter().sum::<f64>() / n;
            match func {
                Func::Sum => vals.iter().sum(),
                Func::Avg => mean,
                Func::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
                Func::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                _ => (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt(),
            }
        }
        Func::Period => {
            one(cx)?;
            cx.period
        }
        Func::Minute => f64::from(calendar(cx.t)?.minute()),
        Func::Hour => f64::from(calendar(cx.t)?.hour()),
        Func::Day => f64::from(calendar(cx.t)?.weekday().number_from_monday()),
        Func::Date => f64::from(calendar(cx.t)?.day()),
        Func::Month => f64::from(calendar(cx.t)?.month()),
        Func::Year => f64::from(calendar(cx.t)?.year()),
        Func::Epoch => cx.t as f64,
        _ => return None,
    })
}

/// A path from `start` back to itself through `deps`, as the list of nodes starting at `start`.
/// Iterative DFS: metric lists are user input and must not overflow the stack.
pub(super) fn find_cycle(start: usize, deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    let mut visited = vec![false; deps.len()];
    // (node, next edge to try)
    let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
    visited[start] = true;
    while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
        if let Some(&next) = deps[node].get(*edge) {
            *edge += 1;
            if next == start {
                return Some(stack.iter().map(|(n, _)| *n).collect());
            }
            if !visited[next] {
                visited[next] = true;
                stack.push((next, 0));
            }
        } else {
            stack.pop();
        }
    }
    None
}

/// The metric ids an expression refers to (nothing for Metrics Insights queries, and nothing
/// for an expression that does not parse: validation reports those).
pub fn references(expr: &str) -> Vec<String> {
    if is_insights_query(expr) {
        return Vec::new();
    }
    Expr::parse(expr)
        .map(|e| e.refs().into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_at(src: &str, t: i64, vars: &[(&str, f64)]) -> Option<f64> {
        let e = Expr::parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
        let mut lookup = |id: &str| vars.iter().find(|(k, _)| *k == id).map(|(_, v)| *v);
        e.eval(&mut EvalContext {
            t,
            period: 60.0,
            lookup: &mut lookup,
        })
    }

    fn eval(src: &str, vars: &[(&str, f64)]) -> Option<f64> {
        eval_at(src, 0, vars)
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(eval("1 + 2 * 3", &[]), Some(7.0));
        assert_eq!(eval("(1 + 2) * 3", &[]), Some(9.0));
        assert_eq!(eval("10 - 4 - 3", &[]), Some(3.0));
        assert_eq!(eval("64 / 4 / 2", &[]), Some(8.0));
        assert_eq!(eval("2 ^ 3 ^ 2", &[]), Some(512.0));
        assert_eq!(eval("-2 ^ 2", &[]), Some(-4.0));
        assert_eq!(eval("--3", &[]), Some(3.0));
        assert_eq!(eval("2 * -3", &[]), Some(-6.0));
        assert_eq!(eval("1.5e3 + .5", &[]), Some(1500.5));
        assert_eq!(eval("1 + 1 > 1 AND 0 < 1", &[]), Some(1.0));
        assert_eq!(eval("NOT 1 || 0", &[]), Some(0.0));
        assert_eq!(eval("!(2 != 2) && 3 >= 3", &[]), Some(1.0));
    }

    #[test]
    fn metric_ids_and_functions() {
        let v = [("errors", 5.0), ("requests", 200.0), ("neg", -7.0)];
        assert_eq!(eval("100 * errors / requests", &v), Some(2.5));
        assert_eq!(eval("ABS(neg) + MAX([1, errors, 3])", &v), Some(12.0));
        assert_eq!(eval("MIN([errors, requests])", &v), Some(5.0));
        assert_eq!(eval("SUM([errors, requests, missing])", &v), Some(205.0));
        assert_eq!(eval("AVG([2, 4])", &v), Some(3.0));
        assert_eq!(eval("STDDEV([2, 4])", &v), Some(1.0));
        assert_eq!(eval("FILL(missing, 0) + errors", &v), Some(5.0));
        assert_eq!(eval("FILL(errors, 0)", &v), Some(5.0));
        assert_eq!(eval("100 * FILL(missing, 0) / requests", &v), Some(0.0));
        assert_eq!(eval("IF(errors > 1, 10, 20)", &v), Some(10.0));
        assert_eq!(eval("IF(errors > 9, 10)", &v), None, "no else: no point");
        assert_eq!(eval("CEIL(2.1) + FLOOR(2.9) + LOG10(100)", &v), Some(7.0));
        assert_eq!(eval("PERIOD(errors)", &v), Some(60.0));
        // 2026-12-01T17:03:00Z is a Tuesday.
        let t = 1_796_144_580;
        assert_eq!(
            eval_at("HOUR(errors) * 100 + MINUTE(errors)", t, &v),
            Some(1703.0)
        );
        assert_eq!(eval_at("DAY(errors)", t, &v), Some(2.0));
        assert_eq!(eval_at("EPOCH(errors)", t, &v), Some(t as f64));
    }

    #[test]
    fn whole_window_and_aws_only_functions_parse_but_are_not_simulated() {
        for (src, func) in [
            ("RATE(a)", Func::Rate),
            ("100 * a / SERVICE_QUOTA(a)", Func::ServiceQuota),
            ("SUM(a)", Func::Sum),
            (
                "SEARCH('{AWS/EC2,InstanceId} CPUUtilization', 'Average', 300)",
                Func::Search,
            ),
            ("SORT(METRICS(), MAX, DESC)", Func::Sort),
            ("FILL(a, REPEAT)", Func::Fill),
        ] {
            let e = Expr::parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
            assert!(
                eval(src, &[("a", 1.0)]).is_none() || func == Func::Fill,
                "{src}"
            );
            if func != Func::Fill && func != Func::Sum {
                assert_eq!(e.unsimulated().map(|(f, _)| f), Some(func), "{src}");
            }
        }
        // SUM over one series is a whole-window number: nothing per bucket.
        assert_eq!(eval("SUM(a)", &[("a", 1.0)]), None);
        assert_eq!(
            Expr::parse("RATE(a) + 1").unwrap().unsimulated(),
            Some((Func::Rate, 0))
        );
        assert_eq!(
            Expr::parse("1 + RATE(a)").unwrap().unsimulated(),
            Some((Func::Rate, 4))
        );
    }

    #[test]
    fn unknowns_and_division_by_zero_give_no_point() {
        assert_eq!(eval("100 * errors / requests", &[("errors", 1.0)]), None);
        assert_eq!(eval("1 / zero", &[("zero", 0.0)]), None);
        assert_eq!(eval("0 / 0", &[]), None);
        assert_eq!(
            eval("1e308 * 10", &[]),
            None,
            "overflow to inf is not a point"
        );
        assert_eq!(eval("(0 - 1) ^ 0.5", &[]), None, "NaN is not a point");
    }

    #[test]
    fn refs_are_deduplicated_in_order_and_skip_strings_and_keywords() {
        let e = Expr::parse("100 * (b + a) / FILL(b, 1)").unwrap();
        assert_eq!(e.refs(), vec!["b", "a"]);
        let e =
            Expr::parse("FILL(m1, REPEAT) + SEARCH('{AWS/EC2} x=\"y\"', 'Average', 300)").unwrap();
        assert_eq!(e.refs(), vec!["m1"]);
        assert_eq!(
            references("SELECT AVG(x) FROM SCHEMA(\"AWS/EC2\")"),
            Vec::<String>::new()
        );
        assert_eq!(references("a +"), Vec::<String>::new());
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("1 +", "ends too early"),
            ("(1 + 2", "expected ')'"),
            ("1 2", "unexpected text"),
            ("a $ b", "unexpected character"),
            ("SQRTX(a)", "unknown metric math function"),
            ("ABS(a, b)", "ABS takes 1 argument"),
            ("MAX(a, b)", "MAX takes 1 argument"),
            ("* 3", "expected a number"),
            ("", "ends too early"),
            ("'open", "unterminated string"),
            ("[a, b", "expected ',' or ']'"),
        ];
        for (src, want) in cases {
            let err = Expr::parse(src).unwrap_err();
            assert!(err.to_string().contains(want), "{src}: {err}");
        }
        assert_eq!(Expr::parse("a $ b").unwrap_err().at, 2);
        let e = Expr::parse("1 + sum([a])").unwrap_err();
        assert_eq!(
            (e.at, e.hint.as_str()),
            (4, "CloudWatch functions are upper case: SUM")
        );
        assert_eq!(
            Expr::parse("FILLL(a, 0)").unwrap_err().hint,
            "did you mean FILL?"
        );
        assert!(
            Expr::parse("MAX(a, b)")
                .unwrap_err()
                .hint
                .contains("MAX([a, b])")
        );
    }

    #[test]
    fn hostile_input_is_refused_not_a_stack_overflow() {
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(Expr::parse(&deep).is_err());
        let negs = "-".repeat(1_000) + "1";
        assert!(Expr::parse(&negs).is_err());
        let nots = "NOT ".repeat(500) + "1";
        assert!(Expr::parse(&nots).is_err());
        let arrays = "[".repeat(1_000) + &"]".repeat(1_000);
        assert!(Expr::parse(&arrays).is_err());
        assert!(
            Expr::parse(&"a+".repeat(2_000)).is_err(),
            "longer than CloudWatch allows"
        );
    }

    /// Deterministic random strings over the expression alphabet: parsing and evaluating never
    /// panic, and an error always points inside the text.
    #[test]
    fn random_expressions_never_panic() {
        const ALPHABET: &[&str] = &[
            "a", "b", "1", "0.5", "1e3", "+", "-", "*", "/", "^", "(", ")", "[", "]", ",", " ",
            "<", ">=", "==", "!", "AND", "OR", "NOT", "FILL(", "SUM(", "IF(", "RATE(", "'", "\"",
            "é", "REPEAT", "$",
        ];
        let mut x: u64 = 0xD1B5_4A32_D192_ED03;
        for _ in 0..5_000 {
            let mut src = String::new();
            for _ in 0..(x % 24) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                src.push_str(ALPHABET[(x >> 24) as usize % ALPHABET.len()]);
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match Expr::parse(&src) {
                Ok(e) => {
                    let _ = e.refs();
                    let _ = e.unsimulated();
                    let _ = eval(&src, &[("a", 2.0), ("b", 0.0)]);
                }
                Err(err) => assert!(err.at <= src.len(), "{src:?}: {err}"),
            }
        }
    }

    #[test]
    fn cycles() {
        // 0 -> 1 -> 2 -> 0, 3 -> 0
        let deps = vec![vec![1], vec![2], vec![0], vec![0]];
        assert_eq!(find_cycle(0, &deps), Some(vec![0, 1, 2]));
        assert_eq!(find_cycle(3, &deps), None);
        assert_eq!(find_cycle(0, &[vec![]]), None);
    }

    #[test]
    fn insights_queries() {
        assert!(is_insights_query(
            "  select AVG(x) FROM SCHEMA(\"AWS/EC2\")"
        ));
        assert!(!is_insights_query("selected_total * 2"));
        assert!(!is_insights_query("é"));
    }
}
