//! The targets in effect: the targets script's values worked out per unit, overrides set
//! through the API, the ranking's registrations indicator scored against them, and
//! published changes of the script.

use serde_json::{json, Value};

use crate::{
    both_databases,
    helpers::{shipped_rules, TestApp},
    service_requests::fixture,
};

const IN_EFFECT: &str = "query($u: ID!, $p: Period!) { targetsInEffect(orgUnitId: $u, period: $p) {
    metric label value span source { kind script contentHash version targetId } } }";
const SET_TARGET: &str = "mutation($input: SetTargetInput!) { setTarget(input: $input) { id } }";
const PUBLISH: &str = "mutation($path: String!, $source: String!) {
    publishRuleSet(path: $path, source: $source) { changed } }";
const RANKING: &str = "query($p: Period!) { ranking(period: $p) {
    entries(first: 100) { nodes { orgUnit { id } indicators { key raw standardised } } } } }";
const RECOMPUTE: &str = "mutation($p: Period!) { recomputeRanking(period: $p) {
    entries(first: 100) { nodes { orgUnit { id } indicators { key raw standardised } } } } }";

const SCRIPT: &str = "targets/2017q4.rhai";

fn shipped_script() -> String {
    std::fs::read_to_string(shipped_rules().join(SCRIPT)).unwrap()
}

async fn in_effect(app: &TestApp, unit: &str, period: &str) -> Vec<Value> {
    let data = app.data(IN_EFFECT, json!({ "u": unit, "p": period })).await;
    data["targetsInEffect"].as_array().unwrap().clone()
}

fn metric<'a>(targets: &'a [Value], key: &str) -> &'a Value {
    targets
        .iter()
        .find(|t| t["metric"] == key)
        .unwrap_or_else(|| panic!("no target `{key}` in {targets:?}"))
}

fn metrics(targets: &[Value]) -> Vec<&str> {
    targets
        .iter()
        .map(|t| t["metric"].as_str().unwrap())
        .collect()
}

