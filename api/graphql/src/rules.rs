//! The rules' history and changes: releases (each the set of rule files in force after one
//! change), publishing a rule file, and returning a rule set to an earlier release.

use crate::Id;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::rule_release;

use super::ContextExt;
use qii_domain::service::rules as service;
use qii_domain::service::rules::Changed;
use qii_engine::period::Period;
use qii_engine::rules::{sandbox::content_hash, RuleSource};

/// One file of a release.
#[derive(SimpleObject)]
pub struct RuleFile {
    /// Path in the rules tree, e.g. `qii/v3.rhai`.
    path: String,
    /// The rule set it belongs to: the first folder of its path.
    rule_set: String,
    /// SHA-256 of the script: the version identity stored with every score.
    content_hash: String,
    /// Whether it carries test cases.
    has_tests: bool,
}

/// The set of rule files in force after one change. The latest release is in force on
/// every server of the database.
pub struct RuleRelease(pub(crate) rule_release::Model);

/// The set of rule files in force after one change. The latest release is in force on
/// every server of the database.
#[Object]
impl RuleRelease {
    /// The release's id.
    async fn id(&self) -> Id {
        self.0.id.into()
    }
    /// The release it was made from.
    async fn parent_id(&self) -> Option<Id> {
        self.0.parent_id.map(Into::into)
    }
    /// When the change was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who made the change (`rules folder` for edits of the folder).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// `folder`, `publish` or `rollback`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// What changed.
    async fn note(&self) -> &str {
        &self.0.note
    }
    /// The files it holds, by path.
    async fn files(&self, ctx: &Context<'_>) -> Result<Vec<RuleFile>> {
        let app = ctx.app()?;
        let release = service::release(&app.actor, &app.rules, self.0.id).await?;
        Ok(release
            .files
            .into_iter()
            .map(|f| RuleFile {
                rule_set: f.rule_set().to_owned(),
                content_hash: content_hash(&f.source),
                has_tests: f.tests.is_some(),
                path: f.path,
            })
            .collect())
    }
    /// Whether this release is the one in force.
    async fn in_force(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx.app()?.rules.release() == Some(self.0.id))
    }
    /// `released` (a set of rules that was put in force) or `rejected` (a change refused by
    /// its checks, from the folder or the API: it holds no files and was never in force).
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    /// For a rejected change, every error that refused it; empty otherwise.
    async fn errors(&self) -> Vec<RuleProblem> {
        self.0
            .errors
            .as_deref()
            .and_then(|e| serde_json::from_str::<Vec<RuleProblem>>(e).ok())
            .unwrap_or_default()
    }
}

/// One error found in the rules, where it is.
#[derive(SimpleObject, serde::Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RuleProblem {
    /// The file: a script (`qii/v3.rhai`) or its test cases (`qii/v3.tests.json`).
    script: String,
    /// 1-based line in the file, when known.
    line: Option<i32>,
    /// 1-based column, when known.
    column: Option<i32>,
    /// For a declaration, the path of the offending key:
    /// `dimensions[2].indicators[0].standardise`.
    key_path: Option<String>,
    /// What is wrong.
    message: String,
}

impl From<&qii_engine::rules::RuleError> for RuleProblem {
    fn from(e: &qii_engine::rules::RuleError) -> Self {
        Self {
            script: e.script.clone(),
            line: e.line.map(|l| l as i32),
            column: e.column.map(|c| c as i32),
            key_path: e.path.clone(),
            message: e.message.clone(),
        }
    }
}

/// A rule script as stored, by its content hash.
#[derive(SimpleObject)]
pub struct RuleScript {
    /// Path in the rules tree, e.g. `qii/v2.rhai`.
    path: String,
    /// The rule set it belongs to.
    rule_set: String,
    /// SHA-256 of the source.
    content_hash: String,
    /// The Rhai source.
    source: String,
    /// Its test cases (the JSON list), if it had any.
    tests: Option<String>,
    /// When this content was first stored.
    stored_at: DateTime<Utc>,
}

/// What checking a draft of a rule file found; nothing was stored.
pub struct RuleDraftCheck {
    file: RuleSource,
    found: service::DraftCheck,
}

