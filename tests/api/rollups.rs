//! The figure rollups against the raw events: random sequences of writes of every kind that
//! changes a figure (inserts, deletes, status changes, moves between units, approvals,
//! changed dates at the edges of Asia/Shanghai days), then every figure of many periods and
//! both levels read from the rollups equals the raw recomputation exactly, as do the
//! rankings, the check finds nothing, and a server counting the raw events previews the same
//! ranking as one reading the rollups.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entities::enums::{
    ActivityKind, ApplicationStatus, ExpertField, IncentiveIntent, LikeKind, ModerationStatus,
    OrgUnitKind, ParticipationKind,
};
use entities::{
    activity, activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, answer, daily_visit, expert, incentive_application, incentive_intent, member,
    org_unit, question, topic, topic_participation,
};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, Statement,
};
use serde_json::json;

use qii_domain::scoring::{self, raw_table, rollups, Figures, Level};
use qii_engine::period::Period;
use qii_engine::rules::Registry;

use crate::both_databases;

/// A small deterministic generator (the same sequence for a seed, on every machine).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick(&mut self, ids: &[i64]) -> i64 {
        ids[self.below(ids.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// An instant between late September 2017 and early January 2018, often exactly at an
    /// Asia/Shanghai midnight (16:00 UTC) or a second before it.
    fn instant(&mut self) -> DateTime<Utc> {
        let day = Utc.with_ymd_and_hms(2017, 9, 25, 16, 0, 0).unwrap()
            + Duration::days(self.below(105) as i64);
        match self.below(4) {
            0 => day,
            1 => day - Duration::seconds(1),
            _ => day + Duration::seconds(self.below(86_400) as i64),
        }
    }

    fn day(&mut self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2017, 9, 25).unwrap() + Duration::days(self.below(105) as i64)
    }
}

async fn ids(db: &DatabaseConnection, sql: &str) -> Vec<i64> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<i64>("", "id").unwrap())
        .collect()
}

