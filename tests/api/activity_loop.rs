//! The activity loop end to end, sign-up and check-in refusals, and concurrent sign-ups.
//!
//! Times are set around the real current time: an activity is created in the future (so
//! sign-ups are open), then moved with `updateActivity` so that it is being held (check-in)
//! or has ended (photos after the end).

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp};

pub(crate) const SIGN_UP: &str = "mutation($a: ID!, $m: ID!) {
    signUp(input: {activityId: $a, memberId: $m}) { id checkedIn checkedInAt member { nickname } activity { id } }
}";
pub(crate) const CHECK_IN: &str = "mutation($a: ID!, $m: ID!) {
    checkIn(input: {activityId: $a, memberId: $m}) { id checkedInAt member { nickname } signup { checkedIn } }
}";
pub(crate) const REVIEW: &str = "mutation($a: ID!, $m: ID!, $r: Int!, $b: String) {
    reviewActivity(input: {activityId: $a, memberId: $m, rating: $r, body: $b}) { id rating body member { nickname } }
}";
pub(crate) const PHOTO: &str = "mutation($a: ID!, $u: String!, $c: String) {
    addActivityPhoto(input: {activityId: $a, url: $u, caption: $c}) { id url caption afterEnd }
}";
const RESCHEDULE: &str = "mutation($id: ID!, $s: DateTime, $e: DateTime) {
    updateActivity(id: $id, input: {startsAt: $s, endsAt: $e}) { id }
}";

/// An instant `minutes` from now, as GraphQL `DateTime`.
pub(crate) fn in_minutes(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339()
}

/// A city unit to publish activities from (the tests need no demo data).
pub(crate) async fn city(app: &TestApp) -> String {
    let data = app
        .data(
            "mutation { createOrgUnit(input: {code: \"city-test\", name: \"东莞团市委\", kind: CITY}) { id } }",
            json!({}),
        )
        .await;
    data["createOrgUnit"]["id"].as_str().unwrap().to_owned()
}

/// A registered member.
pub(crate) async fn member(app: &TestApp, nickname: &str) -> String {
    let data = app
        .data(
            "mutation($n: String!) { registerMember(input: {nickname: $n}) { id } }",
            json!({ "n": nickname }),
        )
        .await;
    data["registerMember"]["id"].as_str().unwrap().to_owned()
}

/// An activity starting in an hour and lasting two, open for sign-ups until its start.
pub(crate) async fn upcoming(app: &TestApp, unit: &str, capacity: Option<i32>) -> String {
    let input = json!({
        "orgUnitId": unit, "title": "青年志愿服务", "kind": "OFFLINE", "category": "VOLUNTEER_SERVICE",
        "startsAt": in_minutes(60), "endsAt": in_minutes(180), "place": "石碣青年之家", "capacity": capacity
    });
    let data = app
        .data(
            "mutation($i: CreateActivityInput!) { createActivity(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    data["createActivity"]["id"].as_str().unwrap().to_owned()
}

/// Moves an activity so that it started `started` minutes ago and ends in `ends_in` minutes.
pub(crate) async fn reschedule(app: &TestApp, id: &str, started: i64, ends_in: i64) {
    app.data(
        RESCHEDULE,
        json!({ "id": id, "s": in_minutes(-started), "e": in_minutes(ends_in) }),
    )
    .await;
}

/// The activity being held: started an hour ago, ending in an hour.
pub(crate) async fn hold(app: &TestApp, id: &str) {
    reschedule(app, id, 60, 60).await;
}

/// The activity over: started two hours ago, ended just now (after anything done before).
pub(crate) async fn end(app: &TestApp, id: &str) {
    reschedule(app, id, 120, 0).await;
}

/// A request that must be refused: (code, field, message).
pub(crate) async fn refused(
    app: &TestApp,
    query: &str,
    variables: Value,
) -> (String, String, String) {
    let response = app.graphql(query, variables).await;
    let error = &response["errors"][0];
    assert!(!error.is_null(), "expected an error, got {response:#}");
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        text(&error["extensions"]["code"]),
        text(&error["extensions"]["field"]),
        text(&error["message"]),
    )
}