/// What checking a draft of a rule file found; nothing was stored.
#[Object]
impl RuleDraftCheck {
    /// True when publishing the draft would be accepted as it is.
    async fn ok(&self) -> bool {
        self.found.errors.is_empty()
    }
    /// Every error, the draft's first, each located by file, line and column (and the
    /// declaration key's path): compiling, the declaration, test cases that fail or are
    /// missing, a version label already published with other content.
    async fn errors(&self) -> Vec<RuleProblem> {
        self.found.errors.iter().map(RuleProblem::from).collect()
    }
    /// Test cases of the draft that pass.
    async fn cases_passed(&self) -> i32 {
        self.found.cases_passed as i32
    }
    /// Test cases the draft carries.
    async fn cases(&self) -> i32 {
        self.found.cases as i32
    }
    /// The rule set the draft declares; null when its declaration cannot be read.
    async fn rule_set(&self) -> Option<&str> {
        self.found.declared.as_ref().map(|(name, _)| name.as_str())
    }
    /// The version label the draft declares.
    async fn version(&self) -> Option<&str> {
        self.found.declared.as_ref().map(|(_, v)| v.as_str())
    }
    /// For a scoring script, the first period it scores.
    async fn effective_from(&self) -> Option<&str> {
        self.found.effective_from.as_deref()
    }
    /// SHA-256 of the draft's source: its identity once published.
    async fn content_hash(&self) -> String {
        content_hash(&self.file.source)
    }
    /// For a scoring script whose declaration reads, the ranking it gives compared with
    /// a version (by default the one in force for the period): per unit the score and rank
    /// before (`baselineTotal`, `baselineRank`) and after (`total`, `rank`). Null for other
    /// scripts.
    async fn preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The period to rank; by default the first the draft scores (`effectiveFrom`)."
        )]
        period: Option<Period>,
        #[graphql(default, desc = "Which org units to rank (default `TOWN`).")]
        level: crate::scoring::RankingLevel,
        #[graphql(
            desc = "The version to compare with: a label or a content hash; by default the one in force for the period."
        )]
        compare_with: Option<String>,
    ) -> Result<Option<crate::scoring::Ranking>> {
        let Some(period) = self.period_or_first(period)? else {
            return Ok(None);
        };
        let app = ctx.app()?;
        let compared = qii_domain::service::scoring::preview(
            &app.db,
            &app.actor,
            &app.rules,
            (&self.file.path, &self.file.source),
            &period,
            level.into(),
            compare_with.as_deref(),
        )
        .await?;
        Ok(Some(crate::scoring::Ranking::from(compared)))
    }
    /// For a scoring script whose declaration reads, how sure the ranking it gives is:
    /// the Monte Carlo of `rankStability` over its weights (and methods), to set beside
    /// `rankStability` of the rules in force. Null for other scripts.
    async fn stability(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The period ranked; by default the first the draft scores (`effectiveFrom`)."
        )]
        period: Option<Period>,
        #[graphql(default = 1000, desc = "Monte Carlo samples (default 1,000).")] samples: i32,
        #[graphql(default = 1, desc = "The seed of the draws (default 1).")] seed: i64,
        #[graphql(
            default = false,
            desc = "Perturb only the weights the draft marks `assumed`."
        )]
        assumed_only: bool,
        #[graphql(
            default = false,
            desc = "Draw the standardisation method too, among the draft's `uncertainty.methods`."
        )]
        vary_methods: bool,
    ) -> Result<Option<crate::stability::RankStability>> {
        let Some(period) = self.period_or_first(period)? else {
            return Ok(None);
        };
        let options = crate::stability::options(samples, seed, None, assumed_only, vary_methods)?;
        let app = ctx.app()?;
        let analysed = qii_domain::service::scoring::stability(
            &app.db,
            &app.actor,
            &app.rules,
            ("", Some(&self.file.source)),
            (&period, qii_domain::scoring::Level::Town),
            options,
        )
        .await?;
        Ok(Some(crate::stability::RankStability(analysed)))
    }
}

impl RuleDraftCheck {
    /// `period`, or by default the first the draft scores; none for a draft that scores
    /// nothing.
    fn period_or_first(&self, period: Option<Period>) -> Result<Option<Period>> {
        let Some(from) = &self.found.effective_from else {
            return Ok(None);
        };
        match period {
            Some(period) => Ok(Some(period)),
            None => from
                .parse()
                .map(Some)
                .map_err(|e: qii_engine::period::PeriodError| {
                    qii_domain::error::bad_input(e.to_string())
                }),
        }
    }
}

/// The outcome of a change of the rules.
pub struct RuleChange {
    release: rule_release::Model,
    changed: bool,
}

/// The outcome of a change of the rules.
#[Object]
impl RuleChange {
    /// The release now in force.
    async fn release(&self) -> RuleRelease {
        RuleRelease(self.release.clone())
    }
    /// False when the rules already were so (nothing new was released).
    async fn changed(&self) -> bool {
        self.changed
    }
}

async fn change(ctx: &Context<'_>, outcome: Changed) -> Result<RuleChange> {
    let app = ctx.app()?;
    let (id, changed) = match outcome {
        Changed::Released(id) => (id, true),
        Changed::Unchanged(id) => (id, false),
    };
    let release = service::release(&app.actor, &app.rules, id).await?;
    Ok(RuleChange {
        release: release.row,
        changed,
    })
}

