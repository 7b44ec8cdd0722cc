//! The expert alliance's evaluation through the server: the figures the `experts` script
//! receives, its score and interaction rate, ranks, and the quarter's honour roll.

use chrono::{DateTime, TimeZone, Utc};
use entities::{
    answer,
    enums::{ExpertField, ModerationStatus, ParticipationKind},
    expert, member, question, topic, topic_participation,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;

use crate::{
    both_databases,
    helpers::{shipped_rules, TestApp},
    service_requests::fixture,
};

const EVALUATION: &str = "query($p: Period!, $u: ID) { expertEvaluation(period: $p, orgUnitId: $u) {
    period ruleVersion { name version hash path }
    entries(first: 100) { nodes { expert { id name } rank score interactionRate answers topicParticipations topicsJoined topicsOpen } } } }";
const HONOURS: &str = "query($q: Period!) { expertHonours(quarter: $q) {
    period entries(first: 100) { nodes { expert { name } rank score } } } }";

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2017, month, day, 2, 0, 0).unwrap()
}

fn id(text: &str) -> i64 {
    text.parse().unwrap()
}

async fn new_member(app: &TestApp) -> i64 {
    member::ActiveModel {
        nickname: Set("专家".into()),
        registered_at: Set(at(9, 1)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

/// An expert recruited by `unit` in September; (expert id, member id).
async fn new_expert(app: &TestApp, name: &str, unit: &str) -> (i64, i64) {
    let member = new_member(app).await;
    let e = expert::ActiveModel {
        member_id: Set(member),
        name: Set(name.into()),
        field: Set(ExpertField::Law),
        title: Set(None),
        recruited_by_id: Set(id(unit)),
        joined_at: Set(at(9, 15)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    (e.id, member)
}

async fn new_topic(app: &TestApp, unit: &str, published: DateTime<Utc>) -> i64 {
    topic::ActiveModel {
        org_unit_id: Set(id(unit)),
        title: Set("话题".into()),
        body: Set("讨论".into()),
        published_at: Set(published),
        closes_at: Set(Some(published + chrono::Duration::days(10))),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

async fn take_part(app: &TestApp, topic: i64, member: i64, when: DateTime<Utc>) {
    topic_participation::ActiveModel {
        topic_id: Set(topic),
        member_id: Set(member),
        kind: Set(ParticipationKind::Comment),
        body: Set(Some("好".into())),
        created_at: Set(when),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

async fn answers(app: &TestApp, expert: i64, asker: i64, n: u32, when: DateTime<Utc>) {
    let q = question::ActiveModel {
        asker_id: Set(asker),
        addressed_to_id: Set(None),
        title: Set("问题".into()),
        body: Set("请问".into()),
        status: Set(ModerationStatus::Visible),
        asked_at: Set(when),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    for _ in 0..n {
        answer::ActiveModel {
            question_id: Set(q.id),
            expert_id: Set(Some(expert)),
            body: Set("答复".into()),
            answered_at: Set(when),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
    }
}

both_databases! {
    async fn experts_are_scored_by_the_script_on_their_answers_and_topic_interaction(app) {
        let f = fixture(&app).await;
        let (lawyer, lawyer_member) = new_expert(&app, "律师", &f.home).await;
        let (doctor, _) = new_expert(&app, "医生", &f.other_town).await;
        let asker = new_member(&app).await;
        let topics = [
            new_topic(&app, &f.town, at(10, 2)).await,
            new_topic(&app, &f.town, at(10, 12)).await,
            new_topic(&app, &f.other_town, at(10, 20)).await,
            // Closed 10 days after 2017-09-25: open in October too.
            new_topic(&app, &f.town, at(9, 25)).await,
        ];
        new_topic(&app, &f.town, at(11, 5)).await;
        answers(&app, lawyer, asker, 3, at(10, 8)).await;
        answers(&app, lawyer, asker, 5, at(11, 8)).await;
        answers(&app, doctor, asker, 1, at(10, 9)).await;
        take_part(&app, topics[0], lawyer_member, at(10, 3)).await;
        take_part(&app, topics[0], lawyer_member, at(10, 4)).await;
        take_part(&app, topics[1], lawyer_member, at(10, 14)).await;

        let data = app.data(EVALUATION, json!({ "p": "2017-10" })).await;
        let evaluation = &data["expertEvaluation"];
        assert_eq!(evaluation["period"], "2017-10");
        let source = std::fs::read_to_string(shipped_rules().join("experts/2017.rhai")).unwrap();
        assert_eq!(evaluation["ruleVersion"], json!({ "name": "experts", "version": "2017",
            "hash": qii_engine::rules::sandbox::content_hash(&source), "path": "experts/2017.rhai" }));
        let entries = evaluation["entries"]["nodes"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        let first = &entries[0];
        assert_eq!(first["expert"]["id"], lawyer.to_string());
        assert_eq!((first["answers"].clone(), first["topicParticipations"].clone(), first["topicsJoined"].clone(), first["topicsOpen"].clone()),
            (json!(3), json!(3), json!(2), json!(4)));
        // expert_score: an answer is worth 1, full interaction 50.
        assert_eq!(first["interactionRate"], 0.5);
        assert_eq!(first["score"], 28.0);
        assert_eq!(first["rank"], 1);
        assert_eq!((entries[1]["score"].clone(), entries[1]["rank"].clone()), (json!(1.0), json!(2)));

        // A town's experts include those its Youth Homes recruited, with their city ranks.
        let town = app.data(EVALUATION, json!({ "p": "2017-10", "u": f.town })).await;
        let town = town["expertEvaluation"]["entries"]["nodes"].as_array().unwrap().clone();
        assert_eq!(town.len(), 1);
        assert_eq!(town[0]["expert"]["id"], lawyer.to_string());
        let other = app.data(EVALUATION, json!({ "p": "2017-10", "u": f.other_town })).await;
        assert_eq!(other["expertEvaluation"]["entries"]["nodes"][0]["rank"], 2);

        // The quarter counts every month of it.
        let quarter = app.data(EVALUATION, json!({ "p": "2017-Q4" })).await;
        assert_eq!(quarter["expertEvaluation"]["entries"]["nodes"][0]["answers"], 8);
    }

    async fn the_quarters_honour_roll_is_as_long_as_the_script_says_and_only_for_quarters(app) {
        let f = fixture(&app).await;
        let asker = new_member(&app).await;
        for i in 0..12 {
            let (e, _) = new_expert(&app, &format!("专家{i}"), &f.town).await;
            answers(&app, e, asker, i, at(11, 1)).await;
        }
        let data = app.data(HONOURS, json!({ "q": "2017-Q4" })).await;
        let entries = data["expertHonours"]["entries"]["nodes"].as_array().unwrap();
        assert_eq!(entries.len(), 10, "evaluation().honoured_per_quarter");
        assert_eq!(entries[0]["expert"]["name"], "专家11");
        assert_eq!(entries[9]["rank"], 10);

        let (code, message) = app.error(HONOURS, json!({ "q": "2017-11" })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        let (code, _) = app.error(EVALUATION, json!({ "p": "2017-10", "u": "999999" })).await;
        assert_eq!(code, "NOT_FOUND");
        let (code, _) = app.error(EVALUATION, json!({ "p": "2016-10" })).await;
        assert_eq!(code, "RULE_ERROR", "no experts rules before 2017-10");
    }

    async fn the_demo_data_evaluates_experts_every_month(app) {
        app.load_demo(0.2).await;
        for month in ["2017-10", "2017-11", "2017-12"] {
            let data = app.data(EVALUATION, json!({ "p": month })).await;
            let entries = data["expertEvaluation"]["entries"]["nodes"].as_array().unwrap().clone();
            assert!(entries.len() > 3, "{month}");
            assert!(entries[0]["score"].as_f64().unwrap() > entries[entries.len() - 1]["score"].as_f64().unwrap(), "{month}: scores differ");
            assert!(entries.iter().any(|e| e["answers"].as_i64().unwrap() > 0), "{month}");
            assert!(entries.iter().any(|e| e["topicsJoined"].as_i64().unwrap() > 0), "{month}");
        }
    }
}
