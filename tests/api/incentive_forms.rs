//! What the application form tells the incentive rules: the activity's category, stated on
//! the form or taken from the named activity, and the online topic it names with the
//! members who took part in it.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::{
    both_databases, helpers::TestApp, incentives::bulk_members, service_requests::fixture,
};

const APPLY: &str = "mutation($input: ApplyForIncentiveInput!) {
    applyForIncentive(input: $input) { id category activity { id } topic { id title participantCount } }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateIncentiveApplicationInput!) {
    updateIncentiveApplication(id: $id, input: $input) { id scale category activity { id } }
}";

const ELIGIBILITY: &str = "query($id: ID!) { incentiveApplication(id: $id) {
    category eligibility { intent eligible reason amount ruleVersion { version } } } }";

/// A form of `unit` for `intents`, held on 25 November 2017 (the 2017 programme's rules).
fn form(unit: &str, intents: Value) -> Value {
    json!({ "input": {
        "orgUnitId": unit, "activityName": "青年之声平台技巧提升培训",
        "startsAt": "2017-11-25T01:00:00Z", "endsAt": "2017-11-25T05:00:00Z",
        "scale": 60, "kind": "OFFLINE", "description": "面向镇街操作员的培训课程", "intents": intents
    } })
}

/// What the rules say of one intent of application `id`.
async fn judged(app: &TestApp, id: &Value, intent: &str) -> Value {
    let data = app.data(ELIGIBILITY, json!({ "id": id })).await;
    data["incentiveApplication"]["eligibility"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["intent"] == intent)
        .cloned()
        .unwrap()
}

/// An activity of `unit` in `category`, on 25 November 2017.
async fn activity_in(app: &TestApp, unit: &str, category: &str) -> Value {
    let q = "mutation($u: ID!, $c: ActivityCategory!) { createActivity(input: {orgUnitId: $u, title: \"青年活动\",
        kind: OFFLINE, category: $c, startsAt: \"2017-11-25T01:00:00Z\", endsAt: \"2017-11-25T05:00:00Z\"}) { id } }";
    app.data(q, json!({ "u": unit, "c": category })).await["createActivity"]["id"].clone()
}

