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
    // Size, nesting and value length first: the YAML parser is quadratic in nesting.
    if let Err(d) = crate::limits::check_yaml(label, text) {
        return Err(vec![d]);
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

/// Reads and parses a runbook file; an unreadable file (missing, not a regular file, too large,
/// not UTF-8) is one located diagnostic.
pub fn load(path: &Path) -> Result<Runbook, Vec<Diagnostic>> {
    let label = path.display().to_string();
    match crate::limits::read_yaml(path, "cannot read the runbook") {
        Ok(text) => parse(&label, &text),
        Err(d) => Err(vec![d]),
    }
}
