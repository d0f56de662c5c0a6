//! Bounds on what tminus reads from files, so a hostile or mistaken file costs a clear error in
//! well under a second instead of memory, a hang or minutes of CPU.
//!
//! - Files are read only when they are regular files (a FIFO would block, `/dev/zero` never
//!   ends), and never past a size cap.
//! - YAML (runbooks, themes) is pre-scanned with yaml-rust2's event parser before any other
//!   parser sees it: nesting depth, node count and scalar length are capped, with a located
//!   error. Both YAML parsers tminus uses are quadratic in flow nesting (every token walks the
//!   stack of open simple keys), so the scan stops at the first level past the cap.
//! - Journals and recordings are read line by line with a cap on each line.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

use yaml_rust2::parser::{Event, Parser};

use crate::diag::Diagnostic;

/// The largest runbook or theme file: the shipped runbooks are a few kilobytes, and a runbook
/// with 2,000 metrics is well under this.
pub const MAX_YAML_BYTES: usize = 1024 * 1024;
/// Deepest nesting of mappings and sequences in a runbook or theme (the shipped runbooks use 5).
pub const MAX_YAML_DEPTH: usize = 32;
/// Most values (scalars, mappings, sequences) in one runbook or theme, aliases counted as the
/// values they repeat (a "billion laughs" file is refused before it is expanded).
pub const MAX_YAML_NODES: usize = 200_000;
/// Longest single YAML value, in characters: above any expression CloudWatch accepts (2,048).
pub const MAX_SCALAR_CHARS: usize = 4096;
/// Longest journal line: a record holds one note or alert message.
pub const MAX_JOURNAL_LINE: usize = 1024 * 1024;
/// Longest recording line: one update, at most a GetMetricData page of one metric (100,800
/// datapoints as JSON), or the header with the runbook's YAML.
pub const MAX_RECORDING_LINE: usize = 16 * 1024 * 1024;

fn human(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Why a file could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a regular file ({0})")]
    NotAFile(&'static str),
    #[error("larger than {}: is this the right file?", human(*.0))]
    TooLarge(usize),
    /// 1-based line and column of the first byte that is not UTF-8.
    #[error("not UTF-8 text at line {0}, column {1}")]
    NotUtf8(usize, usize),
}

impl ReadError {
    /// Where in the file the problem is (1:1 unless it is at a known place).
    pub fn position(&self) -> (usize, usize) {
        match self {
            ReadError::NotUtf8(line, col) => (*line, *col),
            _ => (1, 1),
        }
    }

    /// What to do about it, beyond the message.
    pub fn hint(&self) -> &'static str {
        match self {
            ReadError::Io(e) => match e.kind() {
                io::ErrorKind::NotFound => {
                    "check the path; it is relative to the current directory"
                }
                io::ErrorKind::PermissionDenied => "check the file's permissions",
                io::ErrorKind::IsADirectory => "give a file, not a directory",
                _ => "",
            },
            ReadError::NotAFile(_) => "give the path of a regular file",
            ReadError::TooLarge(_) => "",
            ReadError::NotUtf8(..) => "the file must be UTF-8 text",
        }
    }
}

/// What kind of thing a path is, when it is not a regular file.
fn kind(t: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Opens `path` for reading if it is a regular file. The type is checked before opening (a
/// FIFO blocks in open) and again on the open file (the path may have changed in between).
pub fn open_file(path: &Path) -> Result<File, ReadError> {
    if let Some(k) = kind(std::fs::metadata(path)?.file_type()) {
        return Err(ReadError::NotAFile(k));
    }
    let file = File::open(path)?;
    if let Some(k) = kind(file.metadata()?.file_type()) {
        return Err(ReadError::NotAFile(k));
    }
    Ok(file)
}

/// Reads a regular file of at most `max` bytes as UTF-8 text.
pub fn read_text(path: &Path, max: usize) -> Result<String, ReadError> {
    let file = open_file(path)?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Err(ReadError::TooLarge(max));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&good[start..]).chars().count() + 1;
        ReadError::NotUtf8(line, col)
    })
}

/// Reads a runbook or theme file within `MAX_YAML_BYTES`; a problem is one located diagnostic
/// whose message starts with `what` ("cannot read the runbook").
pub fn read_yaml(path: &Path, what: &str) -> Result<String, Diagnostic> {
    read_text(path, MAX_YAML_BYTES).map_err(|e| {
        let (line, col) = e.position();
        Diagnostic::new(
            &path.display().to_string(),
            line,
            col,
            format!("{what}: {e}"),
        )
        .with_hint(e.hint())
    })
}

const DEPTH_HINT: &str =
    "runbooks and themes need a few levels; check for runaway brackets or indentation";

