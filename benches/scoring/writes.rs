//! What the rollup triggers add to single writes: inserts of each kind, one statement each
//! in autocommit as a service's write would be, timed in alternating rounds with the
//! triggers in place and dropped. The rows written are removed afterwards as they were
//! written (with the triggers, or without), so that the data set stays as loaded and its
//! rollups equal to its events for the next run (`QII_BENCH_REUSE`).

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use entities::enums::ModerationStatus;
use entities::{activity_comment, activity_photo, activity_signup, answer, member, question};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, Statement};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Signup,
    Comment,
    Photo,
    Question,
    Answer,
}

pub const KINDS: &[Kind] = &[
    Kind::Signup,
    Kind::Comment,
    Kind::Photo,
    Kind::Question,
    Kind::Answer,
];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Signup => "sign-up",
            Kind::Comment => "comment",
            Kind::Photo => "photo",
            Kind::Question => "question",
            Kind::Answer => "answer (written as the unit)",
        }
    }
}

async fn ids(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<i64>> {
    let backend = db.get_database_backend();
    Ok(db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?)
}

/// Mean seconds per insert of `kind` with the triggers and without, over `n` inserts each.
pub async fn measure(db: &DatabaseConnection, kind: Kind, n: usize) -> anyhow::Result<(f64, f64)> {
    let activities = ids(db, "SELECT id FROM activity ORDER BY id").await?;
    let units = ids(
        db,
        "SELECT id FROM org_unit WHERE kind <> 'city' ORDER BY id",
    )
    .await?;
    let questions = ids(db, "SELECT id FROM question ORDER BY id").await?;
    anyhow::ensure!(
        !activities.is_empty() && !units.is_empty() && !questions.is_empty(),
        "the data set has activities, units and questions"
    );
    // New members, so that every sign-up is a new pair.
    let first = Utc.with_ymd_and_hms(2017, 11, 10, 2, 0, 0).unwrap();
    let mut members = Vec::with_capacity(2 * n);
    for chunk in (0..2 * n).collect::<Vec<_>>().chunks(1_000) {
        let rows = chunk.iter().map(|i| member::ActiveModel {
            nickname: Set(format!("bench{i}-{}", kind.name())),
            mobile: Set(None),
            registered_at: Set(first),
            mobile_bound_at: Set(None),
            home_town_id: Set(None),
            ..Default::default()
        });
        member::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    members.extend(
        ids(
            db,
            &format!("SELECT id FROM member ORDER BY id DESC LIMIT {}", 2 * n),
        )
        .await?,
    );

    let rounds = 4;
    let per_round = (n / rounds).max(1);
    let (mut with, mut without) = (0.0, 0.0);
    // The ids written with the triggers and without.
    let mut written: [Vec<i64>; 2] = [Vec::new(), Vec::new()];
    let mut i = 0usize;
    for round in 0..2 * rounds {
        let triggers = round % 2 == 0;
        if !triggers {
            migration::rollup::drop_triggers(db).await?;
        }
        let started = Instant::now();
        for _ in 0..per_round {
            let at = first + Duration::seconds(i as i64 * 37);
            let activity = activities[(i * 7919) % activities.len()];
            let unit = units[(i * 104_729) % units.len()];
            let id = match kind {
                Kind::Signup => {
                    activity_signup::Entity::insert(activity_signup::ActiveModel {
                        activity_id: Set(activity),
                        member_id: Set(members[i % members.len()]),
                        signed_up_at: Set(at),
                        ..Default::default()
                    })
                    .exec(db)
                    .await?
                    .last_insert_id
                }
                Kind::Comment => {
                    activity_comment::Entity::insert(activity_comment::ActiveModel {
                        activity_id: Set(activity),
                        member_id: Set(members[i % members.len()]),
                        body: Set("很好".into()),
                        created_at: Set(at),
                        ..Default::default()
                    })
                    .exec(db)
                    .await?
                    .last_insert_id
                }
                Kind::Photo => {
                    activity_photo::Entity::insert(activity_photo::ActiveModel {
                        activity_id: Set(activity),
                        url: Set("https://example.org/p.jpg".into()),
                        uploaded_at: Set(at),
                        ..Default::default()
                    })
                    .exec(db)
                    .await?
                    .last_insert_id
                }
                Kind::Question => {
                    question::Entity::insert(question::ActiveModel {
                        asker_id: Set(members[i % members.len()]),
                        addressed_to_id: Set(Some(unit)),
                        title: Set("问题".into()),
                        body: Set("问题".into()),
                        status: Set(ModerationStatus::Visible),
                        asked_at: Set(at),
                        ..Default::default()
                    })
                    .exec(db)
                    .await?
                    .last_insert_id
                }
                Kind::Answer => {
                    answer::Entity::insert(answer::ActiveModel {
                        question_id: Set(questions[(i * 7919) % questions.len()]),
                        member_id: Set(None),
                        expert_id: Set(None),
                        org_unit_id: Set(Some(unit)),
                        body: Set("回答".into()),
                        answered_at: Set(at),
                        ..Default::default()
                    })
                    .exec(db)
                    .await?
                    .last_insert_id
                }
            };
            written[usize::from(!triggers)].push(id);
            i += 1;
        }
        let elapsed = started.elapsed().as_secs_f64();
        if triggers {
            with += elapsed;
        } else {
            without += elapsed;
            migration::rollup::create_triggers(db).await?;
        }
    }
    let total = (rounds * per_round) as f64;

    // Removed as written: with the triggers what they kept, without what they did not.
    let table = match kind {
        Kind::Signup => "activity_signup",
        Kind::Comment => "activity_comment",
        Kind::Photo => "activity_photo",
        Kind::Question => "question",
        Kind::Answer => "answer",
    };
    remove(db, table, &written[0]).await?;
    migration::rollup::drop_triggers(db).await?;
    remove(db, table, &written[1]).await?;
    migration::rollup::create_triggers(db).await?;
    remove(db, "member", &members).await?;
    Ok((with / total, without / total))
}

async fn remove(db: &DatabaseConnection, table: &str, ids: &[i64]) -> anyhow::Result<()> {
    for chunk in ids.chunks(1_000) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        db.execute_unprepared(&format!(
            "DELETE FROM {table} WHERE id IN ({})",
            list.join(", ")
        ))
        .await?;
    }
    Ok(())
}
