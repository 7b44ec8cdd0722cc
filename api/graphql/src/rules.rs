//! The rules' history and changes: releases (each the set of rule files in force after one
//! change), publishing a rule file, and returning a rule set to an earlier release.

use crate::Id;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entities::rule_release;

use super::ContextExt;
use qii_domain::service::rules as service;
use qii_domain::service::rules::Changed;
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
    ) -> Result<RuleChange> {
        let app = ctx.app()?;
        let file = RuleSource {
            path: path.trim().to_owned(),
            source,
            tests,
        };
        let outcome = service::publish(&app.actor, &app.rules, file).await?;
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
    ) -> Result<RuleChange> {
        let app = ctx.app()?;
        let to = to_release.map(Id::get);
        let outcome = service::rollback(&app.actor, &app.rules, &rule_set, to).await?;
        change(ctx, outcome).await
    }
}