/// One random write; a write the schema refuses (a second sign-up of a member, say) changes
/// nothing, as a refused statement does.
async fn random_write(db: &DatabaseConnection, rng: &mut Rng, step: usize) {
    let units = ids(db, "SELECT id FROM org_unit WHERE kind <> 'city'").await;
    let towns = ids(db, "SELECT id FROM org_unit WHERE kind = 'town'").await;
    let homes = ids(db, "SELECT id FROM org_unit WHERE kind = 'youth_home'").await;
    let members = ids(db, "SELECT id FROM member ORDER BY id DESC LIMIT 200").await;
    let activities = ids(db, "SELECT id FROM activity").await;
    let now = rng.instant();
    let n = || format!("r{step}");
    let result: Result<(), sea_orm::DbErr> = match rng.below(34) {
        0..=3 => activity_signup::Entity::insert(activity_signup::ActiveModel {
            activity_id: Set(rng.pick(&activities)),
            member_id: Set(rng.pick(&members)),
            signed_up_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        4 => {
            let signups = ids(db, "SELECT id FROM activity_signup").await;
            activity_signup::Entity::delete_by_id(rng.pick(&signups))
                .exec(db)
                .await
                .map(drop)
        }
        5 | 6 => {
            let signups = ids(db, "SELECT id FROM activity_signup").await;
            activity_checkin::Entity::insert(activity_checkin::ActiveModel {
                signup_id: Set(rng.pick(&signups)),
                checked_in_at: Set(now),
                ..Default::default()
            })
            .exec(db)
            .await
            .map(drop)
        }
        7 => activity_comment::Entity::insert(activity_comment::ActiveModel {
            activity_id: Set(rng.pick(&activities)),
            member_id: Set(rng.pick(&members)),
            body: Set(n()),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        8 => {
            let comments = ids(db, "SELECT id FROM activity_comment").await;
            activity_comment::Entity::delete_by_id(rng.pick(&comments))
                .exec(db)
                .await
                .map(drop)
        }
        9 => activity_review::Entity::insert(activity_review::ActiveModel {
            activity_id: Set(rng.pick(&activities)),
            member_id: Set(rng.pick(&members)),
            rating: Set(1 + rng.below(5) as i16),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        10 => {
            let reviews = ids(db, "SELECT id FROM activity_review").await;
            activity_review::Entity::update_many()
                .col_expr(
                    activity_review::Column::Rating,
                    Expr::value(1 + rng.below(5) as i16),
                )
                .filter(activity_review::Column::Id.eq(rng.pick(&reviews)))
                .exec(db)
                .await
                .map(drop)
        }
        11 => activity_like::Entity::insert(activity_like::ActiveModel {
            activity_id: Set(rng.pick(&activities)),
            member_id: Set(rng.pick(&members)),
            kind: Set(if rng.chance(50) {
                LikeKind::Like
            } else {
                LikeKind::Vote
            }),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        12 => activity_photo::Entity::insert(activity_photo::ActiveModel {
            activity_id: Set(rng.pick(&activities)),
            url: Set(format!("https://example.org/{}.jpg", n())),
            uploaded_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        13 => {
            let photos = ids(db, "SELECT id FROM activity_photo").await;
            activity_photo::Entity::delete_by_id(rng.pick(&photos))
                .exec(db)
                .await
                .map(drop)
        }
        14 => {
            // A new end (photos before or after it are re-decided), a new start, a new
            // publishing day; an end before the start is refused.
            let column = match rng.below(3) {
                0 => activity::Column::EndsAt,
                1 => activity::Column::StartsAt,
                _ => activity::Column::PublishedAt,
            };
            activity::Entity::update_many()
                .col_expr(column, Expr::value(now))
                .filter(activity::Column::Id.eq(rng.pick(&activities)))
                .exec(db)
                .await
                .map(drop)
        }
        15 => activity::Entity::update_many()
            .col_expr(activity::Column::OrgUnitId, Expr::value(rng.pick(&units)))
            .filter(activity::Column::Id.eq(rng.pick(&activities)))
            .exec(db)
            .await
            .map(drop),
        16 => activity::Entity::update_many()
            .col_expr(activity::Column::Heavyweight, Expr::value(rng.chance(50)))
            .filter(activity::Column::Id.eq(rng.pick(&activities)))
            .exec(db)
            .await
            .map(drop),
        17 => {
            // An application naming an activity, decided or not, with the heavyweight intent.
            let a = rng.pick(&activities);
            let status = match rng.below(3) {
                0 => ApplicationStatus::Submitted,
                1 => ApplicationStatus::Rejected,
                _ => ApplicationStatus::Approved,
            };
            let app = incentive_application::Entity::insert(incentive_application::ActiveModel {
                org_unit_id: Set(rng.pick(&units)),
                activity_id: Set(Some(a)),
                activity_name: Set(n()),
                scale: Set(100),
                special_resources: Set(false),
                kind: Set(ActivityKind::Offline),
                description: Set(n()),
                status: Set(status),
                submitted_at: Set(now),
                ..Default::default()
            })
            .exec(db)
            .await;
            match app {
                Ok(app) => incentive_intent::Entity::insert(incentive_intent::ActiveModel {
                    application_id: Set(app.last_insert_id),
                    intent: Set(IncentiveIntent::Heavyweight),
                    ..Default::default()
                })
                .exec(db)
                .await
                .map(drop),
                Err(e) => Err(e),
            }
        }
        18 => {
            let apps = ids(db, "SELECT id FROM incentive_application").await;
            if apps.is_empty() {
                Ok(())
            } else {
                let status = if rng.chance(50) {
                    ApplicationStatus::Approved
                } else {
                    ApplicationStatus::Rejected
                };
                incentive_application::Entity::update_many()
                    .col_expr(incentive_application::Column::Status, Expr::value(status))
                    .filter(incentive_application::Column::Id.eq(rng.pick(&apps)))
                    .exec(db)
                    .await
                    .map(drop)
            }
        }
        19 => {
            let intents = ids(db, "SELECT id FROM incentive_intent").await;
            if intents.is_empty() {
                Ok(())
            } else {
                incentive_intent::Entity::delete_by_id(rng.pick(&intents))
                    .exec(db)
                    .await
                    .map(drop)
            }
        }
        20 => question::Entity::insert(question::ActiveModel {
            asker_id: Set(rng.pick(&members)),
            addressed_to_id: Set(rng.chance(85).then(|| rng.pick(&units))),
            title: Set(n()),
            body: Set(n()),
            status: Set(if rng.chance(80) {
                ModerationStatus::Visible
            } else {
                ModerationStatus::Spam
            }),
            asked_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        21 => {
            let questions = ids(db, "SELECT id FROM question").await;
            let status = match rng.below(3) {
                0 => ModerationStatus::Visible,
                1 => ModerationStatus::Spam,
                _ => ModerationStatus::Deleted,
            };
            question::Entity::update_many()
                .col_expr(question::Column::Status, Expr::value(status))
                .filter(question::Column::Id.eq(rng.pick(&questions)))
                .exec(db)
                .await
                .map(drop)
        }
        22 => {
            // A question handed to another unit takes its answers along.
            let questions = ids(db, "SELECT id FROM question").await;
            question::Entity::update_many()
                .col_expr(
                    question::Column::AddressedToId,
                    Expr::value(rng.pick(&units)),
                )
                .col_expr(question::Column::AskedAt, Expr::value(now))
                .filter(question::Column::Id.eq(rng.pick(&questions)))
                .exec(db)
                .await
                .map(drop)
        }
        23 | 24 => {
            let questions = ids(db, "SELECT id FROM question").await;
            let experts = ids(db, "SELECT id FROM expert").await;
            let by = rng.below(3);
            answer::Entity::insert(answer::ActiveModel {
                question_id: Set(rng.pick(&questions)),
                member_id: Set((by == 0).then(|| rng.pick(&members))),
                expert_id: Set((by == 1 && !experts.is_empty()).then(|| rng.pick(&experts))),
                org_unit_id: Set((by == 2).then(|| rng.pick(&units))),
                body: Set(n()),
                answered_at: Set(now),
                ..Default::default()
            })
            .exec(db)
            .await
            .map(drop)
        }
        25 => {
            let answers = ids(db, "SELECT id FROM answer").await;
            answer::Entity::delete_by_id(rng.pick(&answers))
                .exec(db)
                .await
                .map(drop)
        }
        26 => topic::Entity::insert(topic::ActiveModel {
            org_unit_id: Set(rng.pick(&units)),
            title: Set(n()),
            body: Set(n()),
            published_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        27 => {
            let topics = ids(db, "SELECT id FROM topic").await;
            if rng.chance(30) {
                topic::Entity::update_many()
                    .col_expr(topic::Column::OrgUnitId, Expr::value(rng.pick(&units)))
                    .filter(topic::Column::Id.eq(rng.pick(&topics)))
                    .exec(db)
                    .await
                    .map(drop)
            } else {
                topic_participation::Entity::insert(topic_participation::ActiveModel {
                    topic_id: Set(rng.pick(&topics)),
                    member_id: Set(rng.pick(&members)),
                    kind: Set(if rng.chance(50) {
                        ParticipationKind::Comment
                    } else {
                        ParticipationKind::Vote
                    }),
                    body: Set(Some(n())),
                    created_at: Set(now),
                    ..Default::default()
                })
                .exec(db)
                .await
                .map(drop)
            }
        }
        28 => {
            let experts = ids(db, "SELECT id FROM expert").await;
            if experts.is_empty() || rng.chance(40) {
                expert::Entity::insert(expert::ActiveModel {
                    member_id: Set(rng.pick(&members)),
                    name: Set(n()),
                    field: Set(ExpertField::Law),
                    recruited_by_id: Set(rng.pick(&units)),
                    joined_at: Set(now),
                    ..Default::default()
                })
                .exec(db)
                .await
                .map(drop)
            } else {
                // An expert moving to another unit takes its answers along.
                expert::Entity::update_many()
                    .col_expr(expert::Column::RecruitedById, Expr::value(rng.pick(&units)))
                    .filter(expert::Column::Id.eq(rng.pick(&experts)))
                    .exec(db)
                    .await
                    .map(drop)
            }
        }
        29 => member::Entity::insert(member::ActiveModel {
            nickname: Set(n()),
            mobile: Set(None),
            registered_at: Set(now),
            mobile_bound_at: Set(rng.chance(50).then_some(now + Duration::hours(5))),
            home_town_id: Set(rng.chance(90).then(|| rng.pick(&towns))),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        30 => {
            let m = rng.pick(&members);
            if rng.chance(50) {
                member::Entity::update_many()
                    .col_expr(member::Column::HomeTownId, Expr::value(rng.pick(&towns)))
                    .filter(member::Column::Id.eq(m))
                    .exec(db)
                    .await
                    .map(drop)
            } else {
                member::Entity::update_many()
                    .col_expr(member::Column::MobileBoundAt, Expr::value(now))
                    .filter(member::Column::Id.eq(m))
                    .exec(db)
                    .await
                    .map(drop)
            }
        }
        31 => daily_visit::Entity::insert(daily_visit::ActiveModel {
            org_unit_id: Set(rng.pick(&units)),
            day: Set(rng.day()),
            visits: Set(rng.below(500) as i64),
            imported_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await
        .map(drop),
        32 => {
            let visits = ids(db, "SELECT id FROM daily_visit").await;
            if visits.is_empty() {
                Ok(())
            } else if rng.chance(50) {
                daily_visit::Entity::delete_by_id(rng.pick(&visits))
                    .exec(db)
                    .await
                    .map(drop)
            } else {
                daily_visit::Entity::update_many()
                    .col_expr(
                        daily_visit::Column::Visits,
                        Expr::value(rng.below(900) as i64),
                    )
                    .filter(daily_visit::Column::Id.eq(rng.pick(&visits)))
                    .exec(db)
                    .await
                    .map(drop)
            }
        }
        _ => {
            // A Youth Home moving to another town takes its figures along.
            let home = rng.pick(&homes);
            let town = rng.pick(&towns);
            org_unit::Entity::update_many()
                .col_expr(org_unit::Column::TownId, Expr::value(town))
                .col_expr(org_unit::Column::ParentId, Expr::value(town))
                .filter(org_unit::Column::Id.eq(home))
                .exec(db)
                .await
                .map(drop)
        }
    };
    // A refused write (a unique or foreign key) is part of the test: it changes nothing.
    let _ = result;
}

/// Periods of every form, with edges on days, months and years, early and recent.
const PERIODS: &[&str] = &[
    "2017-09",
    "2017-10",
    "2017-11",
    "2017-12",
    "2018-01",
    "2017-W40",
    "2017-W44",
    "2017-W52",
    "2017-Q4",
    "2017-09-26..2017-11-03",
    "2017-10-01..2017-12-31",
    "2017-12-30..2018-01-02",
    "2017-01-01..2018-12-31",
    // Figures to date from the all-time rows less the later ones (members registered now
    // by the writes below), and from the all-time rows alone.
    "2024-01",
    "2026-01-01..2027-12-31",
];

async fn assert_rollups_equal_events(db: &DatabaseConnection, registry: &Registry, when: &str) {
    let rules = registry.activity_rules().unwrap();
    for text in PERIODS {
        let period: Period = text.parse().unwrap();
        for level in [Level::Town, Level::Kind(OrgUnitKind::YouthHome)] {
            let targets = registry.targets_for(&period);
            let kept = raw_table(db, &period, level, Figures::Rollups, &targets)
                .await
                .unwrap();
            let counted = raw_table(db, &period, level, Figures::Events(&rules), &targets)
                .await
                .unwrap();
            assert_eq!(kept.units, counted.units, "{when}: {text} {level:?}");
            let mut keys: Vec<&String> = counted.figures.keys().collect();
            keys.sort();
            for key in keys {
                assert_eq!(
                    kept.figures.get(key),
                    counted.figures.get(key),
                    "{when}: figure {key} of {text} at {level:?}"
                );
            }
            assert_eq!(kept.figures.len(), counted.figures.len());
        }
    }
    let differences = rollups::verify(db, rollups::DaySpan::default())
        .await
        .unwrap();
    assert!(differences.is_empty(), "{when}: {differences:#?}");
}

both_databases! {
    async fn random_writes_keep_the_rollups_equal_to_the_raw_events(app) {
        app.load_demo(0.02).await;
        let mut registry = Registry::load(&shipped_rules()).unwrap();
        assert_rollups_equal_events(&app.db, &registry, "after the demo load").await;

        let mut rng = Rng(2017);
        for step in 0..400 {
            random_write(&app.db, &mut rng, step).await;
            if step % 100 == 99 {
                assert_rollups_equal_events(&app.db, &registry, &format!("after {} writes", step + 1)).await;
            }
        }

        // Rankings: the same scores and ranks from either source.
        for text in ["2017-10", "2017-11", "2017-W45", "2017-Q4"] {
            let period: Period = text.parse().unwrap();
            registry.read_events = false;
            let kept = scoring::rank(&app.db, &registry, "qii", &period, Level::Town).await.unwrap();
            registry.read_events = true;
            let counted = scoring::rank(&app.db, &registry, "qii", &period, Level::Town).await.unwrap();
            assert_eq!(kept.scores, counted.scores, "ranking of {text}");
        }

        // Through two real servers on the one database: one reads the rollups, the other
        // counts the raw events.
        let events = app.replica_configured(|c| c.figures = "events".into()).await;
        let source = std::fs::read_to_string(shipped_rules().join("qii/v2.rhai")).unwrap();
        let preview = "query($s: String!, $p: Period!) { previewRanking(source: $s, period: $p) {
            entries(first: 100) { nodes { rank total orgUnit { code } indicators { key raw } } } } }";
        for p in ["2017-11", "2017-W47"] {
            let vars = json!({ "s": source, "p": p });
            let a = app.data(preview, vars.clone()).await;
            let b = events.data(preview, vars).await;
            assert_eq!(a, b, "preview of {p}");
            assert!(!a["previewRanking"]["entries"]["nodes"].as_array().unwrap().is_empty());
        }
    }

    async fn a_rule_change_re_derives_the_eligible_activities(app) {
        app.load_demo(0.02).await;
        let registry = Registry::load(&shipped_rules()).unwrap();
        let october: Period = "2017-10".parse().unwrap();
        let count = |table: &qii_engine::rules::compute::RawTable| -> f64 {
            table.figures["eligible_activities"].iter().flatten().sum()
        };
        let before = raw_table(&app.db, &october, Level::Town, Figures::Rollups, &[]).await.unwrap();
        // Stricter conditions put in force: fewer activities count, exactly those the raw
        // events give under the same conditions.
        for at_least in [1_000_000, 3, 1] {
            let rules = shipped_activity_rules(at_least);
            assert!(rollups::sync_conditions(&app.db, &rules).await.unwrap());
            assert!(!rollups::sync_conditions(&app.db, &rules).await.unwrap(), "a second replica changes nothing");
            let kept = raw_table(&app.db, &october, Level::Town, Figures::Rollups, &[]).await.unwrap();
            let counted = raw_table(&app.db, &october, Level::Town, Figures::Events(&rules), &[]).await.unwrap();
            assert_eq!(kept.figures["eligible_activities"], counted.figures["eligible_activities"], "at least {at_least}");
            if at_least == 1_000_000 {
                assert_eq!(count(&kept), 0.0);
                assert!(count(&before) > 0.0);
            }
        }
        // Back to the rules in force.
        rollups::sync_conditions(&app.db, &registry.activity_rules().unwrap()).await.unwrap();
        let after = raw_table(&app.db, &october, Level::Town, Figures::Rollups, &[]).await.unwrap();
        assert_eq!(before.figures["eligible_activities"], after.figures["eligible_activities"]);
    }
}
