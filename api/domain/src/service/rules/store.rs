//! The rules a running server scores with.
//!
//! The rules in force are the latest release in the database, so that every server on one
//! database agrees: on PostgreSQL a release is announced to every server as it commits
//! (`LISTEN`/`NOTIFY`), and each server also looks for a newer one every poll (1 s by
//! default) and switches to it.
//! Changes come three ways, each validated first (every script compiles, every declaration
//! is sound, every test case passes) and refused with their errors otherwise, the rules in
//! force staying: an edit of the rules folder (what changed in it since it was last
//! applied), a publish of one file through the API or the command line, and a rollback of a
//! rule set to an earlier release.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::Duration,
};

use sea_orm::{DatabaseConnection, DbErr};

use qii_engine::rules::{
    sandbox::summary,
    source::{self, FolderLoader, Loader, RuleSource},
    Registry, RuleError, Sandbox,
};

use super::releases::{self, Attempt, Conflict, NewRelease, Release};

/// How many times a change is retried when other changes keep landing first.
const ATTEMPTS: usize = 5;

/// Who the folder's changes are recorded as made by.
const FOLDER_ACTOR: &str = "rules folder";

/// The rules in force and where they came from.
struct InForce {
    registry: Result<Arc<Registry>, RuleError>,
    /// The release they are; none before the first.
    release: Option<i64>,
    /// Why the latest change of the folder was not applied, while it stays so.
    rejected: Option<String>,
}

/// How a store treats the rules.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Scoring counts the raw events instead of reading the rollups (`QII_FIGURES=events`).
    pub read_events: bool,
    /// Rule sets whose scoring or policy scripts may change without test cases
    /// (`QII_RULES_UNTESTED`).
    pub untested: std::collections::BTreeSet<String>,
}

