//! Live data: what subscriptions push, and how every replica learns that the data changed.
//!
//! A write committed on any server is announced to all: each server bumps its own change
//! counter, and on PostgreSQL sends one `NOTIFY` on [`CHANGES_CHANNEL`] per burst of
//! writes, which every other server hears (`LISTEN`) and bumps its counter for. On SQLite
//! (one server per database file) the counter is bumped in process only.
//!
//! A live ranking ([`Feed`]) is computed once per server for each rule set, period and
//! level that someone subscribes to, whatever the number of subscribers: after a change
//! (or a rule release put in force) it waits [`Live::debounce`] for more, computes the
//! ranking again within the request deadline, and publishes it when it differs from the
//! last one. Each subscriber then picks out its own units and what moved. A feed stops when
//! its last subscriber leaves.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex, Weak,
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::watch;

use qii_engine::period::Period;

use crate::{
    authz::Need,
    error::{ServiceError, ServiceResult},
    identity::Actor,
    scoring::{snapshot, Level},
    service::{rules::RuleStore, scoring::stored_or_scored},
};

/// The PostgreSQL channel writes are announced on; the payload is the announcing
/// server's id.
pub const CHANGES_CHANNEL: &str = "qii_changes";

/// One ranked unit as a live ranking publishes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub unit: i64,
    pub name: String,
    pub rank: u32,
    pub total: f64,
}

/// A ranking as a feed publishes it: best first.
#[derive(Debug)]
pub struct Board {
    pub rule_set: String,
    pub version: String,
    pub content_hash: String,
    pub period: Period,
    pub level: Level,
    /// When this server computed it.
    pub computed_at: DateTime<Utc>,
    pub standings: Vec<Standing>,
}

impl Board {
    fn same_as(&self, other: &Board) -> bool {
        self.content_hash == other.content_hash
            && self.version == other.version
            && self.standings == other.standings
    }
}

/// What this server's live side has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct LiveFigures {
    /// Subscriptions open now.
    pub subscriptions: AtomicUsize,
    /// Live rankings kept now.
    pub feeds: AtomicUsize,
    /// Rankings published by the feeds.
    pub published: AtomicU64,
    /// Changes announced by other servers and heard here.
    pub heard: AtomicU64,
    /// Time to compute a live ranking.
    pub computing: crate::metrics::Histogram,
}

type FeedKey = (String, Period, String);

/// The live side of one server.
pub struct Live {
    db: DatabaseConnection,
    rules: Arc<RuleStore>,
    cache: Arc<snapshot::Cache>,
    /// How long a feed waits after a change for more before computing again.
    pub debounce: Duration,
    /// Most feeds kept at once.
    max_feeds: usize,
    /// How long one computation may run.
    deadline: Duration,
    /// This server's id in announcements.
    server: String,
    /// Bumped by every change, here or on another server.
    any: watch::Sender<u64>,
    /// Bumped by the writes of this server only: what it announces.
    local: watch::Sender<u64>,
    feeds: Mutex<HashMap<FeedKey, Weak<Feed>>>,
    pub figures: LiveFigures,
}

