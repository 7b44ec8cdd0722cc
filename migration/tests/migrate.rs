//! The migrations apply, revert and re-apply cleanly, their constraints reject invalid
//! rows, and every entity of the `entities` crate round-trips through the schema.
//!
//! Each test runs on an in-memory SQLite database, and again on a fresh PostgreSQL
//! database when `QII_TEST_DATABASE_URL` is set (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`): the test connects there, creates
//! `qii_mig_<random>`, runs in it and drops it afterwards.

use std::fmt::Debug;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use entities::enums::{
    ActivityCategory, ActivityKind, ApplicationStatus, AttendeeRole, ExpertField, IncentiveIntent,
    LikeKind, ModerationStatus, OrgUnitKind, ParticipationKind, PlatformTrainingStatus,
    ServiceRequestStatus,
};
use entities::{
    activity, activity_checkin, activity_comment, activity_like, activity_photo, activity_review,
    activity_signup, answer, daily_visit, district, expert, incentive_application,
    incentive_intent, meeting_attendance, member, org_unit, platform_training_request, question,
    service_request, service_request_event, supervision_meeting, supervisor_assignment, target,
    topic, topic_participation,
};
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    IntoActiveModel, Iterable, ModelTrait, PrimaryKeyToColumn, QueryOrder, Statement,
};

/// Every table the migrations create.
const TABLES: [&str; 25] = [
    "district",
    "org_unit",
    "member",
    "expert",
    "question",
    "answer",
    "topic",
    "topic_participation",
    "activity",
    "activity_signup",
    "activity_checkin",
    "activity_comment",
    "activity_review",
    "activity_like",
    "activity_photo",
    "service_request",
    "service_request_event",
    "daily_visit",
    "target",
    "supervisor_assignment",
    "supervision_meeting",
    "meeting_attendance",
    "incentive_application",
    "incentive_intent",
    "platform_training_request",
];

/// An instant in the literal form both backends accept.
const T0: &str = "'2017-10-01T08:00:00+00:00'";
const T1: &str = "'2017-10-01T10:00:00+00:00'";

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn migrations_apply_revert_and_reapply_on_sqlite() {
    apply_revert_and_reapply(sqlite().await).await;
}

#[tokio::test]
async fn migrations_apply_revert_and_reapply_on_postgres() {
    on_postgres(apply_revert_and_reapply).await;
}

#[tokio::test]
async fn constraints_reject_invalid_rows_on_sqlite() {
    constraints_reject_invalid_rows(migrated(sqlite().await).await).await;
}

#[tokio::test]
async fn constraints_reject_invalid_rows_on_postgres() {
    on_postgres(|db| async move { constraints_reject_invalid_rows(migrated(db).await).await })
        .await;
}

#[tokio::test]
async fn every_entity_round_trips_through_the_schema_on_sqlite() {
    every_entity_round_trips(migrated(sqlite().await).await).await;
}

#[tokio::test]
async fn every_entity_round_trips_through_the_schema_on_postgres() {
    on_postgres(|db| async move { every_entity_round_trips(migrated(db).await).await }).await;
}

// ---------------------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------------------

async fn sqlite() -> DatabaseConnection {
    Database::connect("sqlite::memory:")
        .await
        .expect("open an in-memory SQLite database")
}

async fn migrated(db: DatabaseConnection) -> DatabaseConnection {
    Migrator::up(&db, None).await.expect("apply the migrations");
    db
}

