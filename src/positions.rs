//! Where each YAML node starts, by path ("metrics[2].warn"), so semantic errors found on the
//! deserialized model can point at the offending node. serde_yaml keeps no positions in the
//! values it produces, so the text is walked a second time with yaml-rust2's event parser.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// 1-based (line, column).
pub type Pos = (usize, usize);

/// Where the text ends, counting line breaks as YAML does (CR, LF and CRLF): the last line and
/// the column after its last character. The parsers place a null at the end of a stream, or an
/// error in a file without a final newline, one line further; diagnostics are clamped here.
pub fn end_of(text: &str) -> Pos {
    let line = text.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1;
    let tail = text.rsplit(['\n', '\r']).next().unwrap_or("");
    (line, tail.chars().count() + 1)
}

/// `pos`, or the end of the text when it lies past it.
pub fn within(pos: Pos, end: Pos) -> Pos {
    if pos.0 > end.0 || (pos.0 == end.0 && pos.1 > end.1) {
        end
    } else {
        pos
    }
}

#[derive(Debug, Clone)]
pub struct Positions {
    /// Path of a node -> where its value starts.
    values: HashMap<String, Pos>,
    /// Path of a mapping entry -> where its key starts (for "unknown key"-style problems).
    keys: HashMap<String, Pos>,
    /// Path of a mapping entry whose key appears again in the same mapping -> the mapping's
    /// path, the key, and where it appears the second time (the one to remove or merge).
    repeated: HashMap<String, (String, String, Pos)>,
    /// The end of the text: no position is past it.
    end: Pos,
}

impl Positions {
    /// Best effort: on a YAML syntax error the nodes seen before it are kept. Never panics.
    pub fn build(text: &str) -> Positions {
        let mut b = Builder::default();
        let mut parser = Parser::new_from_str(text);
        // A scan error only truncates the index; serde_yaml reports the syntax error itself.
        let _ = parser.load(&mut b, false);
        Positions {
            values: b.values,
            keys: b.keys,
            repeated: b.repeated,
            end: end_of(text),
        }
    }

    /// Where the key of the entry at `path` appears a second time in its mapping, if it does.
    pub fn repeated_key(&self, path: &str) -> Option<Pos> {
        self.repeated
            .get(path)
            .map(|(_, _, at)| within(*at, self.end))
    }

    /// Every key given twice in one mapping, as (mapping path, key, where it is given the second
    /// time), in file order.
    pub fn repeated_keys(&self) -> Vec<(&str, &str, Pos)> {
        let mut all: Vec<(&str, &str, Pos)> = self
            .repeated
            .values()
            .map(|(mapping, key, at)| (mapping.as_str(), key.as_str(), within(*at, self.end)))
            .collect();
        all.sort_by_key(|r| r.2);
        all
    }

    /// Where the value at `path` starts; falls back to the nearest ancestor that exists (a
    /// missing `metrics[2].expression` points at `metrics[2]`), and finally to 1:1.
    pub fn value(&self, path: &str) -> Pos {
        self.lookup(&self.values, path)
    }

    /// Where the key of the entry at `path` starts, else where its value (or ancestor) starts.
    pub fn key(&self, path: &str) -> Pos {
        match self.keys.get(path) {
            Some(p) => within(*p, self.end),
            None => self.value(path),
        }
    }

    /// Whether the path was present in the text (e.g. to tell a default from an explicit value).
    pub fn has(&self, path: &str) -> bool {
        self.values.contains_key(path)
    }

    fn lookup(&self, map: &HashMap<String, Pos>, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(pos) = map.get(p) {
                return within(*pos, self.end);
            }
            match parent(p) {
                Some(up) => p = up,
                None => return (1, 1),
            }
        }
    }
}

/// "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" -> "" -> None.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

