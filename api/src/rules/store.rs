//! The rules a running server scores with: loaded at start from the rules folder. A
//! folder that fails to load leaves scoring unavailable (each request gets the script's
//! error) while everything else keeps serving.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use super::{Registry, RuleError};

/// The current rules, shared by all requests.
pub struct RuleStore {
    dir: PathBuf,
    current: RwLock<Result<Arc<Registry>, RuleError>>,
}

impl RuleStore {
    /// Loads the rules folder; a failure is kept and reported to whoever asks for rules.
    pub fn load(dir: &Path) -> Self {
        let current = Registry::load(dir).map(Arc::new);
        if let Err(err) = &current {
            tracing::error!(error = %err, "rules failed to load; scoring is unavailable");
        }
        Self {
            dir: dir.to_owned(),
            current: RwLock::new(current),
        }
    }

    /// The rules in force, or the error that keeps them from loading.
    pub fn current(&self) -> Result<Arc<Registry>, RuleError> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The folder the rules come from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