/// Runs `body` on a fresh PostgreSQL database next to `QII_TEST_DATABASE_URL`, then drops
/// that database, even when `body` panics; does nothing when the variable is not set.
async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(url) = std::env::var("QII_TEST_DATABASE_URL") else {
        eprintln!("QII_TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return;
    };
    let admin = Database::connect(&url)
        .await
        .expect("connect to QII_TEST_DATABASE_URL");
    let name = scratch_database_name();
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
        .await
        .expect("create the scratch database");

    let outcome = match Database::connect(&with_database(&url, &name)).await {
        Ok(db) => {
            let outcome = tokio::spawn(body(db.clone())).await;
            db.close().await.expect("close the scratch database");
            outcome.map_err(|e| e.into_panic())
        }
        Err(e) => Err(Box::new(format!("connect to the scratch database {name}: {e}")) as _),
    };

    admin
        .execute_unprepared(&format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#))
        .await
        .expect("drop the scratch database");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn scratch_database_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "qii_mig_{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database name replaced by `name`, keeping any `?query`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, ""), |(base, query)| (base, query));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let prefix = base[authority..]
        .find('/')
        .map_or(base, |i| &base[..authority + i]);
    if query.is_empty() {
        format!("{prefix}/{name}")
    } else {
        format!("{prefix}/{name}?{query}")
    }
}

#[test]
fn database_urls_get_their_database_name_replaced() {
    assert_eq!(
        with_database("postgres://u@h:5432/test", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u@h/test?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://u@h:5432", "x"),
        "postgres://u@h:5432/x"
    );
}

// ---------------------------------------------------------------------------------------
// Apply, revert, re-apply
// ---------------------------------------------------------------------------------------

async fn apply_revert_and_reapply(db: DatabaseConnection) {
    Migrator::up(&db, None).await.expect("apply the migrations");
    assert_tables_exist(&db, true).await;
    let pending = Migrator::get_pending_migrations(&db)
        .await
        .expect("list pending migrations");
    assert!(
        pending.is_empty(),
        "{} migrations still pending",
        pending.len()
    );

    // Revert one migration at a time, so that each `down` runs against the schema it undoes.
    let applied = Migrator::get_applied_migrations(&db)
        .await
        .expect("list applied migrations");
    assert_eq!(applied.len(), Migrator::migrations().len());
    for _ in &applied {
        Migrator::down(&db, Some(1))
            .await
            .expect("revert one migration");
    }
    assert_tables_exist(&db, false).await;
    let applied = Migrator::get_applied_migrations(&db)
        .await
        .expect("list applied migrations");
    assert!(
        applied.is_empty(),
        "{} migrations still applied",
        applied.len()
    );

    Migrator::up(&db, None)
        .await
        .expect("re-apply the migrations");
    assert_tables_exist(&db, true).await;

    Migrator::down(&db, None)
        .await
        .expect("revert all migrations at once");
    assert_tables_exist(&db, false).await;
}

async fn assert_tables_exist(db: &DatabaseConnection, expected: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        let exists = manager.has_table(table).await.expect("look the table up");
        assert_eq!(exists, expected, "table {table} exists: {exists}");
    }
}

// ---------------------------------------------------------------------------------------
// Constraints, through raw SQL
// ---------------------------------------------------------------------------------------

/// A constraint expected to reject a statement.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Check(&'static str),
    Unique(&'static str),
    ForeignKey(&'static str),
}

async fn constraints_reject_invalid_rows(db: DatabaseConnection) {
    let db = &db;
    let district = id_of(
        db,
        "INSERT INTO district (code, name, name_en, position) VALUES ('east', '东部片区', 'East', 1)",
    )
    .await;
    let city = id_of(
        db,
        &format!(
            "INSERT INTO org_unit (code, name, kind, registered, created_at) \
             VALUES ('city', '团市委', 'city', false, {T0})"
        ),
    )
    .await;
    let town = id_of(
        db,
        &format!(
            "INSERT INTO org_unit (code, name, kind, parent_id, district_id, population_coefficient, registered, created_at) \
             VALUES ('town-shijie', '石碣镇', 'town', {city}, {district}, 0.05, false, {T0})"
        ),
    )
    .await;
    let asker = id_of(
        db,
        &format!("INSERT INTO member (nickname, mobile, registered_at) VALUES ('小明', '13800000001', {T0})"),
    )
    .await;
    let lawyer = id_of(
        db,
        &format!("INSERT INTO member (nickname, registered_at) VALUES ('李律师', {T0})"),
    )
    .await;
    let expert = id_of(
        db,
        &format!(
            "INSERT INTO expert (member_id, name, field, recruited_by_id, joined_at) \
             VALUES ({lawyer}, '李律师', 'law', {town}, {T0})"
        ),
    )
    .await;
    let question = id_of(
        db,
        &format!(
            "INSERT INTO question (asker_id, title, body, status, asked_at) \
             VALUES ({asker}, '租房押金', '房东不退押金怎么办？', 'visible', {T0})"
        ),
    )
    .await;
    let activity_columns = "org_unit_id, title, description, kind, category, starts_at, ends_at, capacity, heavyweight, published_at";
    let activity = id_of(
        db,
        &format!(
            "INSERT INTO activity ({activity_columns}) \
             VALUES ({town}, '读书会', '一起读书', 'offline', 'social', {T0}, {T1}, 30, false, {T0})"
        ),
    )
    .await;
    let signup = id_of(
        db,
        &format!("INSERT INTO activity_signup (activity_id, member_id, signed_up_at) VALUES ({activity}, {asker}, {T0})"),
    )
    .await;
    accepted(
        db,
        &format!("INSERT INTO activity_checkin (signup_id, checked_in_at) VALUES ({signup}, {T1})"),
    )
    .await;

    // Enumerations hold one of their string values.
    rejected(
        db,
        &format!(
            "INSERT INTO org_unit (code, name, kind, registered, created_at) \
             VALUES ('village', '某村', 'village', false, {T0})"
        ),
        Rule::Check("ck_org_unit_kind"),
    )
    .await;
    let topic = id_of(
        db,
        &format!(
            "INSERT INTO topic (org_unit_id, title, body, published_at, closes_at) \
             VALUES ({town}, '周末去哪儿', '说说你的计划', {T0}, {T1})"
        ),
    )
    .await;
    let participation_sql = |kind: &str| {
        format!(
            "INSERT INTO topic_participation (topic_id, member_id, kind, created_at) \
             VALUES ({topic}, {asker}, '{kind}', {T1})"
        )
    };
    accepted(db, &participation_sql("vote")).await;
    // A second vote by the same member is refused; comments may repeat.
    rejected(
        db,
        &participation_sql("vote"),
        Rule::Unique("uq_topic_participation_vote"),
    )
    .await;
    accepted(db, &participation_sql("comment")).await;
    accepted(db, &participation_sql("comment")).await;
    rejected(
        db,
        &participation_sql("share"),
        Rule::Check("ck_topic_participation_kind"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO question (asker_id, title, body, status, asked_at) \
             VALUES ({asker}, '标题', '正文', 'hidden', {T0})"
        ),
        Rule::Check("ck_question_status"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO activity ({activity_columns}) \
             VALUES ({town}, '比赛', '说明', 'offline', 'party', {T0}, {T1}, NULL, false, {T0})"
        ),
        Rule::Check("ck_activity_category"),
    )
    .await;

    // Ratings are 1 to 5.
    rejected(
        db,
        &format!(
            "INSERT INTO activity_review (activity_id, member_id, rating, created_at) \
             VALUES ({activity}, {asker}, 7, {T1})"
        ),
        Rule::Check("ck_activity_review_rating"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO activity_review (activity_id, member_id, rating, created_at) \
             VALUES ({activity}, {asker}, 0, {T1})"
        ),
        Rule::Check("ck_activity_review_rating"),
    )
    .await;
    accepted(
        db,
        &format!(
            "INSERT INTO activity_review (activity_id, member_id, rating, created_at) \
             VALUES ({activity}, {asker}, 5, {T1})"
        ),
    )
    .await;
    let request_columns =
        "youth_home_id, applicant_id, title, description, status, submitted_at, updated_at, rating";
    accepted(
        db,
        &format!(
            "INSERT INTO service_request ({request_columns}) \
             VALUES ({town}, {asker}, '心理咨询', '说明', 'submitted', {T0}, {T0}, NULL)"
        ),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO service_request ({request_columns}) \
             VALUES ({town}, {asker}, '心理咨询', '说明', 'completed', {T0}, {T1}, 6)"
        ),
        Rule::Check("ck_service_request_rating"),
    )
    .await;

    // An answer has exactly one author.
    let answer_sql = |member: &str, expert: &str, unit: &str| {
        format!(
            "INSERT INTO answer (question_id, member_id, expert_id, org_unit_id, body, answered_at) \
             VALUES ({question}, {member}, {expert}, {unit}, '可以申请调解。', {T1})"
        )
    };
    rejected(
        db,
        &answer_sql(&asker.to_string(), &expert.to_string(), "NULL"),
        Rule::Check("ck_answer_one_author"),
    )
    .await;
    rejected(
        db,
        &answer_sql("NULL", "NULL", "NULL"),
        Rule::Check("ck_answer_one_author"),
    )
    .await;
    rejected(
        db,
        &answer_sql(&asker.to_string(), &expert.to_string(), &town.to_string()),
        Rule::Check("ck_answer_one_author"),
    )
    .await;
    accepted(db, &answer_sql("NULL", &expert.to_string(), "NULL")).await;
    accepted(db, &answer_sql("NULL", "NULL", &town.to_string())).await;

    // Periods run forwards; counts and amounts are not negative.
    rejected(
        db,
        &format!(
            "INSERT INTO activity ({activity_columns}) \
             VALUES ({town}, '倒流', '说明', 'offline', 'other', {T1}, {T0}, NULL, false, {T0})"
        ),
        Rule::Check("ck_activity_ends_after_starts"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO activity ({activity_columns}) \
             VALUES ({town}, '空场', '说明', 'offline', 'other', {T0}, {T1}, 0, false, {T0})"
        ),
        Rule::Check("ck_activity_capacity"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO topic (org_unit_id, title, body, published_at, closes_at) \
             VALUES ({town}, '话题', '正文', {T1}, {T0})"
        ),
        Rule::Check("ck_topic_closes_after_published"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO daily_visit (org_unit_id, day, visits, imported_at) VALUES ({town}, '2017-10-01', -1, {T0})"
        ),
        Rule::Check("ck_daily_visit_visits"),
    )
    .await;
    rejected(
        db,
        &format!("UPDATE org_unit SET population_coefficient = -0.5 WHERE id = {town}"),
        Rule::Check("ck_org_unit_population_coefficient"),
    )
    .await;
    rejected(
        db,
        &format!("INSERT INTO target (org_unit_id, period, metric, value) VALUES ({town}, '2017-10', 'visits', -3)"),
        Rule::Check("ck_target_value"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO supervisor_assignment (town_id, supervisor_name, starts_on, ends_on) \
             VALUES ({town}, '王老师', '2017-10-01', '2017-09-30')"
        ),
        Rule::Check("ck_supervisor_assignment_period"),
    )
    .await;
    let application_columns = "org_unit_id, activity_name, starts_at, ends_at, scale, kind, description, status, submitted_at";
    rejected(
        db,
        &format!(
            "INSERT INTO incentive_application ({application_columns}) \
             VALUES ({town}, '青年节', {T1}, {T0}, 100, 'offline', '说明', 'submitted', {T0})"
        ),
        Rule::Check("ck_incentive_application_period"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO incentive_application ({application_columns}) \
             VALUES ({town}, '青年节', NULL, NULL, -1, 'offline', '说明', 'submitted', {T0})"
        ),
        Rule::Check("ck_incentive_application_scale"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO incentive_application ({application_columns}, category) \
             VALUES ({town}, '青年节', NULL, NULL, 60, 'offline', '说明', 'submitted', {T0}, 'knitting')"
        ),
        Rule::Check("ck_incentive_application_category"),
    )
    .await;

    let training_columns = "org_unit_id, trainees, status, scheduled_on, city_note, requested_at, requested_by, updated_at";
    for (values, rule) in [
        (
            "0, 'requested', NULL, NULL",
            "ck_platform_training_request_trainees",
        ),
        (
            "5, 'postponed', NULL, NULL",
            "ck_platform_training_request_status",
        ),
        (
            "5, 'scheduled', NULL, NULL",
            "ck_platform_training_request_scheduled_on",
        ),
        (
            "5, 'done', NULL, NULL",
            "ck_platform_training_request_scheduled_on",
        ),
        (
            "5, 'declined', '2017-11-20', NULL",
            "ck_platform_training_request_declined",
        ),
    ] {
        rejected(
            db,
            &format!(
                "INSERT INTO platform_training_request ({training_columns}) \
                 VALUES ({town}, {values}, {T0}, 'city_admin:a', {T0})"
            ),
            Rule::Check(rule),
        )
        .await;
    }

    // Names and titles are not blank.
    rejected(
        db,
        &format!(
            "INSERT INTO activity ({activity_columns}) \
             VALUES ({town}, '   ', '说明', 'offline', 'other', {T0}, {T1}, NULL, false, {T0})"
        ),
        Rule::Check("ck_activity_title"),
    )
    .await;

    // Uniqueness.
    rejected(
        db,
        &format!("INSERT INTO activity_signup (activity_id, member_id, signed_up_at) VALUES ({activity}, {asker}, {T1})"),
        Rule::Unique("uq_activity_signup_member"),
    )
    .await;
    rejected(
        db,
        &format!("INSERT INTO activity_checkin (signup_id, checked_in_at) VALUES ({signup}, {T1})"),
        Rule::Unique("uq_activity_checkin_signup"),
    )
    .await;
    rejected(
        db,
        &format!("INSERT INTO member (nickname, mobile, registered_at) VALUES ('冒名', '13800000001', {T0})"),
        Rule::Unique("uq_member_mobile"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO org_unit (code, name, kind, registered, created_at) \
             VALUES ('town-shijie', '重复', 'town', false, {T0})"
        ),
        Rule::Unique("uq_org_unit_code"),
    )
    .await;
    accepted(
        db,
        &format!(
            "INSERT INTO daily_visit (org_unit_id, day, visits, imported_at) VALUES ({town}, '2017-10-01', 12, {T0})"
        ),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO daily_visit (org_unit_id, day, visits, imported_at) VALUES ({town}, '2017-10-01', 13, {T1})"
        ),
        Rule::Unique("uq_daily_visit_org_unit_day"),
    )
    .await;
    // Members without a mobile do not collide.
    accepted(
        db,
        &format!("INSERT INTO member (nickname, registered_at) VALUES ('无号一', {T0})"),
    )
    .await;
    accepted(
        db,
        &format!("INSERT INTO member (nickname, registered_at) VALUES ('无号二', {T0})"),
    )
    .await;

    // Foreign keys: references must exist, and referenced rows cannot be deleted...
    rejected(
        db,
        &format!(
            "INSERT INTO question (asker_id, title, body, status, asked_at) \
             VALUES (999999, '孤儿', '正文', 'visible', {T0})"
        ),
        Rule::ForeignKey("fk_question_asker"),
    )
    .await;
    rejected(
        db,
        &format!(
            "INSERT INTO incentive_application \
             (org_unit_id, activity_name, scale, kind, description, status, submitted_at, topic_id) \
             VALUES ({town}, '话题', 120, 'online_topic', '说明', 'submitted', {T0}, 999999)"
        ),
        Rule::ForeignKey("fk_incentive_application_topic"),
    )
    .await;
    let other_activity = id_of(
        db,
        &format!(
            "INSERT INTO activity ({activity_columns}) \
             VALUES ({town}, '徒步', '说明', 'offline', 'other', {T0}, {T1}, NULL, true, {T0})"
        ),
    )
    .await;
    accepted(
        db,
        &format!(
            "INSERT INTO activity_signup (activity_id, member_id, signed_up_at) VALUES ({other_activity}, {lawyer}, {T0})"
        ),
    )
    .await;
    rejected(
        db,
        &format!("DELETE FROM activity WHERE id = {other_activity}"),
        Rule::ForeignKey("fk_activity_signup_activity"),
    )
    .await;
    // ...except the rows that belong to their parent, which go with it.
    assert_eq!(count(db, "activity_checkin").await, 1);
    accepted(
        db,
        &format!("DELETE FROM activity_signup WHERE id = {signup}"),
    )
    .await;
    assert_eq!(count(db, "activity_checkin").await, 0);
}

