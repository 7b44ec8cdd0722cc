//! Whether an activity counts toward the index and how far its loop got, as the activity
//! rules in force decide — and a change of those rules taking effect without a restart.

use serde_json::{json, Value};

use crate::{
    activity_loop::{city, end, hold, member, upcoming, CHECK_IN, PHOTO, REVIEW, SIGN_UP},
    both_databases,
    helpers::TestApp,
};

const JUDGED: &str = "query($id: ID!) { activity(id: $id) {
    eligibility { countsTowardIndex reasons }
    loopCompleteness { complete stepsDone missing steps { step value atLeast done required } }
} }";

async fn judged(app: &TestApp, id: &str) -> Value {
    app.data(JUDGED, json!({ "id": id })).await["activity"].clone()
}

fn step<'a>(judged: &'a Value, key: &str) -> &'a Value {
    judged["loopCompleteness"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == key)
        .unwrap()
}

const PUBLISH: &str = "mutation($path: String!, $source: String!) {
    publishRuleSet(path: $path, source: $source) { changed } }";

both_databases! {
    async fn an_activity_tells_why_it_does_not_count_and_which_steps_of_its_loop_are_missing(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let fresh = judged(&app, &activity).await;
        assert_eq!(fresh["eligibility"]["countsTowardIndex"], false);
        let reasons = fresh["eligibility"]["reasons"].as_array().unwrap();
        assert_eq!(reasons.len(), 2, "{fresh:#}");
        assert!(reasons[0].as_str().unwrap().contains("signed up"));
        assert!(reasons[1].as_str().unwrap().contains("photos uploaded after"));
        assert_eq!(fresh["loopCompleteness"]["complete"], false);
        assert_eq!(fresh["loopCompleteness"]["stepsDone"], 0);
        assert_eq!(fresh["loopCompleteness"]["missing"].as_array().unwrap().len(), 3);

        let (a, b) = (member(&app, "阿明").await, member(&app, "小红").await);
        for m in [&a, &b] {
            app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
        }
        hold(&app, &activity).await;
        app.data(CHECK_IN, json!({ "a": activity, "m": a })).await;
        let half = judged(&app, &activity).await;
        assert_eq!(half["eligibility"]["reasons"].as_array().unwrap().len(), 1, "sign-ups are there");
        assert_eq!(step(&half, "signup")["value"], 2);
        assert_eq!(step(&half, "checkin")["done"], true);
        assert_eq!(step(&half, "review")["done"], false);
        assert_eq!(half["loopCompleteness"]["missing"].as_array().unwrap().len(), 1);
        assert!(half["loopCompleteness"]["missing"][0].as_str().unwrap().contains("rating"));

        app.data(REVIEW, json!({ "a": activity, "m": a, "r": 5 })).await;
        end(&app, &activity).await;
        app.data(PHOTO, json!({ "a": activity, "u": "photos/after.jpg" })).await;
        let whole = judged(&app, &activity).await;
        assert_eq!(whole["eligibility"], json!({ "countsTowardIndex": true, "reasons": [] }));
        assert_eq!(whole["loopCompleteness"]["complete"], true);
        assert_eq!(whole["loopCompleteness"]["missing"], json!([]));
        assert_eq!(step(&whole, "photos")["done"], true);
        assert_eq!(step(&whole, "comment")["done"], false, "an optional step may stay undone");
    }

    async fn raising_a_threshold_in_the_activity_rules_changes_the_outcome_without_a_restart(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let (a, b) = (member(&app, "阿明").await, member(&app, "小红").await);
        for m in [&a, &b] {
            app.data(SIGN_UP, json!({ "a": activity, "m": m })).await;
        }
        end(&app, &activity).await;
        app.data(PHOTO, json!({ "a": activity, "u": "photos/after.jpg" })).await;
        assert_eq!(judged(&app, &activity).await["eligibility"]["countsTowardIndex"], true);

        let shipped = std::fs::read_to_string(crate::helpers::shipped_rules().join("eligibility/activity.rhai")).unwrap();
        let stricter = shipped.replacen(
            "#{ figure: \"signups\", at_least: 1,",
            "#{ figure: \"signups\", at_least: 3,",
            1,
        );
        assert_ne!(stricter, shipped, "the shipped rules name the sign-ups an activity needs");
        let published = app.data(PUBLISH, json!({ "path": "eligibility/activity.rhai", "source": stricter })).await;
        assert_eq!(published["publishRuleSet"]["changed"], true);

        let now = judged(&app, &activity).await;
        assert_eq!(now["eligibility"]["countsTowardIndex"], false);
        assert_eq!(now["eligibility"]["reasons"].as_array().unwrap().len(), 1);
    }
}