both_databases! {
    async fn a_training_stated_on_the_form_alone_is_judged_for_training_support_by_its_scale(app) {
        let f = fixture(&app).await;
        let mut input = form(&f.town, json!(["TRAINING_SUPPORT"]));
        input["input"]["category"] = json!("TRAINING");
        let filed = app.data(APPLY, input).await;
        let id = filed["applyForIncentive"]["id"].clone();
        assert_eq!(filed["applyForIncentive"]["category"], "TRAINING");
        assert_eq!(filed["applyForIncentive"]["activity"], Value::Null);

        let training = judged(&app, &id, "TRAINING_SUPPORT").await;
        assert_eq!(training["eligible"], true, "{training}");
        assert_eq!(training["ruleVersion"]["version"], "2017.1");

        app.data(UPDATE, json!({ "id": id, "input": { "scale": 40 } })).await;
        let training = judged(&app, &id, "TRAINING_SUPPORT").await;
        assert_eq!(training["eligible"], false);
        assert_eq!(training["reason"], "培训规模 40 人，需 50 人以上 40 trainees; 50 or more are needed");

        // Without a category a form is no training, whatever its scale.
        let updated = app.data(UPDATE, json!({ "id": id, "input": { "scale": 60, "category": null } })).await;
        assert_eq!(updated["updateIncentiveApplication"]["category"], Value::Null);
        let training = judged(&app, &id, "TRAINING_SUPPORT").await;
        assert_eq!(training["eligible"], false);
        assert!(training["reason"].as_str().unwrap().contains("仅限培训类活动"), "{training}");
    }

    async fn a_category_unknown_or_not_the_named_activitys_is_refused_and_nothing_is_written(app) {
        let f = fixture(&app).await;
        let training = activity_in(&app, &f.home, "TRAINING").await;
        let with = |field: &str, value: Value| {
            let mut input = form(&f.town, json!(["TRAINING_SUPPORT"]));
            input["input"][field] = value;
            input
        };
        // The schema knows the categories: another is refused before anything runs.
        let response = app.graphql(APPLY, with("category", json!("KNITTING"))).await;
        assert_eq!(response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{response}");
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("ActivityCategory") && message.contains("KNITTING"), "{response}");

        let mut mismatch = with("category", json!("THEMED"));
        mismatch["input"]["activityId"] = training.clone();
        let response = app.graphql(APPLY, mismatch).await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{response}");
        assert_eq!(error["extensions"]["field"], "category");
        assert!(error["message"].as_str().unwrap().contains("TRAINING"), "{response}");
        assert_eq!(app.count("incentive_application").await, 0);
        assert_eq!(app.count("incentive_intent").await, 0);

        // Left out, the category is the named activity's; given, it must agree.
        let filed = app.data(APPLY, with("activityId", training.clone())).await;
        let id = filed["applyForIncentive"]["id"].clone();
        assert_eq!(filed["applyForIncentive"]["category"], "TRAINING");
        let (code, message) = app.error(UPDATE, json!({ "id": id, "input": { "category": "CONTEST" } })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        let themed = activity_in(&app, &f.home, "THEMED").await;
        let (code, _) = app.error(UPDATE, json!({ "id": id, "input": { "activityId": themed, "category": "TRAINING" } })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let stored = app.data(ELIGIBILITY, json!({ "id": id })).await;
        assert_eq!(stored["incentiveApplication"]["category"], "TRAINING");

        // Another activity brings its category; unlinked, the form states its own.
        let moved = app.data(UPDATE, json!({ "id": id, "input": { "activityId": themed } })).await;
        assert_eq!(moved["updateIncentiveApplication"]["category"], "THEMED");
        let unlinked = app
            .data(UPDATE, json!({ "id": id, "input": { "activityId": null, "category": "CONTEST" } }))
            .await;
        assert_eq!(unlinked["updateIncentiveApplication"]["category"], "CONTEST");
        assert_eq!(unlinked["updateIncentiveApplication"]["activity"], Value::Null);
    }
}

/// A topic of `unit` published on 5 November 2017, in which `n` new members take part:
/// each comments once, and the first ten vote too (participations, not participants).
async fn topic_with_participants(app: &TestApp, unit: &str, n: usize) -> Value {
    use entities::{enums::ParticipationKind, topic, topic_participation};
    let q = "mutation($u: ID!) { publishTopic(input: {orgUnitId: $u, title: \"青年就业大家谈\", body: \"说说你的求职经历\"}) { id } }";
    let id = app.data(q, json!({ "u": unit })).await["publishTopic"]["id"].clone();
    let topic_id: i64 = id.as_str().unwrap().parse().unwrap();
    let published: chrono::DateTime<chrono::Utc> = "2017-11-05T02:00:00Z".parse().unwrap();
    topic::Entity::update_many()
        .col_expr(
            topic::Column::PublishedAt,
            sea_orm::sea_query::Expr::value(published),
        )
        .filter(topic::Column::Id.eq(topic_id))
        .exec(&app.db)
        .await
        .unwrap();
    let ids = bulk_members(app, n, published).await;
    let taking_part = |member: i64, kind: ParticipationKind| topic_participation::ActiveModel {
        topic_id: Set(topic_id),
        member_id: Set(member),
        body: Set((kind == ParticipationKind::Comment).then(|| "我也是".to_owned())),
        kind: Set(kind),
        created_at: Set(published),
        ..Default::default()
    };
    let rows = ids
        .iter()
        .map(|&m| taking_part(m, ParticipationKind::Comment))
        .chain(
            ids.iter()
                .take(10)
                .map(|&m| taking_part(m, ParticipationKind::Vote)),
        );
    topic_participation::Entity::insert_many(rows)
        .exec_without_returning(&app.db)
        .await
        .unwrap();
    id
}

/// A form of `unit` for cultural goods for `topic`.
fn topic_form(unit: &str, topic: &Value) -> Value {
    let mut input = form(unit, json!(["CULTURAL_GOODS"]));
    input["input"]["kind"] = json!("ONLINE_TOPIC");
    input["input"]["topicId"] = topic.clone();
    input
}

both_databases! {
    async fn a_topic_with_more_than_100_participants_gets_cultural_goods_by_the_incentive_script(app) {
        let f = fixture(&app).await;
        let hundred = topic_with_participants(&app, &f.home, 100).await;
        let filed = app.data(APPLY, topic_form(&f.town, &hundred)).await;
        let a = &filed["applyForIncentive"];
        assert_eq!(a["topic"]["participantCount"], 100);
        assert_eq!(a["topic"]["title"], "青年就业大家谈");
        let goods = judged(&app, &a["id"], "CULTURAL_GOODS").await;
        assert_eq!(goods["eligible"], false, "{goods}");
        assert_eq!(goods["amount"], Value::Null);
        assert_eq!(goods["reason"], "话题参与 100 人，需超过 100 人 100 topic participants; more than 100 are needed");
        assert_eq!(goods["ruleVersion"]["version"], "2017.1");

        let busier = topic_with_participants(&app, &f.home, 101).await;
        let moved = app.data(UPDATE, json!({ "id": a["id"], "input": { "topicId": busier } })).await;
        assert_eq!(moved["updateIncentiveApplication"]["id"], a["id"]);
        let goods = judged(&app, &a["id"], "CULTURAL_GOODS").await;
        assert_eq!(goods["eligible"], true, "{goods}");
        assert_eq!(goods["amount"], 10);

        let crowded = topic_with_participants(&app, &f.town, 420).await;
        let id = app.data(APPLY, topic_form(&f.town, &crowded)).await["applyForIncentive"]["id"].clone();
        assert_eq!(judged(&app, &id, "CULTURAL_GOODS").await["amount"], 30);

        let listed = app
            .data("{ topics(first: 10, orderBy: PUBLISHED_AT) { nodes { participantCount participationCount } } }", json!({}))
            .await;
        assert_eq!(listed["topics"]["nodes"][0]["participantCount"], 100);
        assert_eq!(listed["topics"]["nodes"][0]["participationCount"], 110);
    }

    async fn a_topic_of_another_town_or_beside_an_activity_is_refused_and_nothing_is_written(app) {
        let f = fixture(&app).await;
        let foreign = topic_with_participants(&app, &f.other_town, 3).await;
        let own = topic_with_participants(&app, &f.home, 3).await;
        let activity = activity_in(&app, &f.home, "THEMED").await;
        let mut both = topic_form(&f.town, &own);
        both["input"]["activityId"] = activity.clone();
        for (input, field) in [
            (topic_form(&f.town, &foreign), "topicId"),
            (topic_form(&f.town, &json!("987654")), "topicId"),
            (both, "topicId"),
        ] {
            let response = app.graphql(APPLY, input.clone()).await;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{input}: {response}");
            assert_eq!(error["extensions"]["field"], field, "{response}");
        }
        assert_eq!(app.count("incentive_application").await, 0);
        assert_eq!(app.count("incentive_intent").await, 0);

        // An application for an activity moves to a topic by letting the activity go.
        let mut input = form(&f.town, json!(["CULTURAL_GOODS"]));
        input["input"]["activityId"] = activity;
        let id = app.data(APPLY, input).await["applyForIncentive"]["id"].clone();
        let (code, message) = app.error(UPDATE, json!({ "id": id, "input": { "topicId": own } })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("null"), "{message}");
        let moved = app
            .data(UPDATE, json!({ "id": id, "input": { "topicId": own, "activityId": null } }))
            .await;
        assert_eq!(moved["updateIncentiveApplication"]["activity"], Value::Null);
        let shown = app.data("query($id: ID!) { incentiveApplication(id: $id) { topic { id } } }", json!({ "id": id })).await;
        assert_eq!(shown["incentiveApplication"]["topic"]["id"], own);
    }
}
