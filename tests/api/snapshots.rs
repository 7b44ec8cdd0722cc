//! Stored rankings: an ended month, week or quarter reads the same after later rule or
//! data changes until someone recomputes it; running periods and custom ranges are
//! computed on every read.

use serde_json::{json, Value};

use crate::{
    both_databases,
    helpers::{shipped_rules, TestApp},
};

const RANKING: &str = "query($p: Period!) { ranking(period: $p) {
    version contentHash rulesHash storedAt storedBy outdated
    entries(first: 100) { nodes { orgUnit { code } rank total indicators { key raw standardised weight contribution } } } } }";
const RECOMPUTE: &str = "mutation($p: Period!) { recomputeRanking(period: $p) {
    version contentHash rulesHash storedAt storedBy outdated
    entries(first: 100) { nodes { orgUnit { code } rank total indicators { key raw standardised weight contribution } } } } }";

async fn ranking(app: &TestApp, period: &str) -> Value {
    app.data(RANKING, json!({ "p": period })).await["ranking"].clone()
}

async fn wipe_visits(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE daily_visit SET visits = 0")
        .await
        .unwrap();
}

both_databases! {
    async fn an_ended_month_reads_the_same_after_data_changes_until_recomputed(app) {
        app.load_demo(0.05).await;
        let first = ranking(&app, "2017-10").await;
        assert!(first["storedAt"].is_string(), "{first}");
        assert_eq!(first["storedBy"], "city_admin:test-admin");
        assert_eq!(first["outdated"], false);
        // No version is in effect for September: October has no baseline to store.
        assert_eq!(app.count("score_snapshot").await, 1);
        assert_eq!(app.count("unit_score").await, 32);

        wipe_visits(&app).await;
        assert_eq!(ranking(&app, "2017-10").await, first, "read back as stored");
        let explained = app
            .data(
                "query($u: ID!) { explainScore(orgUnitId: $u, period: \"2017-10\") { total } }",
                json!({ "u": app.unit_id("town-humen").await }),
            )
            .await;
        let humen_total = first["entries"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["orgUnit"]["code"] == "town-humen")
            .unwrap()["total"]
            .clone();
        assert_eq!(explained["explainScore"]["total"], humen_total);

        let recomputed = app.data(RECOMPUTE, json!({ "p": "2017-10" })).await["recomputeRanking"].clone();
        assert_ne!(recomputed["entries"]["nodes"], first["entries"]["nodes"], "the wiped visits count now");
        assert!(recomputed["storedAt"].as_str().unwrap() >= first["storedAt"].as_str().unwrap());
        let visits: Vec<&Value> = recomputed["entries"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["indicators"].as_array().unwrap())
            .filter(|i| i["key"] == "valid_visits")
            .map(|i| &i["raw"])
            .collect();
        assert!(visits.iter().all(|v| v.as_f64() == Some(0.0)), "{visits:?}");
        assert_eq!(ranking(&app, "2017-10").await, recomputed);
        assert_eq!(app.count("unit_score").await, 32, "replaced, not added");
    }

    async fn weeks_and_quarters_are_stored_and_ranges_and_running_periods_are_not(app) {
        app.load_demo(0.05).await;
        let week = ranking(&app, "2017-W43").await;
        assert!(week["storedAt"].is_string());
        let quarter = ranking(&app, "2017-Q4").await;
        assert!(quarter["storedAt"].is_string());
        let range = ranking(&app, "2017-10-01..2017-10-15").await;
        assert!(range["storedAt"].is_null());
        let running = chrono::Utc::now().format("%Y-%m").to_string();
        assert!(ranking(&app, &running).await["storedAt"].is_null());

        let snapshots = app.count("score_snapshot").await;
        for (period, problem) in [
            ("2017-10-01..2017-10-15", "custom range"),
            (running.as_str(), "has not ended yet"),
        ] {
            let response = app.graphql(RECOMPUTE, json!({ "p": period })).await;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{response}");
            assert_eq!(error["extensions"]["field"], "period");
            assert!(error["message"].as_str().unwrap().contains(problem), "{response}");
        }
        assert_eq!(app.count("score_snapshot").await, snapshots);
    }

    async fn a_stored_ranking_scored_by_an_older_version_is_outdated_until_recomputed(app) {
        app.load_demo(0.05).await;
        let before = ranking(&app, "2017-11").await;
        let edited = crate::helpers::qii_v2_revised();
        crate::helpers::publish_rules(&app, "qii/v2.rhai", &edited).await;

        let after = ranking(&app, "2017-11").await;
        assert_eq!(after["outdated"], true);
        assert_eq!(after["entries"]["nodes"], before["entries"]["nodes"]);
        assert_eq!(after["contentHash"], before["contentHash"]);

        let recomputed = app.data(RECOMPUTE, json!({ "p": "2017-11" })).await["recomputeRanking"].clone();
        assert_eq!(recomputed["outdated"], false);
        assert_ne!(recomputed["contentHash"], before["contentHash"]);
        assert_ne!(recomputed["entries"]["nodes"], before["entries"]["nodes"]);
    }
}

both_databases! {
    async fn a_changed_targets_script_marks_a_stored_ranking_outdated(app) {
        app.load_demo(0.05).await;
        let before = ranking(&app, "2017-10").await;
        assert_eq!(before["outdated"], false);
        assert_eq!(before["rulesHash"].as_str().unwrap().len(), 64);
        let targets = std::fs::read_to_string(shipped_rules().join("targets/2017q4.rhai")).unwrap();
        let halved = targets
            .replace("city_total: 80000.0", "city_total: 40000.0")
            .replace("version: \"2017q4.1\"", "version: \"2017q4.2\"");
        assert_ne!(halved, targets);
        crate::helpers::publish_rules(&app, "targets/2017q4.rhai", &halved).await;
        let after = ranking(&app, "2017-10").await;
        assert_eq!(after["outdated"], true, "the targets changed");
        assert_eq!(after["entries"]["nodes"], before["entries"]["nodes"]);
        assert_eq!(after["contentHash"], before["contentHash"], "the scoring script did not");
        let recomputed = app.data(RECOMPUTE, json!({ "p": "2017-10" })).await["recomputeRanking"].clone();
        assert_eq!(recomputed["outdated"], false);
        assert_ne!(recomputed["rulesHash"], before["rulesHash"]);
        assert_ne!(recomputed["entries"]["nodes"], before["entries"]["nodes"], "registrations measured against halved targets");
    }
}
