//! Reading what a script's function declares (`index()`, `targets()`, `policy()`, the
//! activity rules) into the engine's types, with errors an administrator can act on: the
//! path of the offending key (`dimensions[2].indicators[0].standardise`) and the line and
//! column where the key is written in the script.
//!
//! A declaration goes through JSON on its way in, so that a number is a number: `20`, `20.0`
//! and `2e1` are read alike wherever an integer or a decimal is expected.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{RuleError, Sandbox, Script};

/// A declaration returned by a script function, kept as data to read and to locate errors in.
pub struct Declaration<'a> {
    script: &'a Script,
    function: &'a str,
    value: Value,
}

impl<'a> Declaration<'a> {
    /// Calls `function()` of the script and keeps what it returns.
    pub fn call(
        sandbox: &Sandbox,
        script: &'a Script,
        function: &'a str,
    ) -> Result<Self, RuleError> {
        let returned = sandbox.call(script, function, ())?;
        let value = serde_json::to_value(&returned).map_err(|e| {
            RuleError::new(
                &script.name,
                format!("`{function}()` returned a value that is not data: {e}"),
            )
        })?;
        Ok(Self {
            script,
            function,
            value: numbers_as_written(value),
        })
    }

    /// The declaration read as `T`; an error names the key's path, line and column.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, RuleError> {
        serde_path_to_error::deserialize(&self.value).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            let path = (path != ".").then_some(path);
            self.error(path.as_deref(), message)
        })
    }

    /// An error about the key at `path` (none: the declaration as a whole), located in the
    /// script where it can be found.
    pub fn error(&self, path: Option<&str>, message: impl Into<String>) -> RuleError {
        let message = message.into();
        let mut err = RuleError::new(
            &self.script.name,
            match path {
                Some(path) => format!("`{}()` declares `{path}` wrongly: {message}", self.function),
                None => format!("`{}()`: {message}", self.function),
            },
        );
        err.path = path.map(str::to_owned);
        let located = path
            .and_then(|p| locate(self.script.source(), &self.value, p, &message))
            .or_else(|| self.script.function_line(self.function).map(|l| (l, 1)));
        if let Some((line, column)) = located {
            err.line = Some(line);
            err.column = Some(column);
        }
        err
    }
}

/// The rule set and version label a script declares (`index()`, `targets()` or
/// `policy()`), without checking the rest of its declaration; none when it declares none.
pub fn label_of(sandbox: &Sandbox, script: &Script) -> Option<(String, String)> {
    let function = ["index", "targets", "policy"]
        .into_iter()
        .find(|f| script.defines(f, 0))?;
    let value = sandbox.call(script, function, ()).ok()?;
    let map = value.try_cast::<rhai::Map>()?;
    let text = |key: &str| map.get(key).and_then(|v| v.clone().into_string().ok());
    Some((text("name")?, text("version")?))
}

/// Integral decimals become integers (`20.0` reads as `20` where an integer is expected;
/// integers read as decimals anyway), and decimals that are not finite stay as JSON gives them.
fn numbers_as_written(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_written).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_written(v)))
                .collect(),
        ),
        other => other,
    }
}

/// One step of a key's path.
#[derive(Debug, PartialEq)]
enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

/// `dimensions[2].indicators[0].standardise` → its steps.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                out.push(Step::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

/// Where the key at `path` is written in `source`: its 1-based line and column.
///
/// A declaration written out literally has its keys in the source in the order the value
/// holds them, so the key is the n-th `key:` of the source when it is the n-th of its name in
/// the value. A declaration built by helper functions writes a key once for many; then a
/// value named in the message (an unknown method `"minmax"`) or the key's first writing is
/// the best place to point at.
fn locate(source: &str, value: &Value, path: &str, message: &str) -> Option<(usize, usize)> {
    let steps = steps(path);
    let key = steps.iter().rev().find_map(|s| match s {
        Step::Key(k) => Some(*k),
        Step::Index(_) => None,
    })?;
    let written = key_positions(source, key);
    // A value the message quotes (`unknown variant `minmax``), written once in the script.
    let quoted = message
        .split('`')
        .nth(1)
        .filter(|q| !q.is_empty() && *q != key)
        .map(|q| find_all(source, &format!("\"{q}\"")))
        .filter(|found| found.len() == 1)
        .map(|found| found[0]);
    if let Some(at) = quoted {
        return Some(line_column(source, at));
    }
    let ordinal = ordinal_of(value, &steps, key);
    let at = match ordinal {
        Some((n, total)) if total == written.len() => written.get(n).copied(),
        _ => written.first().copied(),
    }?;
    Some(line_column(source, at))
}

