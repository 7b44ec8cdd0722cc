//! The monthly activity design contest: the month's entries, scored and ranked by the
//! incentive rules.

use serde_json::{json, Value};

use crate::{
    both_databases,
    helpers::TestApp,
    incentives::{bulk_signups, new_activity},
    service_requests::fixture,
};

const CONTEST: &str = "query($m: String!) { designContest(month: $m) {
    month showcaseSize awardedSize ruleVersion { name version hash }
    entries(first: 100) { nodes { rank score showcased awarded activity { id } application { id status }
        likes signups checkins comments reviews averageRating photosAfterEnd loopStepsDone loopSteps loopComplete } }
} }";

async fn enter(app: &TestApp, unit: &str, activity: &Value) -> Value {
    let q = "mutation($u: ID!, $a: ID!) { applyForIncentive(input: { orgUnitId: $u, activityId: $a, activityName: \"设计大赛\",
        scale: 100, kind: OFFLINE, description: \"参加活动设计大赛\", intents: [DESIGN_CONTEST] }) { id } }";
    app.data(q, json!({ "u": unit, "a": activity })).await["applyForIncentive"]["id"].clone()
}

fn ids(contest: &Value) -> Vec<Value> {
    contest["entries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["activity"]["id"].clone())
        .collect()
}

both_databases! {
    async fn the_design_contest_ranks_the_months_entries_by_the_script_score(app) {
        let f = fixture(&app).await;
        // Ends on 1 Dec 07:00 Shanghai time: a December entry.
        let december = new_activity(&app, &f.home, "CONTEST", "2017-11-30T23:00:00Z", false).await;
        let quiet = new_activity(&app, &f.home, "THEMED", "2017-11-01T05:00:00Z", false).await;
        let also_quiet = new_activity(&app, &f.home, "THEMED", "2017-11-01T05:00:00Z", false).await;
        let busy = new_activity(&app, &f.home, "CONTEST", "2017-11-01T05:00:00Z", false).await;
        let rejected = new_activity(&app, &f.home, "CONTEST", "2017-11-01T05:00:00Z", false).await;
        let unentered = new_activity(&app, &f.home, "CONTEST", "2017-11-01T05:00:00Z", false).await;
        bulk_signups(&app, &busy, 12, "2017-10-30T01:00:00Z").await;
        bulk_signups(&app, &unentered, 12, "2017-10-30T01:00:00Z").await;
        for a in [&december, &quiet, &also_quiet, &busy] {
            enter(&app, &f.town, a).await;
        }
        let r = enter(&app, &f.town, &rejected).await;
        let q = "mutation($id: ID!) { decideIncentiveApplication(id: $id, input: {approve: false, note: \"重复申报\"}) { id } }";
        app.data(q, json!({ "id": r })).await;

        let november = &app.data(CONTEST, json!({ "m": "2017-11" })).await["designContest"];
        assert_eq!(november["month"], "2017-11");
        assert_eq!(november["ruleVersion"]["name"], "incentives");
        assert_eq!(november["ruleVersion"]["version"], "2017.1");
        assert_eq!(november["showcaseSize"], 30);
        assert_eq!(november["awardedSize"], 10);
        // The busiest first; equal scores by activity id.
        let mut expected = vec![busy.clone(), quiet.clone(), also_quiet.clone()];
        expected[1..].sort_by_key(|v| v.as_str().unwrap().parse::<i64>().unwrap());
        assert_eq!(ids(november), expected);
        let top = &november["entries"]["nodes"][0];
        assert_eq!(top["rank"], 1);
        assert_eq!(top["signups"], 12);
        assert_eq!(top["checkins"], 0);
        assert_eq!(top["averageRating"], Value::Null);
        assert!(top["loopStepsDone"].as_i64().unwrap() >= 1);
        assert!(top["loopSteps"].as_i64().unwrap() > top["loopStepsDone"].as_i64().unwrap());
        assert_eq!(top["loopComplete"], false);
        assert_eq!(top["showcased"], true);
        assert_eq!(top["awarded"], true);
        assert!(top["score"].as_f64().unwrap() > november["entries"]["nodes"][1]["score"].as_f64().unwrap());
        assert_eq!(november["entries"]["nodes"][1]["score"], november["entries"]["nodes"][2]["score"]);

        let dec = &app.data(CONTEST, json!({ "m": "2017-12" })).await["designContest"];
        assert_eq!(ids(dec), vec![december]);
    }

    async fn a_contest_needs_a_month_covered_by_the_incentive_rules(app) {
        for month in ["2017-Q4", "2017-W47", "November", "2017-13"] {
            let (code, message) = app.error(CONTEST, json!({ "m": month })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{month}: {message}");
        }
        let (code, message) = app.error(CONTEST, json!({ "m": "2018-03" })).await;
        assert_eq!(code, "RULE_ERROR");
        assert!(message.contains("incentives") && message.contains("2018-03"), "{message}");
    }

    async fn the_demo_data_has_contest_entries_and_heavyweight_decisions_in_november(app) {
        app.load_demo(0.05).await;
        let november = &app.data(CONTEST, json!({ "m": "2017-11" })).await["designContest"];
        let entries = november["entries"]["nodes"].as_array().unwrap();
        assert!(!entries.is_empty(), "{november}");
        assert!(entries.iter().all(|e| e["application"]["status"] != "REJECTED"));
        let statuses = app
            .data("{ activities(filter: { heavyweight: true }, first: 100) { nodes { heavyweightStatus } } }", json!({}))
            .await;
        let statuses: std::collections::HashSet<String> = statuses["activities"]["nodes"].as_array().unwrap().iter()
            .map(|n| n["heavyweightStatus"].as_str().unwrap().to_owned()).collect();
        assert!(statuses.contains("APPROVED"), "{statuses:?}");
    }
}