impl Live {
    pub fn new(
        db: DatabaseConnection,
        rules: Arc<RuleStore>,
        cache: Arc<snapshot::Cache>,
        config: &crate::config::LiveConfig,
        deadline: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            db,
            rules,
            cache,
            debounce: config.debounce,
            max_feeds: config.max_rankings,
            deadline,
            server: uuid::Uuid::new_v4().simple().to_string(),
            any: watch::channel(0).0,
            local: watch::channel(0).0,
            feeds: Mutex::default(),
            figures: LiveFigures::default(),
        })
    }

    /// The rules the feeds score with.
    pub fn rules(&self) -> &Arc<RuleStore> {
        &self.rules
    }

    /// A write was committed on this server: every feed, here and on the other servers,
    /// looks again.
    pub fn changed(&self) {
        self.local.send_modify(|n| *n = n.wrapping_add(1));
        self.any.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Announces this server's writes to the others and hears theirs, on PostgreSQL; on
    /// SQLite there is nobody to tell. The tasks end with the runtime or when aborted.
    pub fn start(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return Vec::new();
        }
        vec![
            tokio::spawn(Arc::clone(self).announce()),
            tokio::spawn(Arc::clone(self).hear()),
        ]
    }

    /// One `NOTIFY` per burst of this server's writes: bumps made while one is sent
    /// are covered by the next.
    async fn announce(self: Arc<Self>) {
        let mut writes = self.local.subscribe();
        // Straight on the pool: the announcements are not the requests' statements.
        let pool = self.db.get_postgres_connection_pool().clone();
        while writes.changed().await.is_ok() {
            writes.borrow_and_update();
            let sent = sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANGES_CHANNEL)
                .bind(&self.server)
                .execute(&pool)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "a change could not be announced to the other servers");
            }
        }
    }

    /// Bumps the change counter for every announcement of another server. After an
    /// interruption (announcements may have been missed) it bumps once more.
    async fn hear(self: Arc<Self>) {
        let pool = self.db.get_postgres_connection_pool().clone();
        loop {
            let listening = async {
                let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(CHANGES_CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(listener)
            };
            let mut listener = match listening.await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot hear other servers' changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            loop {
                match listener.recv().await {
                    Ok(notification) if notification.payload() == self.server => {}
                    Ok(_) => {
                        self.figures.heard.fetch_add(1, Ordering::Relaxed);
                        self.any.send_modify(|n| *n = n.wrapping_add(1));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "other servers' changes interrupted");
                        self.any.send_modify(|n| *n = n.wrapping_add(1));
                        break;
                    }
                }
            }
        }
    }

    /// The live ranking of `rule_set`, `period` and `level`: the one this server keeps
    /// already, or a new one, computed once before it is returned so that a period without
    /// rules or a broken script is refused at once.
    pub async fn ranking(
        self: &Arc<Self>,
        actor: &Actor,
        rule_set: &str,
        period: &Period,
        level: Level,
    ) -> ServiceResult<Arc<Feed>> {
        actor.require(Need::Scores, "read rankings")?;
        let key: FeedKey = (rule_set.to_owned(), *period, format!("{level:?}"));
        let existing = self
            .feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .and_then(Weak::upgrade);
        if let Some(feed) = existing {
            return Ok(feed);
        }
        let kept = self.figures.feeds.load(Ordering::Relaxed);
        if kept >= self.max_feeds {
            return Err(ServiceError::Throttled(format!(
                "this server follows {kept} rankings live already, the most it may: follow \
                 one of those, or try again later"
            )));
        }
        let first = self.compute(rule_set, period, level).await?;
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        // Another subscriber may have started it meanwhile: one feed per key.
        if let Some(feed) = feeds.get(&key).and_then(Weak::upgrade) {
            return Ok(feed);
        }
        feeds.retain(|_, feed| feed.strong_count() > 0);
        let (sender, boards) = watch::channel(Arc::new(first));
        let task =
            tokio::spawn(Arc::clone(self).follow(sender, (rule_set.to_owned(), *period, level)));
        let feed = Arc::new(Feed {
            boards,
            task,
            live: Arc::downgrade(self),
        });
        feeds.insert(key, Arc::downgrade(&feed));
        self.figures.feeds.store(feeds.len(), Ordering::Relaxed);
        Ok(feed)
    }

    /// Computes the ranking again after each change and publishes it when it moved.
    async fn follow(
        self: Arc<Self>,
        boards: watch::Sender<Arc<Board>>,
        (rule_set, period, level): (String, Period, Level),
    ) {
        let mut changes = self.any.subscribe();
        let mut releases = self.rules.releases();
        changes.borrow_and_update();
        loop {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = releases.recv() => {}
                () = boards.closed() => return,
            }
            // More changes within the window are covered by this computation.
            tokio::time::sleep(self.debounce).await;
            changes.borrow_and_update();
            match self.compute(&rule_set, &period, level).await {
                Ok(board) => {
                    let moved = !board.same_as(&boards.borrow());
                    if moved {
                        self.figures.published.fetch_add(1, Ordering::Relaxed);
                        boards.send_replace(Arc::new(board));
                    }
                }
                // The last ranking stays; the next change tries again.
                Err(e) => tracing::warn!(
                    rule_set = %rule_set, period = %period, error = ?e,
                    "a live ranking could not be computed again"
                ),
            }
        }
    }

    /// The ranking as it stands, within the request deadline.
    async fn compute(&self, rule_set: &str, period: &Period, level: Level) -> ServiceResult<Board> {
        let started = Instant::now();
        let scored = tokio::time::timeout(
            self.deadline,
            stored_or_scored(
                &self.db,
                &Actor::system(),
                (&self.rules, &self.cache),
                (rule_set, period, level),
                true,
            ),
        )
        .await
        .map_err(|_| {
            ServiceError::TimedOut(format!(
                "the ranking of {period} took longer than {} to compute and was stopped",
                humantime::format_duration(self.deadline)
            ))
        })?;
        let (ranking, _) = scored?;
        self.figures.computing.observe(started.elapsed());
        let standings = ranking
            .scores
            .iter()
            .map(|score| Standing {
                unit: score.unit,
                name: ranking.names.get(&score.unit).cloned().unwrap_or_default(),
                rank: score.rank,
                total: score.total,
            })
            .collect();
        Ok(Board {
            rule_set: ranking.rule_set,
            version: ranking.version,
            content_hash: ranking.hash,
            period: ranking.period,
            level: ranking.level,
            computed_at: Utc::now(),
            standings,
        })
    }
}

