//! Subscriptions (over WebSocket, `graphql-transport-ws`): live rankings and rule releases,
//! and the extension that tells the live side when a mutation has run.

use std::{collections::HashSet, sync::Arc};

use async_graphql::{
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    futures_util::{stream, Stream},
    parser::types::{ExecutableDocument, OperationType},
    Context, Object, Result, ServerResult, Subscription, Variables,
};
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;

use qii_domain::{
    authz::Need,
    error::ServiceError,
    live::{Board, Live, Move, Seen},
};
use qii_engine::period::Period;

use crate::{rules::RuleRelease, scoring::RankingLevel, ContextExt, Id};

/// Most moves one update lists.
const MAX_MOVES: usize = 1000;

/// The live side of the server a request runs on.
fn live<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Live>> {
    ctx.data::<Arc<Live>>().map_err(|_| {
        ServiceError::invalid(
            "subscription",
            "subscriptions are served over WebSocket at /graphql/ws",
        )
        .into()
    })
}

/// What a live ranking pushes: the ranking's identity and the units that moved since the
/// subscriber's previous update (on the first update, every unit it follows).
pub struct RankingUpdate {
    board: Arc<Board>,
    level: RankingLevel,
    initial: bool,
    moves: Vec<Move>,
}

/// A change of a live ranking.
#[Object]
impl RankingUpdate {
    /// The rule set, e.g. `qii`.
    async fn rule_set(&self) -> &str {
        &self.board.rule_set
    }
    /// The rule version that scored it, e.g. `2.0`.
    async fn version(&self) -> &str {
        &self.board.version
    }
    /// SHA-256 of the script that scored it.
    async fn content_hash(&self) -> &str {
        &self.board.content_hash
    }
    /// The period ranked.
    async fn period(&self) -> Period {
        self.board.period
    }
    /// Which org units are ranked.
    async fn level(&self) -> RankingLevel {
        self.level
    }
    /// When the server computed this ranking.
    async fn computed_at(&self) -> DateTime<Utc> {
        self.board.computed_at
    }
    /// True on the first update of a subscription: `moved` then lists every unit followed.
    async fn initial(&self) -> bool {
        self.initial
    }
    /// Units in the whole ranking.
    async fn units_ranked(&self) -> usize {
        self.board.standings.len()
    }
    /// How many units moved (all of them are in `moved` when `first` allows).
    async fn moved_count(&self) -> usize {
        self.moves.len()
    }
    /// The units whose rank or total changed, best ranked first, then those that left
    /// the ranking.
    #[graphql(complexity = "(first as usize).saturating_mul(child_complexity)")]
    async fn moved(
        &self,
        #[graphql(
            default = 100,
            validator(minimum = 1, maximum = 1000),
            desc = "How many moves to list (default 100, at most 1000)."
        )]
        first: u64,
    ) -> Vec<RankingMove> {
        let first = usize::try_from(first).unwrap_or(MAX_MOVES).min(MAX_MOVES);
        self.moves
            .iter()
            .take(first)
            .cloned()
            .map(RankingMove)
            .collect()
    }
}

/// One unit that moved in a live ranking.
pub struct RankingMove(Move);

/// One unit that moved in a live ranking: where it stands now and where it stood in the
/// subscriber's previous update.
#[Object]
impl RankingMove {
    /// The org unit's id.
    async fn org_unit_id(&self) -> Id {
        self.0.unit.into()
    }
    /// Its name (empty when it left the ranking).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its rank now (1 is best); null when it left the ranking.
    async fn rank(&self) -> Option<u32> {
        self.0.now.map(|(rank, _)| rank)
    }
    /// Its total now; null when it left the ranking.
    async fn total(&self) -> Option<f64> {
        self.0.now.map(|(_, total)| total)
    }
    /// Its rank in the subscriber's previous update; null on the first.
    async fn previous_rank(&self) -> Option<u32> {
        self.0.before.map(|(rank, _)| rank)
    }
    /// Its total in the subscriber's previous update; null on the first.
    async fn previous_total(&self) -> Option<f64> {
        self.0.before.map(|(_, total)| total)
    }
}