/// Inserts with `sql` (an `INSERT` without `RETURNING`) and returns the new row's id.
async fn id_of(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement =
        Statement::from_string(db.get_database_backend(), format!("{sql} RETURNING id"));
    let row = db
        .query_one_raw(statement)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"))
        .unwrap_or_else(|| panic!("{sql}\nreturned no row"));
    row.try_get::<i64>("", "id").expect("read the new id")
}

async fn accepted(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"));
}

async fn rejected(db: &DatabaseConnection, sql: &str, rule: Rule) {
    let error = match db.execute_unprepared(sql).await {
        Ok(_) => panic!("{sql}\nwas accepted; expected {rule:?} to reject it"),
        Err(e) => e.to_string(),
    };
    // SQLite names broken CHECK constraints, but not broken unique indexes or foreign keys.
    let expected = match (db.get_database_backend(), rule) {
        (DbBackend::Sqlite, Rule::Unique(_)) => "UNIQUE constraint failed",
        (DbBackend::Sqlite, Rule::ForeignKey(_)) => "FOREIGN KEY constraint failed",
        (_, Rule::Check(name) | Rule::Unique(name) | Rule::ForeignKey(name)) => name,
    };
    assert!(
        error.contains(expected),
        "{sql}\nfailed with: {error}\nexpected a mention of {expected}"
    );
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let statement = Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table}"),
    );
    let row = db
        .query_one_raw(statement)
        .await
        .expect("count rows")
        .expect("a count");
    row.try_get::<i64>("", "n").expect("read the count")
}