/// A live ranking, shared by its subscribers on this server.
pub struct Feed {
    boards: watch::Receiver<Arc<Board>>,
    task: tokio::task::JoinHandle<()>,
    live: Weak<Live>,
}

impl Feed {
    /// The rankings as they are published, the current one first.
    pub fn boards(&self) -> watch::Receiver<Arc<Board>> {
        self.boards.clone()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(live) = self.live.upgrade() {
            let mut feeds = live.feeds.lock().unwrap_or_else(|e| e.into_inner());
            feeds.retain(|_, feed| feed.strong_count() > 0);
            live.figures.feeds.store(feeds.len(), Ordering::Relaxed);
        }
    }
}

/// A unit that moved between two rankings a subscriber was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub unit: i64,
    pub name: String,
    /// None when the unit left the ranking.
    pub now: Option<(u32, f64)>,
    /// None when the unit is new to the subscriber.
    pub before: Option<(u32, f64)>,
}

/// What one subscriber was last sent: rank and total of each unit it follows.
#[derive(Debug, Default)]
pub struct Seen {
    standings: HashMap<i64, (u32, f64)>,
}

impl Seen {
    /// The units of `board` (those in `keep`, when given) whose rank or total differs from
    /// what was last seen, best first, then those that left; what is seen becomes `board`.
    pub fn moves(
        &mut self,
        board: &Board,
        keep: Option<&std::collections::HashSet<i64>>,
    ) -> Vec<Move> {
        let mut moves = Vec::new();
        let mut now = HashMap::with_capacity(self.standings.len());
        for standing in &board.standings {
            if keep.is_some_and(|keep| !keep.contains(&standing.unit)) {
                continue;
            }
            let current = (standing.rank, standing.total);
            let before = self.standings.get(&standing.unit).copied();
            if before != Some(current) {
                moves.push(Move {
                    unit: standing.unit,
                    name: standing.name.clone(),
                    now: Some(current),
                    before,
                });
            }
            now.insert(standing.unit, current);
        }
        let mut left: Vec<(i64, (u32, f64))> = self
            .standings
            .iter()
            .filter(|(unit, _)| !now.contains_key(unit))
            .map(|(unit, seen)| (*unit, *seen))
            .collect();
        left.sort_by_key(|(unit, _)| *unit);
        moves.extend(left.into_iter().map(|(unit, before)| Move {
            unit,
            name: String::new(),
            now: None,
            before: Some(before),
        }));
        self.standings = now;
        moves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(standings: &[(i64, u32, f64)]) -> Board {
        Board {
            rule_set: "qii".into(),
            version: "2.0".into(),
            content_hash: "h".into(),
            period: "2017-11".parse().expect("a period"),
            level: Level::Town,
            computed_at: Utc::now(),
            standings: standings
                .iter()
                .map(|(unit, rank, total)| Standing {
                    unit: *unit,
                    name: format!("u{unit}"),
                    rank: *rank,
                    total: *total,
                })
                .collect(),
        }
    }

    #[test]
    fn a_subscriber_is_sent_everything_first_then_only_what_moved_in_its_units() {
        let mut seen = Seen::default();
        let first = seen.moves(&board(&[(1, 1, 9.0), (2, 2, 5.0), (3, 3, 1.0)]), None);
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|m| m.before.is_none()));

        let second = seen.moves(&board(&[(2, 1, 9.5), (1, 2, 9.0), (3, 3, 1.0)]), None);
        let units: Vec<i64> = second.iter().map(|m| m.unit).collect();
        assert_eq!(units, [2, 1]);
        assert_eq!(second[0].before, Some((2, 5.0)));
        assert_eq!(second[0].now, Some((1, 9.5)));

        let third = seen.moves(&board(&[(2, 1, 9.5), (1, 2, 9.0)]), None);
        assert_eq!(third.len(), 1);
        assert_eq!((third[0].unit, third[0].now), (3, None));

        let keep: std::collections::HashSet<i64> = [1].into();
        let mut district = Seen::default();
        assert_eq!(
            district
                .moves(&board(&[(2, 1, 9.5), (1, 2, 9.0)]), Some(&keep))
                .len(),
            1
        );
        assert!(district
            .moves(&board(&[(2, 1, 9.9), (1, 2, 9.0)]), Some(&keep))
            .is_empty());
    }
}
