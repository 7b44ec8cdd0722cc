//! What would help a town most: `improvementPlan`, whose actions are scored by the rules in
//! force, and whose promise holds once an action is done through the API.

use chrono::{TimeZone, Utc};
use entities::{activity_photo, enums::ActivityCategory};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use qii_domain::identity::{Role, Scope};

use crate::{
    both_databases, helpers::TestApp, policies::activity_that_counts, service_requests::fixture,
};

/// October 2017 as a custom range: computed on every read, never stored.
const OCTOBER: &str = "2017-10-01..2017-10-31";

const PLAN: &str = "query($u: ID!, $p: Period!) { improvementPlan(orgUnitId: $u, period: $p) {
    version total rank unitsRanked orgUnit { code }
    actions(first: 100) { nodes { kind title missing cheap activity { id } total rank gain rankGain
                                  changes { figure from to } } }
} }";

const EXPLAIN: &str =
    "query($u: ID!, $p: Period!) { explainScore(orgUnitId: $u, period: $p) { total rank } }";

/// An October activity of `unit` with one sign-up and a photo after its end, so that it
/// counts; without the photo when not `photo`.
async fn activity(app: &TestApp, unit: &str, member: &str, photo: bool) -> i64 {
    let starts = Utc.with_ymd_and_hms(2017, 10, 14, 1, 0, 0).unwrap();
    let ends = Utc.with_ymd_and_hms(2017, 10, 14, 5, 0, 0).unwrap();
    let social = ActivityCategory::Social;
    let member = member.parse().unwrap();
    let id = activity_that_counts(app, unit, (starts, ends), social, false, member).await;
    if !photo {
        activity_photo::Entity::delete_many()
            .filter(activity_photo::Column::ActivityId.eq(id))
            .exec(&app.db)
            .await
            .unwrap();
    }
    id
}

fn actions(plan: &Value) -> Vec<Value> {
    plan["improvementPlan"]["actions"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

both_databases! {
    async fn the_top_action_of_a_plan_once_done_gives_the_score_and_rank_it_promised(app) {
        let f = fixture(&app).await;
        let unfinished = activity(&app, &f.town, &f.member, false).await;
        activity(&app, &f.other_town, &f.member, true).await;

        let plan = app.data(PLAN, json!({ "u": f.town, "p": OCTOBER })).await;
        let p = &plan["improvementPlan"];
        assert_eq!(p["orgUnit"]["code"], "town-shijie");
        assert_eq!(p["version"], "2.0.1");
        assert_eq!(p["unitsRanked"], 2);
        let before = app.data(EXPLAIN, json!({ "u": f.town, "p": OCTOBER })).await;
        assert_eq!(p["total"], before["explainScore"]["total"]);
        assert_eq!(p["rank"], before["explainScore"]["rank"]);
        assert_eq!(p["rank"], 2, "behind the town whose activity counts");

        let list = actions(&plan);
        assert!(list.len() >= 5, "{list:?}");
        for pair in list.windows(2) {
            assert!(pair[0]["total"].as_f64() >= pair[1]["total"].as_f64(), "best first: {list:?}");
        }
        // The photo the town's own activity lacks: as good as a new activity, and cheap.
        let top = &list[0];
        assert_eq!(top["kind"], "COMPLETE_ACTIVITY", "{list:?}");
        assert_eq!(top["cheap"], true);
        assert_eq!(top["activity"]["id"], unfinished.to_string());
        assert_eq!(top["changes"], json!([{ "figure": "eligible_activities", "from": 0.0, "to": 1.0 }]));
        assert!(top["gain"].as_f64().unwrap() > 0.0);
        assert!(top["missing"].as_array().unwrap().iter().any(|m| m.as_str().unwrap().contains("photo")), "{top}");
        let new_one = list.iter().find(|a| a["kind"] == "ONE_MORE" && a["changes"][0]["figure"] == "eligible_activities").unwrap();
        assert_eq!(new_one["total"], top["total"], "the same figure moves alike");
        assert_eq!(new_one["cheap"], false);
        // No lever of Youth Homes' activities for a town without a registered one.
        assert!(list.iter().all(|a| a["changes"][0]["figure"] != "youth_home_activities"), "{list:?}");

        // Done through the API: a photo uploaded now, after the activity's end.
        app.data(
            "mutation($a: ID!) { addActivityPhoto(input: { activityId: $a, url: \"https://img.example.cn/after.jpg\" }) { id } }",
            json!({ "a": unfinished.to_string() }),
        )
        .await;
        let after = app.data(EXPLAIN, json!({ "u": f.town, "p": OCTOBER })).await;
        let promised = top["total"].as_f64().unwrap();
        let reached = after["explainScore"]["total"].as_f64().unwrap();
        assert!((promised - reached).abs() < 1e-9, "promised {promised}, reached {reached}");
        assert_eq!(after["explainScore"]["rank"], top["rank"]);
        let again = app.data(PLAN, json!({ "u": f.town, "p": OCTOBER })).await;
        assert!(actions(&again).iter().all(|a| a["kind"] != "COMPLETE_ACTIVITY"), "nothing left to finish");
        assert_eq!(again["improvementPlan"]["total"], after["explainScore"]["total"]);
    }

    async fn a_plan_that_cannot_be_made_says_why_and_partners_read_plans(app) {
        let f = fixture(&app).await;
        let (code, message) = app.error(PLAN, json!({ "u": "999999", "p": OCTOBER })).await;
        assert_eq!(code, "NOT_FOUND", "{message}");
        let (code, message) = app.error(PLAN, json!({ "u": f.town, "p": "2017-09" })).await;
        assert_ne!(code, "INTERNAL", "{message}");
        assert!(message.contains("2017-09"), "{message}");
        let (code, _) = app.error(PLAN, json!({ "u": f.town, "p": "not-a-period" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let partner = app.token_for(Role::Partner(vec![Scope::ScoresRead]), "partner");
        let plan = app.data_as(Some(&partner), PLAN, json!({ "u": f.other_town, "p": OCTOBER })).await;
        assert_eq!(plan["improvementPlan"]["orgUnit"]["code"], "town-houjie");
        let (code, _) = app.error_as(None, PLAN, json!({ "u": f.town, "p": OCTOBER })).await;
        assert_eq!(code, "UNAUTHENTICATED");
    }
}