/// The root subscription.
#[derive(Default)]
pub struct Subscription;

/// What a client can follow over WebSocket (`/graphql/ws`, `graphql-transport-ws`).
#[Subscription]
impl Subscription {
    /// The ranking of a period as it changes: one update at once with every unit followed,
    /// then one each time writes (on any server of the database) or a new rule release move
    /// a followed unit's rank or total. Writes are gathered for a moment (the server's
    /// debounce, 1 s by default) so that a burst of them makes one update. A period that
    /// has ended is served as stored: it changes when it is recomputed.
    async fn ranking_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period to follow, e.g. `2017-11` or `2017-W45`.")] period: Period,
        #[graphql(default = "qii", desc = "The scoring rule set (default `qii`).")]
        rule_set: String,
        #[graphql(default, desc = "Which org units are ranked (default `TOWN`).")]
        level: RankingLevel,
        #[graphql(desc = "Follow only the units of this supervision district.")]
        district_id: Option<Id>,
    ) -> Result<impl Stream<Item = RankingUpdate>> {
        let app = ctx.app()?;
        let live = live(ctx)?;
        let feed = live
            .ranking(&app.actor, &rule_set, &period, level.into())
            .await?;
        let keep: Option<HashSet<i64>> = match district_id {
            Some(district) => {
                let filter = qii_domain::service::org::OrgUnitFilter {
                    district_id: Some(district),
                    ..Default::default()
                };
                Some(qii_domain::service::org::unit_ids(&app.db, &app.actor, &filter).await?)
            }
            None => None,
        };
        let boards = feed.boards();
        let state = (feed, boards, Seen::default(), keep, true);
        Ok(stream::unfold(
            state,
            move |(feed, mut boards, mut seen, keep, initial)| async move {
                loop {
                    if !initial && boards.changed().await.is_err() {
                        return None;
                    }
                    let board = boards.borrow_and_update().clone();
                    let moves = seen.moves(&board, keep.as_ref());
                    if initial || !moves.is_empty() {
                        let update = RankingUpdate {
                            board,
                            level,
                            initial,
                            moves,
                        };
                        return Some((update, (feed, boards, seen, keep, false)));
                    }
                }
            },
        ))
    }

    /// Each rule release as it is put in force on the server (every server of the
    /// database puts it in force moments after it is made).
    async fn rule_release_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = RuleRelease>> {
        let app = ctx.app()?;
        app.actor.require(Need::Staff, "follow the rule releases")?;
        let live = live(ctx)?;
        let releases = live.rules().releases();
        let db = app.db.clone();
        Ok(stream::unfold(
            (releases, db),
            |(mut releases, db)| async move {
                loop {
                    let id = match releases.recv().await {
                        Ok(id) => id,
                        // Fell behind: the next one received is the newest anyway.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    };
                    match entities::rule_release::Entity::find_by_id(id)
                        .one(&db)
                        .await
                    {
                        Ok(Some(row)) => return Some((RuleRelease(row), (releases, db))),
                        Ok(None) => continue,
                        Err(e) => {
                            tracing::warn!(error = %e, release = id, "a release could not be read");
                            continue;
                        }
                    }
                }
            },
        ))
    }
}

/// Tells the live side of the server that a mutation ran, so that live rankings look
/// again (on every server of the database).
pub struct Announce;

impl ExtensionFactory for Announce {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AnnounceWrites::default())
    }
}

#[derive(Default)]
struct AnnounceWrites {
    /// Whether the request is a mutation, learnt as it is parsed.
    mutation: std::sync::atomic::AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for AnnounceWrites {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mutation = doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation);
        self.mutation
            .store(mutation, std::sync::atomic::Ordering::Relaxed);
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        let response = next.run(ctx, operation_name).await;
        if self.mutation.load(std::sync::atomic::Ordering::Relaxed) {
            if let Some(live) = ctx.data_opt::<Arc<Live>>() {
                live.changed();
            }
        }
        response
    }
}