/// Checks YAML text against the size, depth, node and scalar caps before it is parsed; the
/// first excess, located. Syntax errors are left to the parser that follows (which locates
/// them itself). Linear in the text, and stops at the first excess.
pub fn check_yaml(label: &str, text: &str) -> Result<(), Diagnostic> {
    if text.len() > MAX_YAML_BYTES {
        return Err(Diagnostic::new(
            label,
            1,
            1,
            format!(
                "larger than {}: is this the right file?",
                human(MAX_YAML_BYTES)
            ),
        ));
    }
    let mut parser = Parser::new_from_str(text);
    let mut nodes = 0usize;
    // Open collections (anchor id, 0 for none; nodes counted before it), and how many nodes
    // each anchor stands for: an alias counts as what it repeats, as the parsers expand it.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut anchored: HashMap<usize, usize> = HashMap::new();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(x) => x,
            // yaml-rust2 counts flow levels in a u8 and looks ahead to the end of a flow
            // collection that could be a key, so 256 open brackets end here, deeper than
            // the cap, before their events come.
            Err(e) if e.info().contains("recursion limit") => {
                let m = e.marker();
                return Err(Diagnostic::new(
                    label,
                    m.line(),
                    m.col() + 1,
                    format!("nested more than {MAX_YAML_DEPTH} levels deep"),
                )
                .with_hint(DEPTH_HINT));
            }
            // A syntax error before any excess: the parser that follows reports it, no
            // further into the text than this one got.
            Err(_) => return Ok(()),
        };
        let at = |message: String, hint: &str| {
            Err(Diagnostic::new(label, mark.line(), mark.col() + 1, message).with_hint(hint))
        };
        match event {
            Event::StreamEnd => return Ok(()),
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                open.push((anchor, nodes));
                nodes += 1;
                if open.len() > MAX_YAML_DEPTH {
                    return at(
                        format!("nested more than {MAX_YAML_DEPTH} levels deep"),
                        DEPTH_HINT,
                    );
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((anchor, start)) = open.pop()
                    && anchor != 0
                {
                    anchored.insert(anchor, nodes - start);
                }
            }
            Event::Scalar(ref value, _, anchor, _) => {
                nodes += 1;
                if anchor != 0 {
                    anchored.insert(anchor, 1);
                }
                let chars = value.chars().count();
                if chars > MAX_SCALAR_CHARS {
                    return at(
                        format!(
                            "a value of {chars} characters: at most {MAX_SCALAR_CHARS} are allowed"
                        ),
                        "",
                    );
                }
            }
            Event::Alias(anchor) => {
                nodes = nodes.saturating_add(anchored.get(&anchor).copied().unwrap_or(1));
            }
            _ => {}
        }
        if nodes > MAX_YAML_NODES {
            return at(
                format!("more than {MAX_YAML_NODES} values"),
                "runbooks and themes hold hundreds of values, not hundreds of thousands",
            );
        }
    }
}

/// The lines of a journal or recording (without their `\n`), each at most `max` bytes. A
/// longer line is an error naming it, read no further than the cap; so is a line that is not
/// UTF-8.
pub fn lines<R: BufRead>(reader: R, max: usize) -> Lines<R> {
    Lines {
        reader,
        max,
        line: 0,
        done: false,
    }
}

pub struct Lines<R> {
    reader: R,
    max: usize,
    line: usize,
    done: bool,
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = io::Result<String>;

    fn next(&mut self) -> Option<io::Result<String>> {
        if self.done {
            return None;
        }
        self.line += 1;
        let mut buf = Vec::new();
        let read = (&mut self.reader)
            .take(self.max as u64 + 1)
            .read_until(b'\n', &mut buf);
        let fail = |done: &mut bool, e: io::Error| {
            *done = true;
            Some(Err(e))
        };
        match read {
            Err(e) => return fail(&mut self.done, e),
            Ok(0) => {
                self.done = true;
                return None;
            }
            Ok(_) => {}
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        } else if buf.len() > self.max {
            let e = io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "line {} is longer than {}: not a tminus file, or a damaged one",
                    self.line,
                    human(self.max)
                ),
            );
            return fail(&mut self.done, e);
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        match String::from_utf8(buf) {
            Ok(s) => Some(Ok(s)),
            Err(_) => {
                let e = io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line {} is not UTF-8 text", self.line),
                );
                fail(&mut self.done, e)
            }
        }
    }
}

/// The largest recording a war room writes: at the demo's 5 MB an hour, two days of a busy
/// event; past it the recording stops (said on screen) and the war room goes on.
pub const MAX_RECORDING_BYTES: u64 = 256 * 1024 * 1024;

