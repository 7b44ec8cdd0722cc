//! Names that scripts and imports declare (target metrics, figure keys, rule set names).

/// Longest lower_snake_case name accepted.
pub const NAME_MAX: usize = 64;

/// A lower_snake_case name — a target metric, a figure key — checked and trimmed: letters,
/// digits and single `_`, starting with a letter and not ending with `_`. Otherwise the
/// message, made with `what` and `example` (e.g. "metric name" and `update_days`).
pub fn snake_name(what: &str, example: &str, value: &str) -> Result<String, String> {
    let name = value.trim();
    let ok = !name.is_empty()
        && name.len() <= NAME_MAX
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "`{name}` is not a {what}: use lower_snake_case (letters, digits, single `_`), \
             at most {NAME_MAX} characters, e.g. `{example}`"
        ))
    }
}
