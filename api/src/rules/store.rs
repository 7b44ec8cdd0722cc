//! The rules a running server scores with. Loaded at start from the rules folder and
//! reloaded when a file there changes: the new rules are validated first (every script
//! compiles, every declaration is sound, every test case passes) and only then replace the
//! old ones, atomically; a rejected change is logged with its errors and the rules in force
//! stay. A folder that fails at start leaves scoring unavailable while the rest serves.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::Duration,
};

use super::{check, sandbox::content_hash, Registry, RuleError, Sandbox};

/// How often the folder is looked at: changes apply within two of these.
const POLL: Duration = Duration::from_secs(1);

/// The current rules, shared by all requests.
pub struct RuleStore {
    dir: PathBuf,
    current: RwLock<Result<Arc<Registry>, RuleError>>,
    /// Why the latest change of the folder was rejected, while it stays rejected.
    rejected: RwLock<Option<String>>,
}

impl RuleStore {
    /// Loads the rules folder; a failure is kept and reported to whoever asks for rules.
    pub fn load(dir: &Path) -> Self {
        let current = validated(dir).map(Arc::new);
        if let Err(err) = &current {
            tracing::error!(error = %err, "rules failed to load; scoring is unavailable");
        }
        Self {
            dir: dir.to_owned(),
            current: RwLock::new(current),
            rejected: RwLock::new(None),
        }
    }

    /// The rules in force, or the error that keeps them from loading.
    pub fn current(&self) -> Result<Arc<Registry>, RuleError> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Why the folder's latest change was not applied, if it was not.
    pub fn rejected(&self) -> Option<String> {
        self.rejected
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The folder the rules come from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Re-reads the folder: applies it when it validates, keeps the rules in force when not.
    pub fn reload(&self) {
        match validated(&self.dir) {
            Ok(registry) => {
                let versions: Vec<String> = registry
                    .versions()
                    .map(|v| {
                        format!(
                            "{} {} from {}",
                            v.spec.name, v.spec.version, v.spec.effective_from
                        )
                    })
                    .collect();
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Ok(Arc::new(registry));
                *self.rejected.write().unwrap_or_else(|e| e.into_inner()) = None;
                tracing::info!(versions = ?versions, "rules reloaded");
            }
            Err(err) => {
                tracing::error!(error = %err, "rules change rejected; the rules in force stay");
                *self.rejected.write().unwrap_or_else(|e| e.into_inner()) = Some(err.to_string());
            }
        }
    }

    /// Watches the folder in the background, reloading on every change.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let store = Arc::clone(self);
        tokio::spawn(async move {
            let mut seen = fingerprint(&store.dir);
            loop {
                tokio::time::sleep(POLL).await;
                let now = fingerprint(&store.dir);
                if now != seen {
                    seen = now;
                    let worker = Arc::clone(&store);
                    // Compiling and checking scripts is CPU work: keep it off the request threads.
                    let _ = tokio::task::spawn_blocking(move || worker.reload()).await;
                }
            }
        })
    }
}

/// The rules of `dir`, if every script and test case there passes its checks.
fn validated(dir: &Path) -> Result<Registry, RuleError> {
    let reports = check::check_dir(&Sandbox::new(), dir)
        .map_err(|e| RuleError::new(&dir.display().to_string(), format!("cannot read: {e}")))?;
    let errors: Vec<String> = reports
        .iter()
        .flat_map(|r| r.errors.iter().cloned())
        .collect();
    if let Some(first) = errors.first() {
        let more = match errors.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(RuleError::new(
            &dir.display().to_string(),
            format!("{first}{more}"),
        ));
    }
    Registry::load(dir)
}

/// What the folder holds: every file's path and content hash, sorted.
fn fingerprint(dir: &Path) -> String {
    super::registry::files_below(dir)
        .unwrap_or_default()
        .iter()
        .map(|path| {
            let content = std::fs::read_to_string(path).unwrap_or_default();
            format!("{}={}\n", path.display(), content_hash(&content))
        })
        .collect()
}