/// The longest history `tminus plan` reads: a quarter covers seasonality without reading a year.
pub const MAX_HISTORY_SECS: i64 = 90 * 86_400;
/// The shortest it reads (a day or more is better: less misses the daily peak).
pub const MIN_HISTORY_SECS: i64 = 3_600;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn deep_nesting_is_refused_at_the_first_level_too_deep_in_well_under_a_second() {
        let n = 100_000;
        for (text, line) in [
            (format!("event: {}{}\n", "[".repeat(n), "]".repeat(n)), 1),
            (
                format!("event: {}1{}\n", "{a: ".repeat(n), "}".repeat(n)),
                1,
            ),
            (
                (0..n)
                    .map(|i| format!("{}a:\n", " ".repeat(i % 200)))
                    .collect::<String>(),
                MAX_YAML_DEPTH + 1,
            ),
        ] {
            let start = Instant::now();
            let r = check_yaml("deep.yaml", &text[..text.len().min(MAX_YAML_BYTES)]);
            let Err(d) = r else {
                panic!("{}", &text[..100])
            };
            assert!(
                start.elapsed() < Duration::from_millis(500),
                "{:?}",
                start.elapsed()
            );
            assert!(d.message.contains("nested more than 32 levels"), "{d}");
            assert_eq!(d.line, line, "{d}");
        }
        // Flow nesting: located at the bracket that goes one level too deep (the top-level
        // mapping is the first level).
        let d = check_yaml("x", &format!("a: {}{}", "[".repeat(40), "]".repeat(40))).unwrap_err();
        assert_eq!((d.line, d.column), (1, 3 + MAX_YAML_DEPTH), "{d}");
        // At the cap it is fine.
        let ok = format!("a: {}{}\n", "[".repeat(31), "]".repeat(31));
        assert!(check_yaml("x", &ok).is_ok());
    }

    #[test]
    fn long_values_many_values_and_big_texts_are_refused_located() {
        let long = format!("event:\n  name: {}\n", "x".repeat(MAX_SCALAR_CHARS + 1));
        let d = check_yaml("r.yaml", &long).unwrap_err();
        assert_eq!((d.line, d.column), (2, 9), "{d}");
        assert!(d.message.contains("4097 characters"), "{d}");
        let many = format!("a: [{}]", "1,".repeat(MAX_YAML_NODES));
        assert!(
            check_yaml("r.yaml", &many)
                .unwrap_err()
                .message
                .contains("more than 200000 values")
        );
        let big = "#".repeat(MAX_YAML_BYTES + 1);
        assert!(
            check_yaml("r.yaml", &big)
                .unwrap_err()
                .message
                .contains("1 MiB")
        );
        // Aliases count as what they repeat.
        let laughs = format!(
            "a: &a [{}]\nb: &b [{}]\nc: &c [{}]\n",
            "1,".repeat(99),
            "*a,".repeat(99),
            "*b,".repeat(99)
        );
        let d = check_yaml("r.yaml", &laughs).unwrap_err();
        assert_eq!(d.line, 3, "{d}");
        assert!(d.message.contains("more than 200000 values"), "{d}");
        assert!(check_yaml("r.yaml", "a: &a [1, 2]\nb: *a\nc: *a\n").is_ok());
        // Broken YAML is left to the parser that reports it.
        assert!(check_yaml("r.yaml", "a: [1, 2\nb: {").is_ok());
    }

    #[test]
    fn only_regular_files_are_read_and_never_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, "ab\ncé\u{1F600}").unwrap();
        assert_eq!(read_text(&p, 100).unwrap(), "ab\ncé\u{1F600}");
        assert!(matches!(read_text(&p, 4), Err(ReadError::TooLarge(4))));
        std::fs::write(&p, b"ok\nab\xff").unwrap();
        let e = read_text(&p, 100).unwrap_err();
        assert_eq!(e.position(), (2, 3), "{e}");
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 100),
            Err(ReadError::NotAFile("a character device"))
        ));
        assert!(matches!(
            read_text(dir.path(), 100),
            Err(ReadError::NotAFile("a directory"))
        ));
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Would block forever in open() if the type were not checked first.
            assert!(matches!(
                read_text(&fifo, 100),
                Err(ReadError::NotAFile("a FIFO"))
            ));
        }
        let d = read_yaml(Path::new("/dev/zero"), "cannot read the runbook").unwrap_err();
        assert!(
            d.to_string()
                .starts_with("/dev/zero:1:1: error: cannot read the runbook: not a regular file (a character device)"),
            "{d}"
        );
    }

    #[test]
    fn lines_are_capped_and_numbered() {
        let text = "one\r\ntwo\n\nthree";
        let got: Vec<String> = lines(text.as_bytes(), 10).map(Result::unwrap).collect();
        assert_eq!(got, ["one", "two", "", "three"]);
        let long = format!("ok\n{}\nnever", "x".repeat(11));
        let mut it = lines(long.as_bytes(), 10);
        assert_eq!(it.next().unwrap().unwrap(), "ok");
        let e = it.next().unwrap().unwrap_err();
        assert!(
            e.to_string().contains("line 2 is longer than 10 bytes"),
            "{e}"
        );
        assert!(it.next().is_none());
        // A line of exactly the cap, with or without its newline, is fine.
        let exact = "x".repeat(10);
        assert_eq!(lines(exact.as_bytes(), 10).count(), 1);
        assert_eq!(lines(format!("{exact}\n").as_bytes(), 10).count(), 1);
        // /dev/zero never ends and has no newline: the cap ends it.
        let zero = std::io::BufReader::new(File::open("/dev/zero").unwrap());
        assert!(lines(zero, 1024).next().unwrap().is_err());
        let bad = lines(&b"a\n\xff\n"[..], 10).nth(1).unwrap().unwrap_err();
        assert!(bad.to_string().contains("line 2 is not UTF-8"), "{bad}");
    }
}