/// The raw figure and standardised score of the registrations indicator of `unit`.
fn registrations(ranking: &Value, unit: &str) -> (f64, f64) {
    let entry = ranking["entries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["orgUnit"]["id"] == unit)
        .unwrap();
    let indicator = entry["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "registrations")
        .unwrap();
    (
        indicator["raw"].as_f64().unwrap(),
        indicator["standardised"].as_f64().unwrap(),
    )
}

both_databases! {
    async fn a_towns_registrations_target_is_its_share_of_the_city_total_and_scores_its_ranking(app) {
        app.load_demo(0.05).await;
        let town = app.data("{ orgUnit(code: \"town-shijie\") { id populationCoefficient } }", json!({})).await;
        let (unit, coefficient) = (
            town["orgUnit"]["id"].as_str().unwrap().to_owned(),
            town["orgUnit"]["populationCoefficient"].as_f64().unwrap(),
        );

        let october = in_effect(&app, &unit, "2017-10").await;
        let target = metric(&october, "registrations");
        let share = 80_000.0 * coefficient;
        assert!((target["value"].as_f64().unwrap() - share).abs() < 1e-6, "{target}");
        assert_eq!(target["span"], "SPAN_END");
        assert_eq!(target["source"]["kind"], "RULE");
        assert_eq!(target["source"]["script"], SCRIPT);
        assert_eq!(target["source"]["version"], "2017q4.1");
        assert_eq!(target["source"]["contentHash"], qii_engine::rules::sandbox::content_hash(&shipped_script()));
        assert_eq!(
            metrics(&october),
            ["mobile_binding_rate", "offline_activities", "online_topics", "registrations", "update_days"]
        );
        let quarter = in_effect(&app, &unit, "2017-Q4").await;
        assert_eq!(metrics(&quarter), ["experts", "mobile_binding_rate", "new_youth_homes", "registrations"]);
        assert_eq!(metric(&quarter, "new_youth_homes")["span"], "SPAN");

        // The ranking scores registrations as the share of the town's own target reached.
        let ranking = app.data(RANKING, json!({ "p": "2017-10" })).await;
        let (raw, score) = registrations(&ranking["ranking"], &unit);
        assert!(raw > 0.0);
        assert!((score - (raw / share).min(1.0) * 100.0).abs() < 1e-6, "{raw} of {share} scored {score}");

        // An administrator's target takes the place of the script's, there and in the ranking.
        let set = app
            .data(SET_TARGET, json!({ "input": { "orgUnitId": unit, "period": "2017-10", "metric": "registrations", "value": raw * 4.0 } }))
            .await;
        let overridden = in_effect(&app, &unit, "2017-10").await;
        let target = metric(&overridden, "registrations");
        assert_eq!(target["value"].as_f64().unwrap(), raw * 4.0);
        assert_eq!(target["source"]["kind"], "OVERRIDE");
        assert_eq!(target["source"]["targetId"], set["setTarget"]["id"]);
        assert!(target["source"]["script"].is_null());
        assert_eq!(target["label"], metric(&october, "registrations")["label"], "the script still names it");
        assert_eq!(metric(&in_effect(&app, &unit, "2017-11").await, "registrations")["source"]["kind"], "RULE", "only for its period");

        let recomputed = app.data(RECOMPUTE, json!({ "p": "2017-10" })).await;
        let (_, score) = registrations(&recomputed["recomputeRanking"], &unit);
        assert!((score - 25.0).abs() < 1e-6, "{score}");
    }

    async fn each_unit_has_the_targets_of_its_kind_and_none_outside_the_scripts_span(app) {
        let f = fixture(&app).await;
        // No population coefficient was set for the town: no share of the city total.
        assert_eq!(
            metrics(&in_effect(&app, &f.town, "2017-11").await),
            ["mobile_binding_rate", "offline_activities", "online_topics", "update_days"]
        );
        assert_eq!(metrics(&in_effect(&app, &f.school, "2017-11").await), ["update_days"]);
        assert_eq!(metrics(&in_effect(&app, &f.school, "2017-Q4").await), ["experts"]);
        assert!(in_effect(&app, &f.city, "2017-11").await.is_empty(), "the city sets the targets");
        assert!(in_effect(&app, &f.town, "2017-W45").await.len() == 1, "a week has only the level to reach");

        for outside in ["2017-09", "2018-01", "2018-Q1", "2017-12-25..2018-01-07"] {
            assert!(in_effect(&app, &f.town, outside).await.is_empty(), "{outside}");
        }
        // Outside the span an administrator's target is still in effect, with no label.
        app.data(SET_TARGET, json!({ "input": { "orgUnitId": f.town, "period": "2018-01", "metric": "update_days", "value": 25.0 } }))
            .await;
        let january = in_effect(&app, &f.town, "2018-01").await;
        assert_eq!(january.len(), 1);
        assert_eq!(january[0]["value"], 25.0);
        assert_eq!(january[0]["source"]["kind"], "OVERRIDE");
        assert!(january[0]["label"].is_null() && january[0]["span"].is_null());

        let (code, _) = app.error(IN_EFFECT, json!({ "u": "999999", "p": "2017-10" })).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn a_published_threshold_is_in_effect_at_once_and_a_broken_declaration_is_refused(app) {
        let f = fixture(&app).await;
        assert_eq!(metric(&in_effect(&app, &f.school, "2017-10").await, "update_days")["value"], 20.0);

        let raised = shipped_script().replace(
            "applies_to: \"org_unit\", per: \"month\", at_least: 20.0",
            "applies_to: \"org_unit\", per: \"month\", at_least: 22.0",
        ).replace("version: \"2017q4.1\"", "version: \"2017q4.2\"");
        assert_ne!(raised, shipped_script());
        let published = app.data(PUBLISH, json!({ "path": SCRIPT, "source": raised })).await;
        assert_eq!(published["publishRuleSet"]["changed"], true);
        let target = &in_effect(&app, &f.school, "2017-10").await[0];
        assert_eq!(target["value"], 22.0);
        assert_eq!(target["source"]["contentHash"], qii_engine::rules::sandbox::content_hash(&raised));

        let broken = shipped_script().replace("applies_to: \"registered_youth_home\"", "applies_to: \"every_home\"");
        let response = app.graphql(PUBLISH, json!({ "path": SCRIPT, "source": broken })).await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        assert_eq!(error["extensions"]["script"], SCRIPT);
        assert!(error["message"].as_str().unwrap().contains("every_home"), "{response}");

        let overlapping = raised.replace("version: \"2017q4.2\"", "version: \"2017q4b\"");
        let response = app.graphql(PUBLISH, json!({ "path": "targets/2017q4b.rhai", "source": overlapping })).await;
        assert!(response["errors"][0]["message"].as_str().unwrap().contains("covers periods that targets/2017q4.rhai covers too"), "{response}");

        assert_eq!(in_effect(&app, &f.school, "2017-10").await[0]["value"], 22.0, "the rules in force stay");
    }
}
