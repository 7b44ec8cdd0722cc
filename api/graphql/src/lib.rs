//! The GraphQL schema: one module per domain, merged into one query and one mutation root,
//! and the subscriptions served over WebSocket.
//!
//! The schema holds no database: each request carries a [`RequestContext`] (connection,
//! acting identity, loaders), so the SDL can be printed without one.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
// The merged query root nests one level per domain object.
#![recursion_limit = "256"]

pub mod batch;
pub mod limits;
pub mod loaders;
#[macro_use]
pub mod pagination;

mod access;
mod activity;
mod activity_counts;
mod activity_loop;
mod activity_records;
mod activity_rules;
mod activity_types;
mod compliance;
mod connections;
mod contest;
mod expert;
mod expert_eval;
mod figures;
mod heavyweight;
mod improvement;
mod incentive;
mod incentive_eligibility;
mod live;
mod member;
mod nodes;
mod operations;
mod org;
mod platform_training;
mod qa;
mod report;
mod rules;
mod score_changes;
mod scoring;
mod service_request;
mod stability;
mod stats;
mod supervision;
mod targets;
mod topic;
pub mod upload;

use async_graphql::{
    dataloader::DataLoader, Context, MaybeUndefined, MergedObject, Result, SDLExportOptions, Schema,
};
use sea_orm::DatabaseConnection;

use loaders::{FromDb, Loaders};
pub use qii_domain::id::Id;
use qii_domain::{error::ServiceError, identity::Actor};

/// The root query: everything a screen can read.
#[derive(MergedObject, Default)]
pub struct Query(
    org::OrgQuery,
    org::OrgLists,
    member::MemberQuery,
    member::MemberLists,
    activity::ActivityQuery,
    activity::ActivityLists,
    activity_records::ActivityRecordQuery,
    activity_records::ActivityRecordLists,
    expert::ExpertQuery,
    expert::ExpertLists,
    qa::QaQuery,
    qa::QaLists,
    topic::TopicQuery,
    topic::TopicLists,
    service_request::ServiceRequestQuery,
    service_request::ServiceRequestLists,
    operations::OperationsQuery,
    operations::OperationsLists,
    targets::TargetsQuery,
    compliance::ComplianceQuery,
    expert_eval::ExpertEvaluationQuery,
    figures::FigureQuery,
    figures::FigureLists,
    supervision::SupervisionQuery,
    supervision::SupervisionLists,
    incentive::IncentiveQuery,
    incentive::IncentiveLists,
    platform_training::PlatformTrainingQuery,
    platform_training::PlatformTrainingLists,
    contest::ContestQuery,
    scoring::ScoringQuery,
    stability::StabilityQuery,
    improvement::ImprovementQuery,
    score_changes::ScoreChangeLists,
    report::ReportQuery,
    rules::RulesQuery,
    access::AccessQuery,
    access::AccessLists,
    stats::StatsQuery,
);

/// The root mutation: everything a screen can change.
#[derive(MergedObject, Default)]
pub struct Mutation(
    org::OrgMutation,
    member::MemberMutation,
    activity::ActivityMutation,
    activity_loop::ActivityLoopMutation,
    expert::ExpertMutation,
    qa::QaMutation,
    topic::TopicMutation,
    service_request::ServiceRequestMutation,
    operations::OperationsMutation,
    figures::FigureMutation,
    supervision::SupervisionMutation,
    incentive::IncentiveMutation,
    platform_training::PlatformTrainingMutation,
    scoring::ScoringMutation,
    rules::RulesMutation,
    access::AccessMutation,
);

pub use live::Subscription;

/// The executable schema.
pub type QiiSchema = Schema<Query, Mutation, Subscription>;

/// Builds the schema with the default limits (no database attached).
pub fn schema() -> QiiSchema {
    schema_with(&qii_domain::config::Limits::default())
}

/// Builds the schema with the configured depth and complexity limits and introspection
/// switch: generous for screens, fatal for abusive queries.
pub fn schema_with(limits: &qii_domain::config::Limits) -> QiiSchema {
    // Depth and complexity are checked by the extension, which names the figures.
    let builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .extension(limits::RequestLimits(limits.clone()))
        .extension(live::Announce);
    let builder = connections::describe(builder);
    if limits.introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema in SDL, fields sorted, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    schema().sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_enum_items())
}

/// Checks a document as the server checks a request before running it (it parses, is valid
/// against the schema, and keeps within the depth, cost and input limits of `schema`)
/// without running anything: the errors found, none when it is sound.
///
/// The values of its variables are not known yet: a whole-number variable without a default
/// counts as 1 where the cost of a page is worked out (the request's own values are
/// checked when it runs).
pub async fn check_document(schema: &QiiSchema, document: &str) -> Vec<async_graphql::ServerError> {
    let mut request = async_graphql::Request::new(document).data(limits::CheckOnly);
    if let Ok(parsed) = async_graphql::parser::parse_query(document) {
        let mut values = async_graphql::indexmap::IndexMap::new();
        for (_, operation) in parsed.operations.iter() {
            for variable in &operation.node.variable_definitions {
                let variable = &variable.node;
                let whole_number = matches!(
                    &variable.var_type.node.base,
                    async_graphql::parser::types::BaseType::Named(name) if name.as_str() == "Int"
                );
                if whole_number && variable.default_value.is_none() {
                    values.insert(
                        async_graphql::Name::new(variable.name.node.as_str()),
                        async_graphql::Value::from(1),
                    );
                }
            }
        }
        request = request.variables(async_graphql::Variables::from_value(
            async_graphql::Value::Object(values),
        ));
    }
    schema.execute(request).await.errors
}