impl StoreOptions {
    /// The options the server's configuration sets.
    pub fn of(config: &crate::config::Config) -> Self {
        Self {
            read_events: config.figures == "events",
            untested: config
                .rules_untested
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

/// The current rules, shared by all requests.
pub struct RuleStore {
    /// Scoring counts the raw events instead of reading the rollups (`QII_FIGURES=events`).
    read_events: bool,
    /// Rule sets that may change without test cases.
    untested: std::collections::BTreeSet<String>,
    dir: PathBuf,
    db: DatabaseConnection,
    sandbox: Sandbox,
    in_force: RwLock<InForce>,
    /// The folder as last looked at; held while syncing so that syncs do not overlap.
    folder_seen: tokio::sync::Mutex<Option<BTreeMap<String, String>>>,
    /// Each release as it is put in force here (its id), for subscribers.
    announced: tokio::sync::broadcast::Sender<i64>,
}

/// Why a change was not made.
#[derive(Debug)]
pub enum ChangeError {
    /// The rules it would put in force fail their checks; every error found.
    Rejected(Vec<RuleError>),
    /// Other changes kept landing first.
    Busy,
    Database(DbErr),
}

impl From<DbErr> for ChangeError {
    fn from(e: DbErr) -> Self {
        Self::Database(e)
    }
}

/// The outcome of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// A new release, now in force.
    Released(i64),
    /// The rules already were so: the release in force, unchanged.
    Unchanged(i64),
}

impl RuleStore {
    /// The rules in force for the database `db`, after applying what changed in the rules
    /// folder `dir` since it was last applied (on a new database: the whole folder).
    pub async fn open(db: DatabaseConnection, dir: &Path, options: StoreOptions) -> Self {
        let store = Self {
            read_events: options.read_events,
            untested: options.untested,
            dir: dir.to_owned(),
            db,
            sandbox: Sandbox::new(),
            in_force: RwLock::new(InForce {
                registry: Err(RuleError::new(
                    &dir.display().to_string(),
                    "no rules have been published",
                )),
                release: None,
                rejected: None,
            }),
            folder_seen: tokio::sync::Mutex::new(None),
            announced: tokio::sync::broadcast::channel(16).0,
        };
        store.sync().await;
        if let Err(err) = &store.read().registry {
            tracing::error!(error = %err, "no rules in force; scoring is unavailable");
        }
        store
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, InForce> {
        self.in_force.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, InForce> {
        self.in_force.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The rules in force, or the error that keeps them from loading.
    pub fn current(&self) -> Result<Arc<Registry>, RuleError> {
        self.read().registry.clone()
    }

    /// The release in force.
    pub fn release(&self) -> Option<i64> {
        self.read().release
    }

    /// Each release from now on as it is put in force on this server (its id). A receiver
    /// that falls behind skips to the latest.
    pub fn releases(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.announced.subscribe()
    }

    /// Why the folder's latest change was not applied, if it was not.
    pub fn rejected(&self) -> Option<String> {
        self.read().rejected.clone()
    }

    /// The folder the rules come from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database releases are kept in.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The sandbox scripts run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Applies a change of the folder, then follows the database to its latest release.
    pub async fn sync(&self) {
        let mut seen = self.folder_seen.lock().await;
        if let Err(e) = self.apply_folder(&mut seen).await {
            tracing::error!(error = %e, "the rules folder could not be applied");
        }
        if let Err(e) = self.follow_database().await {
            tracing::error!(error = %e, "the rules in the database could not be read");
        }
    }

    /// Watches the folder and the database in the background: every `poll`, and on
    /// PostgreSQL also as soon as another server announces a release (`LISTEN`), so that
    /// a release is in force on every replica moments after it commits.
    pub fn watch(self: &Arc<Self>, poll: Duration) -> tokio::task::JoinHandle<()> {
        let store = Arc::clone(self);
        tokio::spawn(async move {
            let mut listener = store.listen().await;
            loop {
                match listener.as_mut() {
                    Some(listening) => {
                        let heard = tokio::select! {
                            _ = tokio::time::sleep(poll) => Ok(()),
                            heard = listening.recv() => heard.map(|_| ()),
                        };
                        if let Err(e) = heard {
                            // The listener reconnects on its next call; until then the
                            // poll goes on.
                            tracing::warn!(error = %e, "release announcements interrupted");
                            tokio::time::sleep(poll).await;
                        }
                    }
                    None => {
                        tokio::time::sleep(poll).await;
                        listener = store.listen().await;
                    }
                }
                store.sync().await;
            }
        })
    }

    /// A listener for release announcements, on PostgreSQL.
    async fn listen(&self) -> Option<sea_orm::sqlx::postgres::PgListener> {
        if self.db.get_database_backend() != sea_orm::DbBackend::Postgres {
            return None;
        }
        let pool = self.db.get_postgres_connection_pool();
        let listening = async {
            let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen(releases::RELEASE_CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match listening.await {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for release announcements; polling");
                None
            }
        }
    }

    /// Makes a release of what changed in the folder since it was last applied.
    async fn apply_folder(&self, seen: &mut Option<BTreeMap<String, String>>) -> Result<(), DbErr> {
        let files = match read_folder(&self.dir).await {
            Ok(files) => files,
            Err(e) => {
                self.write().rejected = Some(format!("{}: cannot read: {e}", self.dir.display()));
                return Ok(());
            }
        };
        let state = source::state_of(&files);
        if seen.as_ref() == Some(&state) {
            return Ok(());
        }
        let latest = releases::latest(&self.db).await?;
        let applied = latest
            .as_ref()
            .map(Release::folder_state)
            .unwrap_or_default();
        let changed: Vec<RuleSource> = files
            .iter()
            .filter(|f| applied.get(&f.path) != Some(&f.content_key()))
            .cloned()
            .collect();
        let removed: Vec<String> = applied
            .keys()
            .filter(|p| !state.contains_key(*p))
            .cloned()
            .collect();
        if changed.is_empty() && removed.is_empty() {
            // The folder is as last applied (say, a broken file was removed again).
            self.write().rejected = None;
            *seen = Some(state);
            return Ok(());
        }
        let note = folder_note(&applied, &changed, &removed);
        let outcome = self
            .change(FOLDER_ACTOR, "folder", note, Some(&state), |base| {
                Ok(source::apply(base, &changed, &removed))
            })
            .await;
        match outcome {
            Ok(_) => {
                self.write().rejected = None;
                *seen = Some(state);
            }
            Err(ChangeError::Rejected(errors)) => {
                let why = summary(&errors);
                tracing::error!(error = %why, "rules folder change rejected; the rules in force stay");
                self.write().rejected = Some(why);
                *seen = Some(state);
            }
            // Retried on the next look.
            Err(ChangeError::Busy) => {}
            Err(ChangeError::Database(e)) => return Err(e),
        }
        Ok(())
    }

    /// Switches to the latest release of the database when it is not the one in force.
    async fn follow_database(&self) -> Result<(), DbErr> {
        let Some(id) = releases::latest_id(&self.db).await? else {
            return Ok(());
        };
        if self.release() == Some(id) {
            return Ok(());
        }
        let Some(release) = releases::load(&self.db, id).await? else {
            return Ok(());
        };
        let sandbox = self.sandbox.clone();
        let files = release.files;
        let pool = sandbox.clone();
        let built = pool
            .run(move || Registry::validated(&sandbox, &files))
            .await;
        match built {
            Ok(Ok(registry)) => self.install(id, registry).await,
            Ok(Err(errors)) => {
                let why = format!("release {id} cannot be used: {}", summary(&errors));
                tracing::error!(error = %why, "the rules in force stay");
                let mut in_force = self.write();
                in_force.rejected = Some(why);
                // Do not try it again every second.
                in_force.release = Some(id);
            }
            Err(e) => tracing::error!(error = %e, "checking release {id} failed"),
        }
        Ok(())
    }

    /// Puts a release in force here, then adds to the change feed the stored rankings it
    /// outdates (or makes current again).
    async fn install(&self, id: i64, registry: Registry) {
        let versions = version_labels(&registry);
        if self.read().release.is_some_and(|current| current > id) {
            return;
        }
        // The rollups count the activities these rules count before the rules answer here.
        match registry.activity_rules() {
            Ok(rules) => match crate::scoring::rollups::sync_conditions(&self.db, &rules).await {
                Ok(true) => tracing::info!(
                    release = id,
                    "activity conditions put in force in the rollups"
                ),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, "the rollups could not take the activity conditions")
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "the activity rules of release {id} cannot be read")
            }
        }
        let mut registry = registry;
        registry.read_events = self.read_events;
        let registry = Arc::new(registry);
        {
            let mut in_force = self.write();
            if in_force.release.is_some_and(|current| current > id) {
                return;
            }
            in_force.registry = Ok(registry.clone());
            in_force.release = Some(id);
        }
        tracing::info!(release = id, versions = ?versions, "rules in force");
        // None listening is no error.
        let _ = self.announced.send(id);
        match crate::scoring::changes::record_outdated(&self.db, &registry).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                release = id,
                changes = n,
                "stored rankings outdated or current again"
            ),
            // Every replica tries when it puts the release in force, and each again at
            // its next start: the feed catches up.
            Err(e) => {
                tracing::error!(error = %e, "the change feed could not be brought up to date")
            }
        }
    }

    /// Makes a release of the files `make` derives from those in force, once they pass
    /// every check, and puts it in force here (other servers follow at its announcement, or within two polls).
    /// `make` may refuse with errors of its own. When another change lands first, the
    /// change is made again on top of it.
    pub async fn change(
        &self,
        actor: &str,
        action: &str,
        note: String,
        folder_state: Option<&BTreeMap<String, String>>,
        make: impl Fn(&[RuleSource]) -> Result<Vec<RuleSource>, Vec<RuleError>>,
    ) -> Result<Changed, ChangeError> {
        for _ in 0..ATTEMPTS {
            let latest = releases::latest(&self.db).await?;
            let base = latest.as_ref().map(|r| r.files.as_slice()).unwrap_or(&[]);
            let attempt = Attempt {
                actor,
                action,
                note: &note,
                folder_state,
                base,
            };
            let next = match make(base) {
                Ok(next) => next,
                Err(errors) => return Err(self.refuse(&attempt, &[], errors).await),
            };
            if let Some(latest) = &latest {
                if source::state_of(&next) == source::state_of(base) && folder_state.is_none() {
                    return Ok(Changed::Unchanged(latest.row.id));
                }
            }
            let registry = match self.checked(&next, base).await? {
                Ok(registry) => registry,
                Err(errors) => return Err(self.refuse(&attempt, &next, errors).await),
            };
            let carried = latest
                .as_ref()
                .map(Release::folder_state)
                .unwrap_or_default();
            let new = NewRelease {
                parent: latest.as_ref().map(|r| r.row.id),
                actor,
                action,
                note: note.clone(),
                folder_state: folder_state.unwrap_or(&carried),
                files: &next,
                base,
            };
            match releases::insert(&self.db, new).await? {
                Ok(id) => {
                    self.install(id, registry).await;
                    return Ok(Changed::Released(id));
                }
                Err(Conflict) => continue,
            }
        }
        Err(ChangeError::Busy)
    }

    /// The rules of `next` once they pass every check: each script compiles, declares soundly
    /// and passes its test cases; a scoring or policy script that changed carries test cases
    /// (unless its rule set may go without); and no version label stands for two contents.
    /// Otherwise every error found.
    pub async fn checked(
        &self,
        next: &[RuleSource],
        base: &[RuleSource],
    ) -> Result<Result<Registry, Vec<RuleError>>, DbErr> {
        let sandbox = self.sandbox.clone();
        let files = next.to_vec();
        let pool = sandbox.clone();
        let registry = match pool
            .run(move || Registry::validated(&sandbox, &files))
            .await
        {
            Ok(Ok(registry)) => registry,
            Ok(Err(errors)) => return Ok(Err(errors)),
            Err(e) => return Ok(Err(vec![e])),
        };
        let changed: Vec<&RuleSource> = next
            .iter()
            .filter(|f| {
                base.iter()
                    .find(|b| b.path == f.path)
                    .is_none_or(|b| b.content_key() != f.content_key())
            })
            .collect();
        let mut errors = self.untested(&registry, &changed);
        errors.extend(self.relabelled(&registry, &changed).await?);
        Ok(if errors.is_empty() {
            Ok(registry)
        } else {
            Err(errors)
        })
    }

    /// Changed scoring and policy scripts without test cases, where their rule set needs them.
    fn untested(&self, registry: &Registry, changed: &[&RuleSource]) -> Vec<RuleError> {
        let testable: std::collections::HashSet<&str> = registry
            .declared()
            .filter(|d| d.testable)
            .map(|d| d.path)
            .collect();
        changed
            .iter()
            .filter(|f| f.tests.is_none() && testable.contains(f.path.as_str()))
            .filter(|f| !self.untested.contains(f.rule_set()))
            .map(|f| {
                RuleError::new(
                    &f.path,
                    format!(
                        "publish test cases with it (`{}`): rule set `{}` takes no script without \
                         them, so that what it must give is checked before it is in force",
                        f.tests_path(),
                        f.rule_set()
                    ),
                )
            })
            .collect()
    }

    /// Changed scripts declaring a version label that was published before with other
    /// content: a version stands for one content, for good.
    async fn relabelled(
        &self,
        registry: &Registry,
        changed: &[&RuleSource],
    ) -> Result<Vec<RuleError>, DbErr> {
        let changed_paths: std::collections::HashSet<&str> =
            changed.iter().map(|f| f.path.as_str()).collect();
        let labels: Vec<_> = registry
            .declared()
            .filter(|d| changed_paths.contains(d.path))
            .map(|d| {
                (
                    d.path.to_owned(),
                    d.name.to_owned(),
                    d.version.to_owned(),
                    d.hash.to_owned(),
                )
            })
            .collect();
        let mut errors = Vec::new();
        for (path, name, version, hash) in labels {
            let earlier = releases::scripts_of_rule_set(&self.db, &name, &hash).await?;
            let sandbox = self.sandbox.clone();
            let pool = sandbox.clone();
            let found = pool
                .run(move || {
                    earlier.into_iter().find_map(|s| {
                        let script = sandbox.compile_cached(&s.path, &s.source).ok()?;
                        let (n, v) = qii_engine::rules::declaration::label_of(&sandbox, &script)?;
                        (n == name && v == version).then_some((s.path, s.hash, n, v))
                    })
                })
                .await
                .unwrap_or(None);
            if let Some((other_path, other_hash, name, version)) = found {
                errors.push(RuleError::new(
                    &path,
                    format!(
                        "declares version `{version}` of rule set `{name}`, which was published \
                         before with other content ({other_path}, content {}): a version \
                         stands for one content; give this one a new version label",
                        &other_hash[..other_hash.len().min(12)]
                    ),
                ));
            }
        }
        Ok(errors)
    }

    /// Records a refused attempt in the history and the audit log (once per folder state
    /// for the folder's), and says why it was refused.
    async fn refuse(
        &self,
        attempt: &Attempt<'_>,
        files: &[RuleSource],
        errors: Vec<RuleError>,
    ) -> ChangeError {
        if let Err(e) = releases::insert_rejection(&self.db, attempt, files, &errors).await {
            tracing::error!(error = %e, "a refused change of the rules could not be recorded");
        }
        ChangeError::Rejected(errors)
    }
}

/// The versions a registry holds, as logs and metrics name them: `qii 2.0 from 2017-10`.
pub fn version_labels(registry: &Registry) -> Vec<String> {
    registry
        .versions()
        .map(|v| {
            format!(
                "{} {} from {}",
                v.spec.name, v.spec.version, v.spec.effective_from
            )
        })
        .collect()
}

/// Reads the folder off the request threads.
async fn read_folder(dir: &Path) -> std::io::Result<Vec<RuleSource>> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || FolderLoader(dir).load())
        .await
        .map_err(std::io::Error::other)?
}

/// What changed in the folder, for the release's note.
fn folder_note(
    applied: &BTreeMap<String, String>,
    changed: &[RuleSource],
    removed: &[String],
) -> String {
    let mut parts: Vec<String> = changed
        .iter()
        .map(|f| {
            let how = if applied.contains_key(&f.path) {
                "changed"
            } else {
                "added"
            };
            format!("{} {how}", f.path)
        })
        .collect();
    parts.extend(removed.iter().map(|p| format!("{p} removed")));
    format!("rules folder: {}", parts.join(", "))
}