/// Reading the rules' history.
#[derive(Default)]
pub struct RulesQuery;

#[Object]
impl RulesQuery {
    /// Releases of the rules, newest first.
    #[graphql(complexity = "(first as usize).saturating_mul(child_complexity)")]
    async fn rule_releases(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 20,
            validator(minimum = 1, maximum = 500),
            desc = "How many releases, newest first (default 20, at most 500)."
        )]
        first: u64,
    ) -> Result<Vec<RuleRelease>> {
        let app = ctx.app()?;
        let rows = service::history(&app.actor, &app.rules, first).await?;
        Ok(rows.into_iter().map(RuleRelease).collect())
    }

    /// A rule script by its content hash (the `contentHash` stored with every score): any
    /// content a rule file had in a release; null when none had it.
    async fn rule_script(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "SHA-256 of the script, 64 hexadecimal digits.")] hash: String,
    ) -> Result<Option<RuleScript>> {
        let app = ctx.app()?;
        let found = service::script(&app.actor, &app.rules, &hash).await?;
        Ok(found.map(|s| RuleScript {
            rule_set: s.path.split('/').next().unwrap_or_default().to_owned(),
            path: s.path,
            content_hash: s.hash,
            source: s.source,
            tests: s.tests,
            stored_at: s.created_at,
        }))
    }

    /// Checks a draft of a rule file as publishing it would — it compiles, its declaration
    /// reads, its test cases pass, its version label is new, the rules it would join still
    /// hold — and previews the ranking a scoring script gives, storing nothing. Errors are
    /// listed, not raised: an editor marks each at its line and column.
    async fn check_rule_draft(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Path in the rules tree: `<rule set>/<name>.rhai`.")] path: String,
        #[graphql(desc = "The Rhai script.")] source: String,
        #[graphql(desc = "Test cases: a JSON list, as in a `.tests.json` file.")] tests: Option<
            String,
        >,
    ) -> Result<RuleDraftCheck> {
        let app = ctx.app()?;
        let file = rule_file(path, source, tests);
        let found = service::check_draft(&app.actor, &app.rules, file.clone()).await?;
        Ok(RuleDraftCheck { file, found })
    }
}

/// A rule file as the API takes it: path (trimmed), source and test cases.
fn rule_file(path: String, source: String, tests: Option<String>) -> RuleSource {
    RuleSource {
        path: path.trim().to_owned(),
        source,
        tests,
    }
}

/// Changing the rules in force.
#[derive(Default)]
pub struct RulesMutation;

#[Object]
impl RulesMutation {
    /// Publishes a rule file: a new version of a rule set (say `qii/v3.rhai`, effective from
    /// the period its script declares) or an edit of a file in force, with its test cases
    /// (the JSON list kept in `<name>.tests.json`). The whole set of rules it would put in
    /// force is checked first (every script compiles, every declaration is sound, every
    /// test case passes); otherwise `RULE_ERROR` lists every error (`extensions.errors`,
    /// the first one located by `script`, `line` and `column`) and the rules in force stay.
    /// Every server of the database applies it within 2 seconds.
    async fn publish_rule_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Path in the rules tree: `<rule set>/<name>.rhai`.")] path: String,
        #[graphql(desc = "The Rhai script.")] source: String,
        #[graphql(desc = "Test cases: a JSON list, as in a `.tests.json` file.")] tests: Option<
            String,
        >,
        #[graphql(
            desc = "Why the rules change, for the releases and the audit log (at most 500 characters); it follows the server's own note."
        )]
        note: Option<String>,
    ) -> Result<RuleChange> {
        let app = ctx.app()?;
        let file = rule_file(path, source, tests);
        let outcome = service::publish(&app.actor, &app.rules, file, note.as_deref()).await?;
        change(ctx, outcome).await
    }

    /// Returns the files of a rule set to what they were in an earlier release (by default
    /// the latest one in which they differed), as a new release; other rule sets stay.
    async fn rollback_rule_set(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "qii", desc = "The rule set to return (default `qii`).")]
        rule_set: String,
        #[graphql(
            desc = "The id of the release to return it to; null for the latest release in which its files differed from those in force."
        )]
        to_release: Option<Id>,
        #[graphql(
            desc = "Why the rules are returned, for the releases and the audit log (at most 500 characters)."
        )]
        note: Option<String>,
    ) -> Result<RuleChange> {
        let app = ctx.app()?;
        let to = to_release.map(Id::get);
        let outcome =
            service::rollback(&app.actor, &app.rules, &rule_set, to, note.as_deref()).await?;
        change(ctx, outcome).await
    }
}
