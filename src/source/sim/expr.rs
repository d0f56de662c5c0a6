//! CloudWatch-style metric math for the simulator: `100 * errors / requests`.
//!
//! A hand-written recursive-descent parser rather than a crate: the grammar is five operators,
//! parentheses, numbers, metric ids and a handful of functions, and the semantics we need
//! (an unknown operand or a division by zero drops the point instead of producing NaN/inf) are
//! CloudWatch's, not a general-purpose evaluator's. About 200 lines is cheaper to own than a
//! dependency whose number semantics we would have to wrap anyway.
//!
//! Grammar (lowest precedence first):
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/') unary)*
//! unary   := '-' unary | power
//! power   := atom ('^' unary)?            right-associative, binds tighter than unary minus
//! atom    := number | id | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//! Functions (case-insensitive): ABS(x), MIN(a, ...), MAX(a, ...), FILL(x, v) (v when x has no
//! value at that timestamp).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(String),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Abs,
    Min,
    Max,
    Fill,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the expression where the problem is.
    pub at: usize,
    pub message: String,
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
    Ident(String),
    Sym(char),
}

/// Deep nesting is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 64;

fn tokenize(src: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
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
            let n = text.parse::<f64>().map_err(|_| ParseError {
                at: start,
                message: format!("bad number {text:?}"),
            })?;
            out.push((start, Tok::Num(n)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((start, Tok::Ident(src[start..i].to_string())));
        } else if "+-*/^(),".contains(c) {
            out.push((i, Tok::Sym(c)));
            i += 1;
        } else {
            // Report the character, not a byte of it.
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err(ParseError {
                at: i,
                message: format!("unexpected character {ch:?}"),
            });
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
    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            at: self.at(),
            message: message.into(),
        })
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("expression nested too deeply");
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let op = if self.eat('+') {
                Op::Add
            } else if self.eat('-') {
                Op::Sub
            } else {
                break;
            };
            let rhs = self.term()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            let op = if self.eat('*') {
                Op::Mul
            } else if self.eat('/') {
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
        let e = if self.eat('-') {
            Expr::Neg(Box::new(self.unary()?))
        } else if self.eat('+') {
            self.unary()?
        } else {
            self.power()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.atom()?;
        if self.eat('^') {
            let exp = self.unary()?;
            return Ok(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Expr::Num(n))
            }
            Some(Tok::Ident(name)) => {
                let at = self.at();
                self.pos += 1;
                if !self.eat('(') {
                    return Ok(Expr::Var(name));
                }
                let func = match name.to_ascii_uppercase().as_str() {
                    "ABS" => Func::Abs,
                    "MIN" => Func::Min,
                    "MAX" => Func::Max,
                    "FILL" => Func::Fill,
                    _ => {
                        return Err(ParseError {
                            at,
                            message: format!(
                                "unknown function {name:?} (the simulator knows ABS, MIN, MAX, FILL)"
                            ),
                        });
                    }
                };
                let mut args = vec![self.expr()?];
                while self.eat(',') {
                    args.push(self.expr()?);
                }
                if !self.eat(')') {
                    return self.err("expected ',' or ')'");
                }
                let ok = match func {
                    Func::Abs => args.len() == 1,
                    Func::Fill => args.len() == 2,
                    Func::Min | Func::Max => !args.is_empty(),
                };
                if !ok {
                    return Err(ParseError {
                        at,
                        message: format!("wrong number of arguments to {name}"),
                    });
                }
                Ok(Expr::Call(func, args))
            }
            Some(Tok::Sym('(')) => {
                self.pos += 1;
                let e = self.expr()?;
                if !self.eat(')') {
                    return self.err("expected ')'");
                }
                Ok(e)
            }
            Some(Tok::Sym(c)) => self.err(format!(
                "expected a number, a metric id or '(' before {c:?}"
            )),
            None => self.err("expression ends too early"),
        }
    }
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, ParseError> {
        let toks = tokenize(src)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: src.len(),
            depth: 0,
        };
        let e = p.expr()?;
        if p.pos != p.toks.len() {
            return p.err("unexpected text after the expression");
        }
        Ok(e)
    }

    /// Metric ids the expression reads, in order of first use, without duplicates.
    pub fn refs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(v) => {
                if !out.contains(&v.as_str()) {
                    out.push(v);
                }
            }
            Expr::Neg(e) => e.collect_refs(out),
            Expr::Bin(_, a, b) => {
                a.collect_refs(out);
                b.collect_refs(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_refs(out)),
        }
    }

    /// Evaluates with `lookup` giving each metric id's value at the timestamp. `None` (no point
    /// at this timestamp) when an operand is unknown, a division is by zero, or the result is
    /// not a finite number.
    pub fn eval(&self, lookup: &mut dyn FnMut(&str) -> Option<f64>) -> Option<f64> {
        let v = match self {
            Expr::Num(n) => *n,
            Expr::Var(id) => lookup(id)?,
            Expr::Neg(e) => -e.eval(lookup)?,
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval(lookup)?, b.eval(lookup)?);
                match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    Op::Div if b == 0.0 => return None,
                    Op::Div => a / b,
                    Op::Pow => a.powf(b),
                }
            }
            Expr::Call(Func::Abs, args) => args.first()?.eval(lookup)?.abs(),
            Expr::Call(Func::Fill, args) => match args.first()?.eval(lookup) {
                Some(v) => v,
                None => args.get(1)?.eval(lookup)?,
            },
            Expr::Call(f @ (Func::Min | Func::Max), args) => {
                let mut acc: Option<f64> = None;
                for a in args {
                    let v = a.eval(lookup)?;
                    acc = Some(match (acc, f) {
                        (None, _) => v,
                        (Some(x), Func::Min) => x.min(v),
                        (Some(x), _) => x.max(v),
                    });
                }
                acc?
            }
        };
        v.is_finite().then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str, vars: &[(&str, f64)]) -> Option<f64> {
        let e = Expr::parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
        e.eval(&mut |id| vars.iter().find(|(k, _)| *k == id).map(|(_, v)| *v))
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
    }

    #[test]
    fn metric_ids_and_functions() {
        let v = [("errors", 5.0), ("requests", 200.0), ("neg", -7.0)];
        assert_eq!(eval("100 * errors / requests", &v), Some(2.5));
        assert_eq!(eval("ABS(neg) + max(1, errors, 3)", &v), Some(12.0));
        assert_eq!(eval("MIN(errors, requests)", &v), Some(5.0));
        assert_eq!(eval("FILL(missing, 0) + errors", &v), Some(5.0));
        assert_eq!(eval("FILL(errors, 0)", &v), Some(5.0));
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
    fn refs_are_deduplicated_in_order() {
        let e = Expr::parse("100 * (b + a) / FILL(b, 1)").unwrap();
        assert_eq!(e.refs(), vec!["b", "a"]);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("1 +", "ends too early"),
            ("(1 + 2", "expected ')'"),
            ("1 2", "unexpected text"),
            ("a $ b", "unexpected character"),
            ("SQRTX(a)", "unknown function"),
            ("ABS(a, b)", "wrong number"),
            ("* 3", "expected a number"),
            ("", "ends too early"),
        ];
        for (src, want) in cases {
            let err = Expr::parse(src).unwrap_err();
            assert!(err.to_string().contains(want), "{src}: {err}");
        }
        assert_eq!(Expr::parse("a $ b").unwrap_err().at, 2);
    }

    #[test]
    fn hostile_nesting_is_refused_not_a_stack_overflow() {
        let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(Expr::parse(&deep).is_err());
        let negs = "-".repeat(10_000) + "1";
        assert!(Expr::parse(&negs).is_err());
    }
}
