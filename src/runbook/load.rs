//! Reading a runbook: YAML syntax and types through serde_yaml (first error, located), then
//! every semantic problem at once through `validate`.

use std::path::Path;

use super::model::Runbook;
use super::validate::validate;
use crate::diag::{self, Diagnostic};

/// Parses and validates runbook text. `label` names the file in diagnostics.
pub fn parse(label: &str, text: &str) -> Result<Runbook, Vec<Diagnostic>> {
    if text.trim().is_empty() {
        return Err(vec![
            Diagnostic::new(label, 1, 1, "the runbook is empty").with_hint(
                "a runbook needs at least `event:` with `name:` and `starts_at:`; see runbooks/ for examples",
            ),
        ]);
    }
    let runbook: Runbook = match serde_yaml::from_str(text) {
        Ok(r) => r,
        Err(e) => return Err(vec![diag::from_yaml_error(label, text, &e)]),
    };
    let problems = validate(label, text, &runbook);
    if problems.is_empty() {
        Ok(runbook)
    } else {
        Err(problems)
    }
}

/// Reads and parses a runbook file; an unreadable file is one diagnostic at 1:1.
pub fn load(path: &Path) -> Result<Runbook, Vec<Diagnostic>> {
    let label = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&label, &text),
        Err(e) => Err(vec![
            Diagnostic::new(&label, 1, 1, format!("cannot read the runbook: {e}"))
                .with_hint(read_hint(&e)),
        ]),
    }
}

/// What to do about a file that cannot be read, beyond the OS's own words.
pub(crate) fn read_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "check the path; it is relative to the current directory",
        std::io::ErrorKind::PermissionDenied => "check the file's permissions",
        std::io::ErrorKind::InvalidData => "the file must be UTF-8 text",
        std::io::ErrorKind::IsADirectory => "give a file, not a directory",
        _ => "",
    }
}