enum Frame {
    Map {
        path: String,
        /// The key whose value comes next, or None while a key is expected.
        key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
    repeated: HashMap<String, (String, String, Pos)>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// yaml-rust2 markers count lines from 1 and columns from 0.
fn pos(m: Marker) -> Pos {
    (m.line().max(1), m.col() + 1)
}

impl Builder {
    /// Records a node starting at `mark`, returning its path, or None when the node is a key.
    fn node(&mut self, scalar_key: Option<&str>, mark: Marker) -> Option<String> {
        // libyaml-style parsers mark a block collection's start after its first key or dash;
        // the collection really starts at its first child, so take whichever comes first.
        if let Some(Frame::Map { path, .. } | Frame::Seq { path, .. }) = self.stack.last()
            && let Some(p) = self.values.get_mut(path)
        {
            *p = (*p).min(pos(mark));
        }
        let path = match self.stack.last_mut() {
            None => String::new(),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                p
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => join(path, &k),
                None => {
                    // This node is a key. Non-scalar keys get a placeholder name nobody looks up.
                    let k = scalar_key.unwrap_or("?").to_string();
                    let full = join(path, &k);
                    match self.keys.entry(full) {
                        Entry::Occupied(first) => {
                            self.repeated
                                .entry(first.key().clone())
                                .or_insert_with(|| (path.clone(), k.clone(), pos(mark)));
                        }
                        Entry::Vacant(first) => {
                            first.insert(pos(mark));
                        }
                    }
                    *key = Some(k);
                    return None;
                }
            },
        };
        self.values.entry(path.clone()).or_insert(pos(mark));
        Some(path)
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(ref value, ..) => {
                self.node(Some(value), mark);
            }
            Event::Alias(_) => {
                self.node(Some("*alias"), mark);
            }
            Event::MappingStart(..) => {
                // A complex key (a mapping used as a key) still needs a frame to balance its end.
                let path = self.node(None, mark).unwrap_or_else(|| "?".into());
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.node(None, mark).unwrap_or_else(|| "?".into());
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
event:
  name: x
metrics:
  - id: a
    warn: 1
  - { id: b, crit: 2 }
list: [1, [2, 3]]
";

    #[test]
    fn indexes_values_and_keys_by_path() {
        let p = Positions::build(DOC);
        assert_eq!(p.value("event.name"), (2, 9));
        assert_eq!(p.key("event.name"), (2, 3));
        assert_eq!(p.value("metrics[0].id"), (4, 9));
        assert_eq!(p.value("metrics[0].warn"), (5, 11));
        assert_eq!(p.value("metrics[1].crit"), (6, 20));
        assert_eq!(p.value("metrics[0]"), (4, 5));
        assert_eq!(p.value("metrics[1]"), (6, 5));
        assert_eq!(p.value("metrics"), (4, 3));
        assert_eq!(p.value(""), (1, 1));
        assert_eq!(p.value("list[1][1]"), (7, 15));
        assert!(p.has("metrics[1].id"));
        assert!(!p.has("metrics[1].warn"));
    }

    #[test]
    fn repeated_keys_are_found_where_they_repeat() {
        let p = Positions::build("a:\n  x: 1\n  y: 2\n  x: 3\n  x: 4\nb: { k: 1, k: 2 }\na: 5\n");
        assert_eq!(p.repeated_key("a.x"), Some((4, 3)));
        assert_eq!(p.repeated_key("b.k"), Some((6, 12)));
        assert_eq!(p.repeated_key("a"), Some((7, 1)));
        assert_eq!(p.repeated_key("a.y"), None);
        assert_eq!(
            p.repeated_keys(),
            [("a", "x", (4, 3)), ("b", "k", (6, 12)), ("", "a", (7, 1))]
        );
        // The first occurrence is still the one paths point at.
        assert_eq!(p.key("a.x"), (2, 3));
    }

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        let p = Positions::build(DOC);
        assert_eq!(p.value("metrics[1].expression"), p.value("metrics[1]"));
        assert_eq!(p.value("nothing.here"), (1, 1));
        assert_eq!(Positions::build("").value("a"), (1, 1));
    }

    #[test]
    fn survives_broken_yaml() {
        let p = Positions::build("a: [1, 2\nb: {c: ");
        assert_eq!(p.value("a[0]"), (1, 5));
        let _ = Positions::build("? [a]\n: 1\n- x\n");
    }
}