/// The n-th occurrence (0-based) of `key` among all keys of that name in the value, in
/// document order, and how many there are; none when the path does not lead to the key
/// (an unknown field is not in the types, but it is in the value).
fn ordinal_of(value: &Value, steps: &[Step], key: &str) -> Option<(usize, usize)> {
    // The value of the path's last key, to compare addresses with.
    let last_key = steps.iter().rposition(|s| matches!(s, Step::Key(_)))?;
    let mut target = value;
    for step in &steps[..=last_key] {
        target = match (step, target) {
            (Step::Key(k), Value::Object(map)) => map.get(*k)?,
            (Step::Index(i), Value::Array(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    let mut seen = 0;
    let mut found = None;
    walk(value, &mut |k, v| {
        if k == key {
            if std::ptr::eq(v, target) {
                found = Some(seen);
            }
            seen += 1;
        }
    });
    found.map(|n| (n, seen))
}

/// Every key and its value, depth first.
fn walk<'v>(value: &'v Value, visit: &mut impl FnMut(&str, &'v Value)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                visit(k, v);
                walk(v, visit);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// Byte offsets where `key` is written as a map key (`key:` or `"key":`), outside comments
/// and string values.
fn key_positions(source: &str, key: &str) -> Vec<usize> {
    let bytes = source.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    // After `at`, past spaces, a single `:` (not `::`).
    let colon_after = |at: usize| {
        let rest = source
            .get(at..)
            .unwrap_or("")
            .trim_start_matches([' ', '\t']);
        rest.starts_with(':') && !rest.starts_with("::")
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = source[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + n + 4);
            }
            b'"' | b'`' => {
                let quote = bytes[i];
                let mut end = i + 1;
                while end < bytes.len() && bytes[end] != quote {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                let end = end.min(bytes.len());
                if quote == b'"' && &source[i + 1..end] == key && colon_after(end + 1) {
                    out.push(i);
                }
                i = end + 1;
            }
            b if is_word(b) => {
                let start = i;
                while i < bytes.len() && is_word(bytes[i]) {
                    i += 1;
                }
                if &source[start..i] == key && colon_after(i) {
                    out.push(start);
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn find_all(source: &str, needle: &str) -> Vec<usize> {
    source.match_indices(needle).map(|(at, _)| at).collect()
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, at: usize) -> (usize, usize) {
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_keys_and_indexes() {
        assert_eq!(
            steps("dimensions[2].indicators[0].standardise"),
            vec![
                Step::Key("dimensions"),
                Step::Index(2),
                Step::Key("indicators"),
                Step::Index(0),
                Step::Key("standardise")
            ]
        );
    }

    #[test]
    fn keys_are_found_as_written_and_not_in_comments_or_values() {
        let source = "// weight: in a comment\nlet w = #{ weight: 1, \"weight\": 2, weights: 3, x: \"weight: no\" };";
        let found = key_positions(source, "weight");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(line_column(source, found[0]), (2, 12));
    }

    #[test]
    fn the_nth_key_of_a_literal_declaration_is_located() {
        let source =
            "fn index() {\n  #{ items: [\n    #{ a: 1 },\n    #{ a: 2 },\n    #{ a: 3 } ] }\n}";
        let value = serde_json::json!({ "items": [{ "a": 1 }, { "a": 2 }, { "a": 3 }] });
        assert_eq!(
            locate(source, &value, "items[1].a", "invalid type"),
            Some((4, 8))
        );
    }
}
