//! Reviews, likes, photos and activity updates: what is refused, and that the loop
//! fields of an activity list are batched.

use serde_json::json;

use crate::activity_loop::{
    city, end, hold, in_minutes, member, refused, upcoming, CHECK_IN, PHOTO, REVIEW, SIGN_UP,
};
use crate::both_databases;

const LIKE: &str = "mutation($a: ID!, $m: ID!, $k: LikeKind!) {
    likeActivity(input: {activityId: $a, memberId: $m, kind: $k}) { id kind }
}";
const UPDATE: &str = "mutation($id: ID!, $input: UpdateActivityInput!) { updateActivity(id: $id, input: $input) { id } }";

both_databases! {
    async fn a_rating_of_seven_is_refused_naming_the_rating_and_not_written(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let m = member(&app, "阿明").await;
        app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
        hold(&app, &activity).await;
        let (code, field, message) = refused(&app, REVIEW, json!({ "a": activity, "m": m, "r": 7 })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "rating"), "{message}");
        assert!(message.contains("between 1 and 5"), "{message}");
        assert_eq!(app.count("activity_review").await, 0);
    }

    async fn a_second_review_by_the_same_member_is_refused_and_not_written(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let m = member(&app, "阿明").await;
        app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
        hold(&app, &activity).await;
        app.data(REVIEW, json!({ "a": activity, "m": m, "r": 4 })).await;
        let (code, field, message) = refused(&app, REVIEW, json!({ "a": activity, "m": m, "r": 5 })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "memberId"), "{message}");
        assert!(message.contains("already reviewed"), "{message}");
        assert_eq!(app.count("activity_review").await, 1);
    }

    async fn a_review_before_the_start_or_by_a_member_who_did_not_sign_up_is_refused(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let (a, b) = (member(&app, "阿明").await, member(&app, "小红").await);
        app.data(SIGN_UP, json!({ "a": activity, "m": a })).await;
        let (code, field, message) = refused(&app, REVIEW, json!({ "a": activity, "m": a, "r": 5 })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "activityId"), "{message}");
        assert!(message.contains("not started"), "{message}");
        hold(&app, &activity).await;
        let (code, field, message) = refused(&app, REVIEW, json!({ "a": activity, "m": b, "r": 5 })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "memberId"), "{message}");
        assert!(message.contains("has not signed up"), "{message}");
        assert_eq!(app.count("activity_review").await, 0);
        let (code, field, _) = refused(
            &app,
            "mutation { updateActivityReview(id: \"987654\", input: {rating: 3}) { id } }",
            json!({}),
        )
        .await;
        assert_eq!((code.as_str(), field.as_str()), ("NOT_FOUND", ""));
    }

    async fn a_second_like_is_refused_but_a_vote_by_the_same_member_is_accepted(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let m = member(&app, "阿明").await;
        app.data(LIKE, json!({ "a": activity, "m": m, "k": "LIKE" })).await;
        let (code, field, message) = refused(&app, LIKE, json!({ "a": activity, "m": m, "k": "LIKE" })).await;
        assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "kind"), "{message}");
        app.data(LIKE, json!({ "a": activity, "m": m, "k": "VOTE" })).await;
        assert_eq!(app.count("activity_like").await, 2);
        let unlike = "mutation($a: ID!, $m: ID!) { unlikeActivity(input: {activityId: $a, memberId: $m, kind: VOTE}) { voteCount } }";
        app.data(unlike, json!({ "a": activity, "m": m })).await;
        let (code, _, message) = refused(&app, unlike, json!({ "a": activity, "m": m })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert_eq!(app.count("activity_like").await, 1);
    }

    async fn a_photo_must_be_a_web_url_or_a_relative_stored_path(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        for url in ["../../etc/passwd", "photos/../secret.jpg", "/var/www/a.jpg", "ftp://host/a.jpg", "javascript:alert(1)", "  "] {
            let (code, field, message) = refused(&app, PHOTO, json!({ "a": activity, "u": url })).await;
            assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", "url"), "{url}: {message}");
        }
        let (_, field, _) = refused(&app, PHOTO, json!({ "a": "987654", "u": "a.jpg" })).await;
        assert_eq!(field, "activityId");
        assert_eq!(app.count("activity_photo").await, 0);
        let added = app.data(PHOTO, json!({ "a": activity, "u": "uploads/2017/a.jpg" })).await;
        assert_eq!(added["addActivityPhoto"]["afterEnd"], false);
        assert_eq!(app.count("activity_photo").await, 1);
    }

    async fn an_update_ending_before_the_start_or_below_the_sign_ups_is_refused(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, Some(5)).await;
        let (a, b) = (member(&app, "阿明").await, member(&app, "小红").await);
        for m in [&a, &b] {
            app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
        }
        let before = app
            .data("query($id: ID!) { activity(id: $id) { startsAt endsAt capacity } }", json!({ "id": activity }))
            .await;
        let refusals = [
            (json!({ "endsAt": in_minutes(30) }), "endsAt"),
            (json!({ "startsAt": in_minutes(500) }), "endsAt"),
            (json!({ "capacity": 1 }), "capacity"),
            (json!({ "capacity": 0 }), "capacity"),
            (json!({ "signupDeadline": in_minutes(600) }), "signupDeadline"),
            (json!({ "title": " " }), "title"),
        ];
        for (input, expected) in refusals {
            let (code, field, message) = refused(&app, UPDATE, json!({ "id": activity, "input": input })).await;
            assert_eq!((code.as_str(), field.as_str()), ("BAD_USER_INPUT", expected), "{input}: {message}");
        }
        let after = app
            .data("query($id: ID!) { activity(id: $id) { startsAt endsAt capacity } }", json!({ "id": activity }))
            .await;
        assert_eq!(before, after);
        let (code, _, _) = refused(&app, UPDATE, json!({ "id": "987654", "input": { "capacity": 3 } })).await;
        assert_eq!(code, "NOT_FOUND");
        let changed = app
            .data(
                "mutation($id: ID!) { updateActivity(id: $id, input: {capacity: null, place: null, title: \"改期\"}) { title capacity spotsLeft place } }",
                json!({ "id": activity }),
            )
            .await;
        assert_eq!(changed["updateActivity"], json!({ "title": "改期", "capacity": null, "spotsLeft": null, "place": null }));
    }

    async fn an_activity_list_with_loop_fields_takes_a_bounded_number_of_statements(app) {
        let unit = city(&app).await;
        let members = [member(&app, "阿明").await, member(&app, "小红").await, member(&app, "老王").await];
        for _ in 0..6 {
            let activity = upcoming(&app, &unit, None).await;
            for m in &members {
                app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
            }
            hold(&app, &activity).await;
            app.data(CHECK_IN, json!({ "a": activity, "m": members[0] })).await;
            app.data(REVIEW, json!({ "a": activity, "m": members[1], "r": 4 })).await;
            end(&app, &activity).await;
            app.data(PHOTO, json!({ "a": activity, "u": "photos/after.jpg" })).await;
        }
        let query = "{ activities(first: 50) { nodes {
            signupCount averageRating photosAfterEnd loopSteps { hasCheckins } signups { nodes { member { nickname } } }
        } } }";
        let before = app.statements.get();
        let data = app.data(query, json!({})).await;
        let statements = app.statements.get() - before;

        let nodes = data["activities"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 6);
        for node in nodes {
            assert_eq!(node["signupCount"], 3);
            assert_eq!(node["averageRating"], 4.0);
            assert_eq!(node["photosAfterEnd"], 1);
            assert_eq!(node["loopSteps"]["hasCheckins"], true);
            assert_eq!(node["signups"]["nodes"].as_array().unwrap().len(), 3);
        }
        // The page, then one grouped query each for sign-up counts, ratings, photos after
        // the end, check-ins, the sign-ups and their members: 7, however many rows.
        assert!(statements <= 8, "{statements} statements for {} activities", nodes.len());
    }
}
