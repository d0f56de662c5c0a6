//! Command output on stdout and stderr that never panics. `println!` panics when the reader
//! went away (`tminus report | head -c 100`) or the disk is full (`> /dev/full`); a command
//! that has done its work must end with an exit status instead.

use std::io::{self, Write};

/// The reader of standard output went away (a closed pipe): the command stops quietly, as any
/// Unix filter does, with success.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct Closed;

/// Writes `text` to standard output through one lock and flushes it. A closed pipe is
/// `Closed`; any other failure (no space left) is an error saying what failed.
pub fn print(text: &str) -> anyhow::Result<()> {
    let written = {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    written.map_err(stdout_error)
}

/// What a failed write to standard output means for the command.
pub fn stdout_error(e: io::Error) -> anyhow::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Closed.into()
    } else {
        anyhow::Error::new(e).context("writing to standard output")
    }
}

/// A line on standard error; a closed or full stderr is ignored (there is nowhere left to
/// say anything).
pub fn say(line: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// A writer that remembers its first error: for reports that write many lines and go on
/// after a failed one, then need to know whether all of it arrived.
pub struct Tracked<W> {
    inner: W,
    pub error: Option<io::Error>,
}

impl<W: Write> Tracked<W> {
    pub fn new(inner: W) -> Self {
        Tracked { inner, error: None }
    }

    fn note<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r
            && self.error.is_none()
        {
            self.error = Some(io::Error::new(e.kind(), e.to_string()));
        }
        r
    }
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn tracked_keeps_the_first_error_and_closed_pipes_are_told_apart() {
        let mut t = Tracked::new(Full);
        assert!(writeln!(t, "a").is_err());
        assert_eq!(
            t.error.as_ref().map(io::Error::kind),
            Some(io::ErrorKind::StorageFull)
        );
        assert!(
            stdout_error(io::Error::from(io::ErrorKind::BrokenPipe))
                .downcast_ref::<Closed>()
                .is_some()
        );
        let full = stdout_error(io::Error::from_raw_os_error(28));
        assert!(full.downcast_ref::<Closed>().is_none());
        assert!(format!("{full:#}").starts_with("writing to standard output: "));
    }
}
