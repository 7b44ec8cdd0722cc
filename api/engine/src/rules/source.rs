//! Rule files as text: what the rules folder holds and what a release stores. A rule file
//! is a script at a path of the rules tree (`qii/v2.rhai`: the rule set's folder, then the
//! file) with, optionally, its test cases kept beside it (`qii/v2.tests.json`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use super::sandbox::content_hash;

/// One rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// Path in the rules tree, `/`-separated: `qii/v2.rhai`.
    pub path: String,
    pub source: String,
    /// The test cases kept beside the script, as JSON text.
    pub tests: Option<String>,
}

/// Where rule files come from. The engine reads rules only through this, so tests and
/// embedders run rules without a folder, and a host keeps them wherever it likes.
pub trait Loader: Send + Sync {
    /// Names the place, for error messages: a folder's path, `memory`.
    fn origin(&self) -> String;

    /// Every rule file with its test cases, in path order.
    fn load(&self) -> std::io::Result<Vec<RuleSource>>;
}

/// Rule files in a folder on disk: scripts below it, each with its `.tests.json` beside it.
#[derive(Debug, Clone)]
pub struct FolderLoader(pub PathBuf);

impl Loader for FolderLoader {
    fn origin(&self) -> String {
        self.0.display().to_string()
    }

    fn load(&self) -> std::io::Result<Vec<RuleSource>> {
        RuleSource::read_dir(&self.0)
    }
}

/// Rule files held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryLoader(pub Vec<RuleSource>);

impl Loader for MemoryLoader {
    fn origin(&self) -> String {
        "memory".to_owned()
    }

    fn load(&self) -> std::io::Result<Vec<RuleSource>> {
        let mut files = self.0.clone();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

impl RuleSource {
    /// Every script below `dir` with its test cases, in path order. A missing folder holds
    /// no rules.
    pub fn read_dir(dir: &Path) -> std::io::Result<Vec<RuleSource>> {
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for file in scripts_below(dir)? {
            let relative = file.strip_prefix(dir).unwrap_or(&file);
            let path = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let tests_file = file.with_extension("tests.json");
            out.push(RuleSource {
                path,
                source: std::fs::read_to_string(&file)?,
                tests: if tests_file.exists() {
                    Some(std::fs::read_to_string(&tests_file)?)
                } else {
                    None
                },
            });
        }
        Ok(out)
    }

    /// The rule set the file belongs to: the first folder of its path.
    pub fn rule_set(&self) -> &str {
        self.path.split('/').next().unwrap_or_default()
    }

    /// Where its test cases are kept: `qii/v2.tests.json`.
    pub fn tests_path(&self) -> String {
        format!(
            "{}.tests.json",
            self.path.strip_suffix(".rhai").unwrap_or(&self.path)
        )
    }

    /// Hash of the script and its test cases together: what identifies the file's content.
    pub fn content_key(&self) -> String {
        content_hash(&format!(
            "{}\u{0}{}",
            self.source,
            self.tests.as_deref().unwrap_or_default()
        ))
    }
}

/// What a set of rule files holds: path → content key. Two sets with the same state hold
/// the same rules.
pub fn state_of(sources: &[RuleSource]) -> BTreeMap<String, String> {
    sources
        .iter()
        .map(|s| (s.path.clone(), s.content_key()))
        .collect()
}

/// Checks a path given for a published file: `<rule set>/<name>.rhai`, lower-case letters,
/// digits, `_`, `-` and `.` only, no way out of the rules tree.
pub fn check_path(path: &str) -> Result<(), String> {
    let parts: Vec<&str> = path.split('/').collect();
    let valid_part = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            })
    };
    if parts.len() != 2 || !parts.iter().all(|p| valid_part(p)) || !path.ends_with(".rhai") {
        return Err(format!(
            "`{path}` is not a rule file path: write `<rule set>/<name>.rhai`, e.g. `qii/v3.rhai`, in lower-case letters, digits, `_`, `-` and `.`"
        ));
    }
    Ok(())
}

/// The files of `base` with `changes` applied: a changed path replaced, a new one added,
/// and each path in `removed` dropped. Sorted by path.
pub fn apply(base: &[RuleSource], changes: &[RuleSource], removed: &[String]) -> Vec<RuleSource> {
    let mut by_path: BTreeMap<String, RuleSource> =
        base.iter().map(|s| (s.path.clone(), s.clone())).collect();
    for path in removed {
        by_path.remove(path);
    }
    for change in changes {
        by_path.insert(change.path.clone(), change.clone());
    }
    by_path.into_values().collect()
}

/// Every file below `dir`, sorted.
fn files_below(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Every rule script below `dir`, sorted.
pub(super) fn scripts_below(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(files_below(dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, source: &str) -> RuleSource {
        RuleSource {
            path: path.into(),
            source: source.into(),
            tests: None,
        }
    }

    #[test]
    fn paths_stay_inside_the_rules_tree() {
        assert!(check_path("qii/v3.rhai").is_ok());
        assert!(check_path("expert_evaluation/v1.0.rhai").is_ok());
        for bad in [
            "../etc/passwd.rhai",
            "qii/../x.rhai",
            "/qii/v3.rhai",
            "v3.rhai",
            "qii/v3.txt",
            "qii/x/v3.rhai",
            "QII/v3.rhai",
            "qii/.hidden.rhai",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changes_replace_add_and_remove_by_path() {
        let base = vec![
            file("qii/v2.rhai", "a"),
            file("eligibility/activity.rhai", "e"),
        ];
        let out = apply(
            &base,
            &[file("qii/v2.rhai", "b"), file("qii/v3.rhai", "c")],
            &["eligibility/activity.rhai".into()],
        );
        let paths: Vec<(&str, &str)> = out
            .iter()
            .map(|s| (s.path.as_str(), s.source.as_str()))
            .collect();
        assert_eq!(paths, [("qii/v2.rhai", "b"), ("qii/v3.rhai", "c")]);
    }

    #[test]
    fn the_content_key_covers_the_test_cases() {
        let a = file("qii/v2.rhai", "x");
        let mut b = a.clone();
        b.tests = Some("[]".into());
        assert_ne!(a.content_key(), b.content_key());
        assert_eq!(a.tests_path(), "qii/v2.tests.json");
        assert_eq!(a.rule_set(), "qii");
    }
}