/// What one request runs with.
pub struct RequestContext {
    pub db: DatabaseConnection,
    pub actor: Actor,
    pub loaders: Loaders,
    /// The rows read so far, in the groups they were read in.
    pub batches: std::sync::Arc<batch::Batches>,
    /// The rules scoring uses.
    pub rules: std::sync::Arc<qii_domain::service::rules::RuleStore>,
    /// Stored rankings the server has read (shared by its requests).
    pub rankings: std::sync::Arc<qii_domain::scoring::snapshot::Cache>,
    /// Issues tokens (sign-in, refresh).
    pub auth: std::sync::Arc<qii_domain::auth::Authenticator>,
    /// The client's network address, when known (sign-in throttling).
    pub client: Option<String>,
    /// Where uploaded photos are checked and kept (the server's data directory).
    pub photos: std::sync::Arc<qii_domain::photos::PhotoStore>,
}

impl RequestContext {
    /// A context whose loaders gather keys for `batch_window` before querying.
    pub fn new(
        db: DatabaseConnection,
        actor: Actor,
        batch_window: std::time::Duration,
        rules: std::sync::Arc<qii_domain::service::rules::RuleStore>,
        auth: std::sync::Arc<qii_domain::auth::Authenticator>,
    ) -> Self {
        let loaders = Loaders::new(db.clone(), batch_window);
        Self {
            db,
            actor,
            loaders,
            batches: std::sync::Arc::default(),
            rules,
            rankings: std::sync::Arc::default(),
            auth,
            client: None,
            photos: std::sync::Arc::new(qii_domain::photos::PhotoStore::new(
                std::path::Path::new("."),
                Default::default(),
            )),
        }
    }

    /// The rules in force now.
    pub fn registry(&self) -> Result<std::sync::Arc<qii_engine::rules::Registry>> {
        Ok(self.rules.current().map_err(ServiceError::from)?)
    }
}

/// Shorthands for resolvers.
pub trait ContextExt {
    /// The request's context.
    fn app(&self) -> Result<&RequestContext>;
    /// The request's loader of type `L`.
    fn loader<L: FromDb>(&self) -> Result<std::sync::Arc<DataLoader<L>>> {
        Ok(self.app()?.loaders.get::<L>())
    }
}

impl ContextExt for Context<'_> {
    fn app(&self) -> Result<&RequestContext> {
        self.data::<RequestContext>()
    }
}

/// One row by id among those a service lets the caller list (`visible`): null when it
/// does not exist or lies outside what the caller may read.
pub async fn visible_by_id<E>(
    ctx: &Context<'_>,
    visible: qii_domain::error::ServiceResult<sea_orm::Select<E>>,
    id: &Id,
) -> Result<Option<E::Model>>
where
    E: entities::HasId,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    let id = id.0;
    let app = ctx.app()?;
    Ok(visible?
        .filter(E::id_column().eq(id))
        .one(&app.db)
        .await
        .map_err(ServiceError::from)?)
}

/// Loads one row by id: from what the request has read already, or through the request's
/// batch loader.
pub async fn load_by_id<E>(ctx: &Context<'_>, id: i64) -> Result<Option<E::Model>>
where
    E: entities::HasId,
    E::Model: Sync + Clone,
{
    if let Some(row) = ctx.app()?.batches.row::<E>(id) {
        return Ok(Some(row));
    }
    ctx.loader::<loaders::ById<E>>()?
        .load_one(id)
        .await
        .map_err(load_error)
}

type ChildModel<F> = <<F as loaders::ForeignKey>::Entity as sea_orm::EntityTrait>::Model;

/// The number of children of `parent` through relation `F`, counted for every sibling of
/// `parent` in one GROUP BY.
pub async fn count_of<F: loaders::ForeignKey>(ctx: &Context<'_>, parent: i64) -> Result<i64> {
    let n = batch::batched::<F::Parent, loaders::CountOf<F>>(ctx, parent).await?;
    Ok(n.unwrap_or(0))
}

/// The children of `parent` through relation `F`, in id order, loaded for every sibling
/// of `parent` at once. Only for relations bounded by the rules (an application's intents,
/// a member's expert profile); lists that grow with the data are connections.
pub async fn children_of<F>(ctx: &Context<'_>, parent: i64) -> Result<Vec<ChildModel<F>>>
where
    F: loaders::ForeignKey,
    ChildModel<F>: Sync + Clone,
{
    let rows = batch::batched::<F::Parent, loaders::ChildrenOf<F>>(ctx, parent).await?;
    Ok(rows.unwrap_or_default())
}

/// Turns a loader failure into a GraphQL error with a code.
pub fn load_error(err: std::sync::Arc<sea_orm::DbErr>) -> async_graphql::Error {
    ServiceError::Database(sea_orm::DbErr::Custom(err.to_string())).into()
}

/// An id an update may leave out: absent (`None`), cleared (`Some(None)`) or set.
pub fn undefined_id(value: MaybeUndefined<Id>) -> Option<Option<i64>> {
    undefined_to_option(value).map(|id| id.map(Id::get))
}

/// An update field: absent (`None`), cleared (`Some(None)`) or set (`Some(Some(v))`).
pub fn undefined_to_option<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}
