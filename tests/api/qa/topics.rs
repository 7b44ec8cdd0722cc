//! Topics: publishing, comments and votes, closing, filters.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::setup::{create, world, World, PUBLISH, TAKE_PART};
use crate::both_databases;
use crate::helpers::TestApp;

const TOPIC: &str = "query($id: ID!) { topic(id: $id) {
    title closed participationCount commentCount voteCount orgUnit { code }
    comments { nodes { kind body member { nickname } topic { title } } }
} }";

const UPDATE_TOPIC: &str = "mutation($id: ID!, $input: UpdateTopicInput!) {
    updateTopic(id: $id, input: $input) { id closesAt closed }
}";

const UPDATE_COMMENT: &str = "mutation($id: ID!, $body: String) {
    updateTopicParticipation(id: $id, input: {body: $body}) { body }
}";

/// Publishes an open topic of `unit` and returns its id.
async fn publish(app: &TestApp, unit: &str, title: &str) -> String {
    let input = json!({ "orgUnitId": unit, "title": title, "body": "欢迎大家踊跃参与讨论。" });
    create(app, PUBLISH, "publishTopic", input).await
}

async fn take_part(
    app: &TestApp,
    topic: &str,
    member: &str,
    kind: &str,
    body: Option<&str>,
) -> String {
    let input = json!({ "topicId": topic, "memberId": member, "kind": kind, "body": body });
    create(app, TAKE_PART, "takePartInTopic", input).await
}

async fn refused(app: &TestApp, input: Value) -> String {
    let (code, message) = app.error(TAKE_PART, json!({ "input": input })).await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    message
}

/// A world with one topic of 石碣 that closes in a week.
async fn with_topic(app: &TestApp) -> (World, String) {
    let w = world(app, 3).await;
    let closes = (Utc::now() + Duration::days(7)).to_rfc3339();
    let input = json!({ "orgUnitId": w.shijie, "title": "青年就业", "body": "聊聊就业。", "closesAt": closes });
    let topic = create(app, PUBLISH, "publishTopic", input).await;
    (w, topic)
}