// ---------------------------------------------------------------------------------------
// Entities round-trip
// ---------------------------------------------------------------------------------------

/// Inserts a row of every table through its entity, with every value of every
/// enumeration, and reads all of them back: the column names, types and CHECK lists of
/// the migrations agree with the entities.
async fn every_entity_round_trips(db: DatabaseConnection) {
    let db = &db;
    let t0 = Utc
        .with_ymd_and_hms(2017, 10, 1, 8, 0, 0)
        .single()
        .expect("a valid instant");
    let at = |hours: i64| -> DateTime<Utc> { t0 + TimeDelta::hours(hours) };
    let day = |d: u32| NaiveDate::from_ymd_opt(2017, 10, d).expect("a valid day");

    let districts = vec![
        insert::<district::Entity>(
            db,
            district::Model {
                id: 0,
                code: "east".into(),
                name: "东部片区".into(),
                name_en: "East".into(),
                position: 1,
            },
        )
        .await,
    ];
    let district_id = districts[0].id;

    let mut units: Vec<org_unit::Model> = Vec::new();
    for (i, kind) in OrgUnitKind::iter().enumerate() {
        let city = units.first().map(|u| u.id);
        let town = units.get(1).map(|u| u.id);
        let unit = org_unit::Model {
            id: 0,
            code: format!("unit-{i}"),
            name: format!("组织{i}"),
            name_en: (i % 2 == 0).then(|| format!("Unit {i}")),
            kind,
            parent_id: if kind == OrgUnitKind::YouthHome {
                town
            } else {
                city
            },
            town_id: town,
            district_id: (kind == OrgUnitKind::Town).then_some(district_id),
            population_coefficient: (kind == OrgUnitKind::Town).then_some(0.125),
            registered: kind == OrgUnitKind::YouthHome,
            founded_on: (kind == OrgUnitKind::YouthHome).then(|| day(1)),
            created_at: t0,
        };
        units.push(insert::<org_unit::Entity>(db, unit).await);
    }
    let town = units[1].id;
    let youth_home = units[2].id;

    let mut members = Vec::new();
    for i in 0..8 {
        let mobile = (i % 2 == 0).then(|| format!("1380000{i:04}"));
        let member = member::Model {
            id: 0,
            nickname: format!("青年{i}"),
            mobile_bound_at: mobile.as_ref().map(|_| at(1)),
            mobile,
            registered_at: at(i),
            home_town_id: (i % 3 != 0).then_some(town),
        };
        members.push(insert::<member::Entity>(db, member).await);
    }

    let mut experts = Vec::new();
    for (i, field) in ExpertField::iter().enumerate() {
        let expert = expert::Model {
            id: 0,
            member_id: members[i].id,
            name: format!("专家{i}"),
            field,
            title: (i % 2 == 0).then(|| "副教授".to_owned()),
            recruited_by_id: town,
            joined_at: at(2),
        };
        experts.push(insert::<expert::Entity>(db, expert).await);
    }

    let mut questions = Vec::new();
    for (i, status) in ModerationStatus::iter().enumerate() {
        let question = question::Model {
            id: 0,
            asker_id: members[7].id,
            addressed_to_id: (i % 2 == 0).then_some(town),
            title: format!("问题{i}"),
            body: "房东不退押金怎么办？".repeat(50),
            status,
            asked_at: at(3),
        };
        questions.push(insert::<question::Entity>(db, question).await);
    }

    let answer_by = |member_id, expert_id, org_unit_id| answer::Model {
        id: 0,
        question_id: questions[0].id,
        member_id,
        expert_id,
        org_unit_id,
        body: "可以申请调解。".into(),
        answered_at: at(4),
    };
    let answers = vec![
        insert::<answer::Entity>(db, answer_by(Some(members[1].id), None, None)).await,
        insert::<answer::Entity>(db, answer_by(None, Some(experts[0].id), None)).await,
        insert::<answer::Entity>(db, answer_by(None, None, Some(town))).await,
    ];

    let mut topics = Vec::new();
    for closes_at in [Some(at(24 * 7)), None] {
        let topic = topic::Model {
            id: 0,
            org_unit_id: town,
            title: "周末去哪儿".into(),
            body: "说说你的计划".into(),
            published_at: t0,
            closes_at,
        };
        topics.push(insert::<topic::Entity>(db, topic).await);
    }

    let mut participations = Vec::new();
    for kind in ParticipationKind::iter() {
        let participation = topic_participation::Model {
            id: 0,
            topic_id: topics[0].id,
            member_id: members[0].id,
            kind,
            body: (kind == ParticipationKind::Comment).then(|| "去图书馆".to_owned()),
            created_at: at(5),
        };
        participations.push(insert::<topic_participation::Entity>(db, participation).await);
    }

    let kinds: Vec<ActivityKind> = ActivityKind::iter().collect();
    let mut activities = Vec::new();
    for (i, category) in ActivityCategory::iter().enumerate() {
        let activity = activity::Model {
            id: 0,
            org_unit_id: if i % 2 == 0 { town } else { youth_home },
            title: format!("活动{i}"),
            description: "一起来".into(),
            kind: kinds[i % kinds.len()],
            category,
            starts_at: at(48),
            ends_at: at(50),
            signup_deadline: (i % 2 == 0).then(|| at(24)),
            place: (i % 2 == 0).then(|| "青年之家".to_owned()),
            capacity: (i % 2 == 0).then_some(30),
            heavyweight: i == 0,
            published_at: t0,
            signup_count: 0,
            checkin_count: 0,
            comment_count: 0,
            review_count: 0,
            photo_count: 0,
            photos_after_end_count: 0,
            like_count: 0,
            heavyweight_approved: false,
        };
        activities.push(insert::<activity::Entity>(db, activity).await);
    }
    let activity_id = activities[0].id;

    let mut signups = Vec::new();
    for member in &members[..5] {
        let signup = activity_signup::Model {
            id: 0,
            activity_id,
            member_id: member.id,
            signed_up_at: at(6),
        };
        signups.push(insert::<activity_signup::Entity>(db, signup).await);
    }
    // The database keeps each activity's count of sign-ups.
    activities[0].signup_count = signups.len() as i64;
    let checkins = vec![
        insert::<activity_checkin::Entity>(
            db,
            activity_checkin::Model {
                id: 0,
                signup_id: signups[0].id,
                checked_in_at: at(48),
            },
        )
        .await,
    ];
    let comments = vec![
        insert::<activity_comment::Entity>(
            db,
            activity_comment::Model {
                id: 0,
                activity_id,
                member_id: members[0].id,
                body: "很有意思".into(),
                created_at: at(51),
            },
        )
        .await,
    ];
    let mut reviews = Vec::new();
    for (rating, member) in (1..=5).zip(&members) {
        let review = activity_review::Model {
            id: 0,
            activity_id,
            member_id: member.id,
            rating,
            body: (rating % 2 == 1).then(|| "不错".to_owned()),
            created_at: at(52),
        };
        reviews.push(insert::<activity_review::Entity>(db, review).await);
    }
    let mut likes = Vec::new();
    for kind in LikeKind::iter() {
        let like = activity_like::Model {
            id: 0,
            activity_id,
            member_id: members[0].id,
            kind,
            created_at: at(53),
        };
        likes.push(insert::<activity_like::Entity>(db, like).await);
    }
    let mut photos = Vec::new();
    for caption in [Some("合影".to_owned()), None] {
        let photo = activity_photo::Model {
            id: 0,
            activity_id,
            url: "https://example.org/photo.jpg".into(),
            thumbnail_url: caption
                .is_some()
                .then(|| "photos/3f/3f2c0d6e8a1b4c5d9e7f00112233445a.thumb.jpg".into()),
            caption,
            uploaded_at: at(54),
        };
        photos.push(insert::<activity_photo::Entity>(db, photo).await);
    }
    // The database keeps the loop counts of the activity.
    let first = &mut activities[0];
    first.checkin_count = checkins.len() as i64;
    first.comment_count = comments.len() as i64;
    first.review_count = reviews.len() as i64;
    first.like_count = likes.len() as i64;
    first.photo_count = photos.len() as i64;
    first.photos_after_end_count = photos
        .iter()
        .filter(|p| p.uploaded_at > first.ends_at)
        .count() as i64;

    let mut requests = Vec::new();
    for status in ServiceRequestStatus::iter() {
        let completed = status == ServiceRequestStatus::Completed;
        let request = service_request::Model {
            id: 0,
            youth_home_id: youth_home,
            applicant_id: members[2].id,
            title: "心理咨询".into(),
            description: "最近压力大".into(),
            status,
            submitted_at: at(7),
            updated_at: at(8),
            rating: completed.then_some(4),
            feedback: completed.then(|| "很有帮助".to_owned()),
            rated_at: completed.then(|| at(9)),
        };
        requests.push(insert::<service_request::Entity>(db, request).await);
    }
    let mut events = Vec::new();
    let mut from_status = None;
    for to_status in ServiceRequestStatus::iter() {
        let event = service_request_event::Model {
            id: 0,
            request_id: requests[3].id,
            from_status,
            to_status,
            actor: "station".into(),
            note: from_status.is_none().then(|| "提交".to_owned()),
            at: at(8),
        };
        events.push(insert::<service_request_event::Entity>(db, event).await);
        from_status = Some(to_status);
    }

    let mut visits = Vec::new();
    for d in 1..=3 {
        let visit = daily_visit::Model {
            id: 0,
            org_unit_id: town,
            day: day(d),
            visits: 3_000_000_000 + i64::from(d),
            imported_at: at(10),
        };
        visits.push(insert::<daily_visit::Entity>(db, visit).await);
    }
    let mut targets = Vec::new();
    for (metric, value) in [("visits", 1500.0), ("questions", 12.5)] {
        let target = target::Model {
            id: 0,
            org_unit_id: town,
            period: "2017-Q4".into(),
            metric: metric.into(),
            value,
        };
        targets.push(insert::<target::Entity>(db, target).await);
    }
    let mut assignments = Vec::new();
    for ends_on in [Some(day(31)), None] {
        let assignment = supervisor_assignment::Model {
            id: 0,
            town_id: town,
            supervisor_name: "王老师".into(),
            university: ends_on.map(|_| "东莞理工学院".to_owned()),
            mobile: None,
            starts_on: day(1),
            ends_on,
        };
        assignments.push(insert::<supervisor_assignment::Entity>(db, assignment).await);
    }
    let meetings = vec![
        insert::<supervision_meeting::Entity>(
            db,
            supervision_meeting::Model {
                id: 0,
                district_id,
                held_on: day(20),
                venue: "石碣镇团委".into(),
                visit_org_unit_id: Some(youth_home),
                agenda: Some("一、通报；二、交流".into()),
                receipts_due_on: Some(day(18)),
            },
        )
        .await,
    ];
    let mut attendances = Vec::new();
    for name in ["张三", "李四"] {
        let attendance = meeting_attendance::Model {
            id: 0,
            meeting_id: meetings[0].id,
            org_unit_id: town,
            name: name.into(),
            title: Some("书记".into()),
            mobile: None,
            remarks: None,
            role: AttendeeRole::Operator,
            submitted_at: None,
        };
        attendances.push(insert::<meeting_attendance::Entity>(db, attendance).await);
    }
    let mut applications = Vec::new();
    for (i, status) in ApplicationStatus::iter().enumerate() {
        let decided = status != ApplicationStatus::Submitted;
        let application = incentive_application::Model {
            id: 0,
            org_unit_id: town,
            activity_id: (i % 2 == 0).then_some(activity_id),
            topic_id: (i == 1).then_some(topics[0].id),
            activity_name: format!("申报{i}"),
            starts_at: (i % 2 == 0).then(|| at(48)),
            ends_at: (i % 2 == 0).then(|| at(50)),
            place: None,
            scale: 200,
            special_resources: i == 1,
            kind: kinds[i % kinds.len()],
            category: [None, Some(ActivityCategory::Training)][i % 2],
            description: "方案".into(),
            plan_url: Some("https://example.org/plan.pdf".into()),
            status,
            submitted_at: at(11),
            decided_at: decided.then(|| at(12)),
            decision_note: (status == ApplicationStatus::Rejected).then(|| "预算不足".to_owned()),
        };
        applications.push(insert::<incentive_application::Entity>(db, application).await);
    }
    let mut intents = Vec::new();
    for intent in IncentiveIntent::iter() {
        let row = incentive_intent::Model {
            id: 0,
            application_id: applications[0].id,
            intent,
        };
        intents.push(insert::<incentive_intent::Entity>(db, row).await);
    }

    let mut trainings = Vec::new();
    for (i, status) in PlatformTrainingStatus::iter().enumerate() {
        let given_a_day = matches!(
            status,
            PlatformTrainingStatus::Scheduled | PlatformTrainingStatus::Done
        );
        let row = platform_training_request::Model {
            id: 0,
            org_unit_id: town,
            trainees: 1 + i as i32 * 20,
            preferred_date: (i % 2 == 0).then(|| day(20)),
            note: Some("操作员培训".into()),
            status,
            scheduled_on: given_a_day.then(|| day(25)),
            city_note: (status == PlatformTrainingStatus::Declined).then(|| "本月已满".to_owned()),
            requested_at: at(11),
            requested_by: "town_admin:shijie".into(),
            updated_at: at(12),
        };
        trainings.push(insert::<platform_training_request::Entity>(db, row).await);
    }

    assert_stored::<district::Entity>(db, &districts).await;
    assert_stored::<org_unit::Entity>(db, &units).await;
    assert_stored::<member::Entity>(db, &members).await;
    assert_stored::<expert::Entity>(db, &experts).await;
    assert_stored::<question::Entity>(db, &questions).await;
    assert_stored::<answer::Entity>(db, &answers).await;
    assert_stored::<topic::Entity>(db, &topics).await;
    assert_stored::<topic_participation::Entity>(db, &participations).await;
    assert_stored::<activity::Entity>(db, &activities).await;
    assert_stored::<activity_signup::Entity>(db, &signups).await;
    assert_stored::<activity_checkin::Entity>(db, &checkins).await;
    assert_stored::<activity_comment::Entity>(db, &comments).await;
    assert_stored::<activity_review::Entity>(db, &reviews).await;
    assert_stored::<activity_like::Entity>(db, &likes).await;
    assert_stored::<activity_photo::Entity>(db, &photos).await;
    assert_stored::<service_request::Entity>(db, &requests).await;
    assert_stored::<service_request_event::Entity>(db, &events).await;
    assert_stored::<daily_visit::Entity>(db, &visits).await;
    assert_stored::<target::Entity>(db, &targets).await;
    assert_stored::<supervisor_assignment::Entity>(db, &assignments).await;
    assert_stored::<supervision_meeting::Entity>(db, &meetings).await;
    assert_stored::<meeting_attendance::Entity>(db, &attendances).await;
    assert_stored::<incentive_application::Entity>(db, &applications).await;
    assert_stored::<incentive_intent::Entity>(db, &intents).await;
    assert_stored::<platform_training_request::Entity>(db, &trainings).await;
}

/// Inserts `model` (its primary key left to the database) and checks that the row
/// returned is `model` with its new key.
async fn insert<E>(db: &DatabaseConnection, model: E::Model) -> E::Model
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Clone + PartialEq + Debug,
    E::ActiveModel: Send,
{
    let mut active = model.clone().into_active_model().reset_all();
    for key in E::PrimaryKey::iter() {
        active.not_set(key.into_column());
    }
    let inserted = active
        .insert(db)
        .await
        .unwrap_or_else(|e| panic!("insert {model:?}\nfailed: {e}"));
    let mut expected = model;
    for key in E::PrimaryKey::iter() {
        let column = key.into_column();
        expected.set(column, inserted.get(column));
    }
    assert_eq!(inserted, expected);
    inserted
}

/// Reads the whole table of `E` back and compares it with `rows`.
async fn assert_stored<E>(db: &DatabaseConnection, rows: &[E::Model])
where
    E: EntityTrait,
    E::Model: PartialEq + Debug,
{
    let mut select = E::find();
    for key in E::PrimaryKey::iter() {
        select = select.order_by_asc(key.into_column());
    }
    let stored = select
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("read {rows:?} back: {e}"));
    assert_eq!(stored, rows);
}