const ACTIVITY: &str = "query($id: ID!) { activity(id: $id) {
    capacity signupCount spotsLeft checkinCount commentCount likeCount voteCount reviewCount
    ratingTotal averageRating photoCount photosAfterEnd
    signups { nodes { member { nickname } checkedIn } }
    comments { nodes { body member { nickname } } }
    reviews { nodes { rating } }
    photos { nodes { url afterEnd } }
    loopSteps { published hasSignups hasCheckins hasComments hasReviews hasPhotosAfterEnd started ended }
} }";

both_databases! {
    async fn the_whole_loop_from_publishing_to_photos_shows_on_the_activity(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, Some(5)).await;
        let (a, b, c) = (member(&app, "阿明").await, member(&app, "小红").await, member(&app, "老王").await);

        let fresh = app.data(ACTIVITY, json!({ "id": activity })).await;
        assert_eq!(fresh["activity"]["averageRating"], Value::Null);
        assert_eq!(fresh["activity"]["loopSteps"]["hasSignups"], false);
        assert_eq!(fresh["activity"]["loopSteps"]["published"], true);

        for m in [&a, &b, &c] {
            let signed = app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
            assert_eq!(signed["signUp"]["checkedIn"], false);
        }
        hold(&app, &activity).await;
        for m in [&a, &b] {
            let checked = app.data(CHECK_IN, json!({ "a": activity, "m": m })).await;
            assert_eq!(checked["checkIn"]["signup"]["checkedIn"], true);
        }
        let comment = app
            .data(
                "mutation($a: ID!, $m: ID!) { commentOnActivity(input: {activityId: $a, memberId: $m, body: \"很有意义\"}) { id } }",
                json!({ "a": activity, "m": c }),
            )
            .await;
        let comment_id = comment["commentOnActivity"]["id"].clone();
        app.data(
            "mutation($id: ID!) { updateActivityComment(id: $id, input: {body: \"很有意义的活动\"}) { body } }",
            json!({ "id": comment_id }),
        )
        .await;
        let review = app.data(REVIEW, json!({ "a": activity, "m": a, "r": 3, "b": "不错" })).await;
        app.data(REVIEW, json!({ "a": activity, "m": b, "r": 5 })).await;
        app.data(
            "mutation($id: ID!) { updateActivityReview(id: $id, input: {rating: 4, body: null}) { rating body } }",
            json!({ "id": review["reviewActivity"]["id"] }),
        )
        .await;
        let during = app.data(PHOTO, json!({ "a": activity, "u": "https://img.example.cn/1.jpg" })).await;
        assert_eq!(during["addActivityPhoto"]["afterEnd"], false);
        end(&app, &activity).await;
        let after = app
            .data(PHOTO, json!({ "a": activity, "u": "photos/2017/11/group.jpg", "c": "合影" }))
            .await;
        assert_eq!(after["addActivityPhoto"]["afterEnd"], true);
        app.data(
            "mutation($id: ID!) { updateActivityPhoto(id: $id, input: {caption: \"全体合影\"}) { caption } }",
            json!({ "id": after["addActivityPhoto"]["id"] }),
        )
        .await;
        let like = "mutation($a: ID!, $m: ID!, $k: LikeKind!) { likeActivity(input: {activityId: $a, memberId: $m, kind: $k}) { kind } }";
        for (m, kind) in [(&a, "LIKE"), (&a, "VOTE"), (&b, "LIKE"), (&c, "LIKE")] {
            app.data(like, json!({ "a": activity, "m": m, "k": kind })).await;
        }
        let unliked = app
            .data(
                "mutation($a: ID!, $m: ID!) { unlikeActivity(input: {activityId: $a, memberId: $m, kind: LIKE}) { likeCount voteCount } }",
                json!({ "a": activity, "m": c }),
            )
            .await;
        assert_eq!(unliked["unlikeActivity"], json!({ "likeCount": 2, "voteCount": 1 }));

        let seen = app.data(ACTIVITY, json!({ "id": activity })).await;
        let seen = &seen["activity"];
        assert_eq!(seen["capacity"], 5);
        assert_eq!(seen["signupCount"], 3);
        assert_eq!(seen["spotsLeft"], 2);
        assert_eq!(seen["checkinCount"], 2);
        assert_eq!(seen["commentCount"], 1);
        assert_eq!(seen["comments"]["nodes"][0]["body"], "很有意义的活动");
        assert_eq!(seen["likeCount"], 2);
        assert_eq!(seen["voteCount"], 1);
        assert_eq!(seen["reviewCount"], 2);
        assert_eq!(seen["ratingTotal"], 9);
        assert_eq!(seen["averageRating"], 4.5);
        assert_eq!(seen["photoCount"], 2);
        assert_eq!(seen["photosAfterEnd"], 1);
        let checked: Vec<bool> = seen["signups"]["nodes"].as_array().unwrap().iter().map(|s| s["checkedIn"].as_bool().unwrap()).collect();
        assert_eq!(checked, [true, true, false]);
        assert_eq!(
            seen["loopSteps"],
            json!({ "published": true, "hasSignups": true, "hasCheckins": true, "hasComments": true,
                    "hasReviews": true, "hasPhotosAfterEnd": true, "started": true, "ended": true })
        );

        let lists = app
            .data(
                "query($a: ID!) {
                    activitySignups(filter: {activityId: $a}, first: 2) { totalCount nodes { member { nickname } } pageInfo { hasNextPage } }
                    activityCheckins(filter: {activityId: $a}) { totalCount nodes { member { nickname } activity { id } } }
                    activityComments(filter: {activityId: $a}) { totalCount }
                    activityReviews(filter: {activityId: $a}, orderBy: RATING, direction: DESC) { nodes { rating body } }
                    activityLikes(filter: {activityId: $a, kind: VOTE}) { totalCount }
                    activityPhotos(filter: {activityId: $a}) { nodes { caption afterEnd } }
                }",
                json!({ "a": activity }),
            )
            .await;
        assert_eq!(lists["activitySignups"]["totalCount"], 3);
        assert_eq!(lists["activitySignups"]["pageInfo"]["hasNextPage"], true);
        assert_eq!(lists["activityCheckins"]["totalCount"], 2);
        assert_eq!(lists["activityCheckins"]["nodes"][0]["activity"]["id"], activity.as_str());
        assert_eq!(lists["activityComments"]["totalCount"], 1);
        assert_eq!(lists["activityReviews"]["nodes"], json!([{ "rating": 5, "body": null }, { "rating": 4, "body": null }]));
        assert_eq!(lists["activityLikes"]["totalCount"], 1);
        assert_eq!(lists["activityPhotos"]["nodes"][1], json!({ "caption": "全体合影", "afterEnd": true }));
        let by_member = app
            .data("query($m: ID!) { activitySignups(filter: {memberId: $m}) { totalCount } }", json!({ "m": c }))
            .await;
        assert_eq!(by_member["activitySignups"]["totalCount"], 1);
    }

    async fn a_second_sign_up_by_the_same_member_is_refused_and_not_written(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let m = member(&app, "阿明").await;
        app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
        let (code, field, message) = refused(&app, SIGN_UP, json!({ "a": activity, "m": m })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "memberId"), "{message}");
        assert!(message.contains("already signed up"), "{message}");
        assert_eq!(app.count("activity_signup").await, 1);
    }

    async fn a_sign_up_beyond_the_capacity_is_refused_and_not_written(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, Some(1)).await;
        let (a, b) = (member(&app, "阿明").await, member(&app, "小红").await);
        app.data(SIGN_UP, json!({ "a": activity, "m": a })).await;
        let (code, _, message) = refused(&app, SIGN_UP, json!({ "a": activity, "m": b })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert!(message.contains("full"), "{message}");
        assert_eq!(app.count("activity_signup").await, 1);
        let seen = app.data("query($id: ID!) { activity(id: $id) { spotsLeft } }", json!({ "id": activity })).await;
        assert_eq!(seen["activity"]["spotsLeft"], 0);
    }

    async fn a_sign_up_after_the_deadline_is_refused_and_not_written(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        app.data(
            "mutation($id: ID!, $d: DateTime) { updateActivity(id: $id, input: {signupDeadline: $d}) { signupDeadline } }",
            json!({ "id": activity, "d": in_minutes(-5) }),
        )
        .await;
        let m = member(&app, "阿明").await;
        let (code, field, message) = refused(&app, SIGN_UP, json!({ "a": activity, "m": m })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "activityId"), "{message}");
        assert!(message.contains("closed"), "{message}");
        // Without a deadline, sign-ups close at the start.
        let started = upcoming(&app, &unit, None).await;
        hold(&app, &started).await;
        let (code, _, message) = refused(&app, SIGN_UP, json!({ "a": started, "m": m })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert_eq!(app.count("activity_signup").await, 0);
    }

    async fn a_sign_up_naming_an_unknown_member_or_activity_is_refused_naming_the_field(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let m = member(&app, "阿明").await;
        let (code, field, _) = refused(&app, SIGN_UP, json!({ "a": activity, "m": "987654" })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "memberId"));
        let (code, field, _) = refused(&app, SIGN_UP, json!({ "a": "987654", "m": m })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "activityId"));
        assert_eq!(app.count("activity_signup").await, 0);
    }

    async fn a_check_in_without_a_sign_up_twice_or_before_the_start_is_refused(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let (a, b) = (member(&app, "阿明").await, member(&app, "小红").await);
        app.data(SIGN_UP, json!({ "a": activity, "m": a })).await;
        let (code, _, message) = refused(&app, CHECK_IN, json!({ "a": activity, "m": a })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert!(message.contains("open while it is held"), "{message}");
        hold(&app, &activity).await;
        let (code, field, message) = refused(&app, CHECK_IN, json!({ "a": activity, "m": b })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "memberId"), "{message}");
        assert_eq!(message, format!("member {b} has not signed up for activity {activity}"));
        assert_eq!(app.count("activity_checkin").await, 0);
        app.data(CHECK_IN, json!({ "a": activity, "m": a })).await;
        let (code, _, message) = refused(&app, CHECK_IN, json!({ "a": activity, "m": a })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert!(message.contains("already checked in"), "{message}");
        assert_eq!(app.count("activity_checkin").await, 1);
    }

    async fn a_sign_up_can_be_cancelled_before_the_start_but_not_once_checked_in(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, Some(1)).await;
        let (a, b) = (member(&app, "阿明").await, member(&app, "小红").await);
        let signed = app.data(SIGN_UP, json!({ "a": activity, "m": a })).await;
        let cancel = "mutation($id: ID!) { cancelSignUp(signupId: $id) { signupCount spotsLeft } }";
        let cancelled = app.data(cancel, json!({ "id": signed["signUp"]["id"] })).await;
        assert_eq!(cancelled["cancelSignUp"], json!({ "signupCount": 0, "spotsLeft": 1 }));
        let signed = app.data(SIGN_UP, json!({ "a": activity, "m": b })).await;
        hold(&app, &activity).await;
        app.data(CHECK_IN, json!({ "a": activity, "m": b })).await;
        let (code, _, message) = refused(&app, cancel, json!({ "id": signed["signUp"]["id"] })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert_eq!(app.count("activity_signup").await, 1);
    }

    async fn ten_members_signing_up_at_once_for_three_places_get_exactly_three_sign_ups(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, Some(3)).await;
        let mut members = Vec::new();
        for i in 0..10 {
            members.push(member(&app, &format!("青年{i}")).await);
        }
        let url = format!("{}/graphql", app.base);
        let requests: Vec<_> = members
            .iter()
            .map(|m| {
                let (client, url, token) = (app.client.clone(), url.clone(), app.token.clone());
                let body = json!({ "query": SIGN_UP, "variables": { "a": activity, "m": m } });
                tokio::spawn(async move {
                    let response = client
                        .post(url)
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    response.json::<Value>().await.unwrap()
                })
            })
            .collect();
        let (mut accepted, mut full) = (0, 0);
        for request in requests {
            let response = request.await.unwrap();
            match response["errors"][0]["message"].as_str() {
                None => accepted += 1,
                Some(message) => {
                    assert_eq!(response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{response:#}");
                    assert!(message.contains("full"), "{message}");
                    full += 1;
                }
            }
        }
        assert_eq!((accepted, full), (3, 7));
        assert_eq!(app.count("activity_signup").await, 3);
    }
}