both_databases! {
    async fn votes_and_comments_on_a_topic_are_counted_and_comments_listed(app) {
        let (w, topic) = with_topic(&app).await;
        take_part(&app, &topic, &w.members[0], "VOTE", None).await;
        take_part(&app, &topic, &w.members[1], "VOTE", None).await;
        take_part(&app, &topic, &w.members[1], "COMMENT", Some("希望多办招聘会")).await;

        let data = app.data(TOPIC, json!({ "id": topic })).await;
        let t = &data["topic"];
        assert_eq!(t["orgUnit"]["code"], "town-shijie");
        assert_eq!(t["closed"], false);
        assert_eq!((t["participationCount"].clone(), t["commentCount"].clone(), t["voteCount"].clone()), (json!(3), json!(1), json!(2)));
        let comments = t["comments"]["nodes"].as_array().unwrap();
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0]["kind"], "COMMENT");
        assert_eq!(comments[0]["body"], "希望多办招聘会");
        assert_eq!(comments[0]["member"]["nickname"], "青年1");
        assert_eq!(comments[0]["topic"]["title"], "青年就业");
    }

    async fn a_second_vote_by_the_same_member_is_refused(app) {
        let (w, topic) = with_topic(&app).await;
        take_part(&app, &topic, &w.members[0], "VOTE", None).await;
        let before = app.count("topic_participation").await;
        let message = refused(&app, json!({ "topicId": topic, "memberId": w.members[0], "kind": "VOTE" })).await;
        assert!(message.contains("already voted"), "{message}");
        assert_eq!(app.count("topic_participation").await, before);
        // Commenting after voting is still welcome.
        take_part(&app, &topic, &w.members[0], "COMMENT", Some("支持")).await;
    }

    async fn a_comment_needs_a_body_and_a_vote_carries_none(app) {
        let (w, topic) = with_topic(&app).await;
        let before = app.count("topic_participation").await;
        let m = &w.members[0];
        refused(&app, json!({ "topicId": topic, "memberId": m, "kind": "COMMENT" })).await;
        refused(&app, json!({ "topicId": topic, "memberId": m, "kind": "COMMENT", "body": "  " })).await;
        refused(&app, json!({ "topicId": topic, "memberId": m, "kind": "VOTE", "body": "赞" })).await;
        assert_eq!(app.count("topic_participation").await, before);
    }

    async fn unknown_topics_and_members_are_bad_input_and_missing_records_not_found(app) {
        let (w, topic) = with_topic(&app).await;
        let before = app.count("topic_participation").await;
        refused(&app, json!({ "topicId": "987654", "memberId": w.members[0], "kind": "VOTE" })).await;
        refused(&app, json!({ "topicId": topic, "memberId": "987654", "kind": "VOTE" })).await;
        assert_eq!(app.count("topic_participation").await, before);

        let (code, _) = app.error(UPDATE_TOPIC, json!({ "id": "987654", "input": { "title": "x" } })).await;
        assert_eq!(code, "NOT_FOUND");
        let (code, _) = app.error(UPDATE_COMMENT, json!({ "id": "987654", "body": "x" })).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn a_topic_closing_before_it_is_published_or_of_an_unknown_unit_is_refused(app) {
        let (w, topic) = with_topic(&app).await;
        let before = app.count("topic").await;
        let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
        let inputs = [
            json!({ "orgUnitId": w.shijie, "title": "过去的话题", "body": "内容", "closesAt": past }),
            json!({ "orgUnitId": "987654", "title": "话题", "body": "内容" }),
            json!({ "orgUnitId": w.shijie, "title": " ", "body": "内容" }),
        ];
        for input in inputs {
            let (code, message) = app.error(PUBLISH, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        assert_eq!(app.count("topic").await, before);

        let (code, message) = app
            .error(UPDATE_TOPIC, json!({ "id": topic, "input": { "closesAt": past } }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        let data = app.data(UPDATE_TOPIC, json!({ "id": topic, "input": { "closesAt": null } })).await;
        assert!(data["updateTopic"]["closesAt"].is_null());
    }

    async fn a_closed_topic_refuses_participation_and_comment_edits(app) {
        let w = world(&app, 2).await;
        let data = app
            .data(PUBLISH, json!({ "input": { "orgUnitId": w.shijie, "title": "即将结束", "body": "内容" } }))
            .await;
        let topic = data["publishTopic"]["id"].as_str().unwrap().to_owned();
        let comment = take_part(&app, &topic, &w.members[0], "COMMENT", Some("第一条")).await;
        let edited = app.data(UPDATE_COMMENT, json!({ "id": comment, "body": "改过的" })).await;
        assert_eq!(edited["updateTopicParticipation"]["body"], "改过的");

        // Close it right after its publication: the earliest closing time allowed.
        let published: DateTime<Utc> = data["publishTopic"]["publishedAt"].as_str().unwrap().parse().unwrap();
        let closes = (published + Duration::milliseconds(1)).to_rfc3339();
        let data = app.data(UPDATE_TOPIC, json!({ "id": topic, "input": { "closesAt": closes } })).await;
        assert_eq!(data["updateTopic"]["closed"], true);

        let before = app.count("topic_participation").await;
        let message = refused(&app, json!({ "topicId": topic, "memberId": w.members[1], "kind": "VOTE" })).await;
        assert!(message.contains("no longer accepts"), "{message}");
        let (code, _) = app.error(UPDATE_COMMENT, json!({ "id": comment, "body": "再改" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert_eq!(app.count("topic_participation").await, before);
    }

    async fn a_vote_has_no_body_to_edit(app) {
        let (w, topic) = with_topic(&app).await;
        let vote = take_part(&app, &topic, &w.members[0], "VOTE", None).await;
        let (code, message) = app.error(UPDATE_COMMENT, json!({ "id": vote, "body": "x" })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
    }

    async fn topics_are_filtered_by_unit_town_district_and_text(app) {
        let w = world(&app, 1).await;
        publish(&app, &w.shijie, "石碣话题").await;
        publish(&app, &w.shijie_home, "青年之家话题").await;
        publish(&app, &w.houjie, "厚街话题").await;
        publish(&app, &w.city, "全市话题").await;

        let list = "query($f: TopicFilter) { topics(filter: $f, orderBy: TITLE) { totalCount nodes { title } } }";
        let cases = [
            (json!({ "townId": w.shijie }), 2),
            (json!({ "orgUnitId": w.shijie_home }), 1),
            (json!({ "districtId": w.district_2 }), 1),
            (json!({ "districtId": w.district_1, "search": "青年之家" }), 1),
            (json!({ "search": "踊跃" }), 4),
            (json!({ "publishedBefore": "2000-01-01T00:00:00Z" }), 0),
        ];
        for (filter, n) in cases {
            let data = app.data(list, json!({ "f": filter })).await;
            assert_eq!(data["topics"]["totalCount"], n, "filter {filter}");
            assert_eq!(data["topics"]["nodes"].as_array().unwrap().len(), n, "filter {filter}");
        }
    }

    async fn participations_are_filtered_by_topic_member_and_kind(app) {
        let (w, topic) = with_topic(&app).await;
        let other = publish(&app, &w.houjie, "厚街话题").await;
        for m in &w.members {
            take_part(&app, &topic, m, "VOTE", None).await;
        }
        take_part(&app, &topic, &w.members[0], "COMMENT", Some("好")).await;
        take_part(&app, &other, &w.members[0], "COMMENT", Some("也好")).await;

        let list = "query($f: TopicParticipationFilter) { topicParticipations(filter: $f, direction: DESC) { totalCount nodes { kind } } }";
        let cases = [
            (json!({ "topicId": topic }), 4),
            (json!({ "topicId": topic, "kind": "VOTE" }), 3),
            (json!({ "memberId": w.members[0] }), 3),
            (json!({ "kind": "COMMENT", "from": "2000-01-01T00:00:00Z" }), 2),
            (json!({ "before": "2000-01-01T00:00:00Z" }), 0),
        ];
        for (filter, n) in cases {
            let data = app.data(list, json!({ "f": filter })).await;
            assert_eq!(data["topicParticipations"]["totalCount"], n, "filter {filter}");
        }
    }
}
