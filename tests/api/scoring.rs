//! Rankings over GraphQL: the board, one town's explanation, and the what-if preview.

use serde_json::{json, Value};

use qii_domain::identity::Role;

use crate::both_databases;

const BOARD: &str = "query($p: Period!) { ranking(period: $p) {
    ruleSet version contentHash effectiveFrom period baseline
    entries(first: 100) { nodes { rank baselineRank rankChange total orgUnit { code name }
              dimensions { key weight score contribution }
              indicators { key dimension raw standardised weight contribution } } }
} }";

const PREVIEW: &str = "query($s: String!, $p: Period!) { previewRanking(source: $s, period: $p) {
    version baseline entries(first: 100) { nodes { rank rankChange total orgUnit { code } } }
} }";

fn v2_source() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/qii/v2.rhai")).unwrap()
}

fn entries(data: &Value, root: &str) -> Vec<Value> {
    data[root]["entries"]["nodes"].as_array().unwrap().clone()
}

both_databases! {
    async fn the_ranking_board_lists_the_towns_with_the_rule_version_and_rank_changes(app) {
        app.load_demo(0.05).await;
        let data = app.data(BOARD, json!({ "p": "2017-11" })).await;
        let ranking = &data["ranking"];
        assert_eq!(ranking["ruleSet"], "qii");
        assert_eq!(ranking["version"], "2.0.1");
        assert_eq!(ranking["period"], "2017-11");
        assert_eq!(ranking["baseline"], "2017-10");
        let hash = qii_engine::rules::sandbox::content_hash(&v2_source());
        assert_eq!(ranking["contentHash"], hash.as_str());
        let list = entries(&data, "ranking");
        assert_eq!(list.len(), 32);
        assert_eq!(list[0]["rank"], 1);
        for entry in &list {
            let explained: f64 = entry["indicators"].as_array().unwrap().iter()
                .map(|i| i["contribution"].as_f64().unwrap()).sum();
            assert!((explained - entry["total"].as_f64().unwrap()).abs() < 1e-6);
            let change = entry["rankChange"].as_i64().unwrap();
            assert_eq!(change, entry["baselineRank"].as_i64().unwrap() - entry["rank"].as_i64().unwrap());
        }
        // October has no scored period before it.
        let october = app.data(BOARD, json!({ "p": "2017-10" })).await;
        assert_eq!(october["ranking"]["baseline"], Value::Null);
        assert_eq!(entries(&october, "ranking")[0]["rankChange"], Value::Null);
    }

    async fn one_towns_score_is_explained_indicator_by_indicator(app) {
        app.load_demo(0.05).await;
        let town = app.unit_id("town-houjie").await;
        let data = app
            .data(
                "query($t: ID!) { explainScore(orgUnitId: $t, period: \"2017-Q4\") {
                    rank total orgUnit { code } indicators { key raw weight contribution } } }",
                json!({ "t": town }),
            )
            .await;
        let entry = &data["explainScore"];
        assert_eq!(entry["orgUnit"]["code"], "town-houjie");
        let indicators = entry["indicators"].as_array().unwrap();
        assert_eq!(indicators.len(), 14);
        let weights: f64 = indicators.iter().map(|i| i["weight"].as_f64().unwrap()).sum();
        assert!((weights - 100.0).abs() < 1e-9);
        let home = app.data("{ orgUnits(filter: {kind: YOUTH_HOME}, first: 1) { nodes { id } } }", json!({})).await;
        let not_ranked = app
            .data("query($t: ID!) { explainScore(orgUnitId: $t, period: \"2017-10\") { rank } }",
                  json!({ "t": home["orgUnits"]["nodes"][0]["id"] }))
            .await;
        assert_eq!(not_ranked["explainScore"], Value::Null, "a Youth Home is not ranked among towns");
    }

    async fn an_explanation_shows_its_working_and_the_working_gives_the_score(app) {
        app.load_demo(0.05).await;
        let town = app.unit_id("town-humen").await;
        let data = app
            .data(
                "query($t: ID!) { explainScore(orgUnitId: $t, period: \"2017-11\") { indicators {
                    key raw transforms { name value } standardised weight contribution
                    method { name low high mean sd target targetMetric function lowerIsBetter missing } } } }",
                json!({ "t": town }),
            )
            .await;
        let indicators = data["explainScore"]["indicators"].as_array().unwrap();
        let find = |key: &str| indicators.iter().find(|i| i["key"] == key).unwrap().clone();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;

        // Visits: log1p, then min–max over the towns' logarithms.
        let visits = find("valid_visits");
        let raw = visits["raw"].as_f64().unwrap();
        assert_eq!(visits["transforms"][0]["name"], "log1p");
        let logged = visits["transforms"][0]["value"].as_f64().unwrap();
        assert!(close(logged, raw.ln_1p()), "{visits}");
        let method = &visits["method"];
        assert_eq!((method["name"].as_str(), method["missing"].as_str()), (Some("min_max"), Some("zero")));
        let (low, high) = (method["low"].as_f64().unwrap(), method["high"].as_f64().unwrap());
        assert!(low <= logged && logged <= high, "{visits}");
        assert!(close(visits["standardised"].as_f64().unwrap(), (logged - low) / (high - low) * 100.0), "{visits}");

        // Registrations against the town's own target; binding between goalposts.
        let registrations = find("registrations");
        assert_eq!(registrations["method"]["name"], "target_metric");
        assert_eq!(registrations["method"]["targetMetric"], "registrations");
        let target = registrations["method"]["target"].as_f64().unwrap();
        let share = (registrations["raw"].as_f64().unwrap() / target).min(1.0) * 100.0;
        assert!(close(registrations["standardised"].as_f64().unwrap(), share), "{registrations}");
        let binding = find("mobile_binding");
        assert_eq!((binding["method"]["name"].as_str(), binding["method"]["low"].as_f64(), binding["method"]["high"].as_f64()),
            (Some("goalposts"), Some(0.0), Some(0.5)));
        assert_eq!(binding["transforms"], json!([]));
        // Points: weight × score / 100, as the index adds its dimensions up.
        for indicator in indicators {
            let points = indicator["weight"].as_f64().unwrap() * indicator["standardised"].as_f64().unwrap_or(0.0) / 100.0;
            assert!(close(indicator["contribution"].as_f64().unwrap(), points), "{indicator}");
        }
    }

    async fn a_preview_with_other_weights_reorders_the_towns_against_the_rules_in_force(app) {
        app.load_demo(0.05).await;
        let what_if = v2_source()
            .replace("indicator(\"work_integration\", \"eligible_activities\", 40.0)", "indicator(\"work_integration\", \"eligible_activities\", 10.0)")
            .replace("weight: 15.0, transform: [\"log1p\"]", "weight: 45.0, transform: [\"log1p\"]")
            .replace("version: \"2.0.1\"", "version: \"what-if\"");
        let data = app.data(PREVIEW, json!({ "s": what_if, "p": "2017-10" })).await;
        assert_eq!(data["previewRanking"]["version"], "what-if");
        assert_eq!(data["previewRanking"]["baseline"], "qii 2.0.1 in force");
        let list = entries(&data, "previewRanking");
        assert_eq!(list.len(), 32);
        assert!(list.iter().any(|e| e["rankChange"].as_i64().unwrap() != 0), "the weights change the order");
    }

    async fn a_preview_that_does_not_compile_or_never_ends_is_refused_with_its_line(app) {
        app.load_demo(0.02).await;
        let broken = "fn index() {\n    #{ name: \"qii\",\n       version: 2.0 +\n    }\n}\n";
        let response = app.graphql(PREVIEW, json!({ "s": broken, "p": "2017-10" })).await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        assert!(error["extensions"]["line"].as_i64().is_some(), "{response}");
        assert!(error["message"].as_str().unwrap().contains("preview.rhai:"));

        let endless = "// spins\nfn index() {\n    let n = 0;\n    loop { n += 1; }\n}\n";
        let response = app.graphql(PREVIEW, json!({ "s": endless, "p": "2017-10" })).await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        assert_eq!(error["extensions"]["line"], 4, "the line of the loop: {response}");
        assert!(error["message"].as_str().unwrap().contains("too long"));

        let weights = v2_source().replace("indicator(\"answers\", \"answers\", 2.0)", "indicator(\"answers\", \"answers\", 3.0)");
        let (code, message) = app.error(PREVIEW, json!({ "s": weights, "p": "2017-10" })).await;
        assert_eq!(code, "RULE_ERROR");
        assert!(message.contains("101"), "{message}");

        // The server keeps answering.
        let districts = app.data("{ districts { nodes { name } } }", json!({})).await;
        assert_eq!(districts["districts"]["nodes"].as_array().unwrap().len(), 3);
    }

    async fn a_rule_error_shows_its_script_to_rule_and_city_administrators_only(app) {
        // The city administrator reads what the engine said.
        let (code, message) = app.error(BOARD, json!({ "p": "2017-09" })).await;
        assert_eq!(code, "RULE_ERROR");
        assert!(message.contains("no version"), "{message}");

        // A partner and a town administrator get the code and a short message: no script,
        // no position, no engine words.
        let town = app.token_for(Role::TownAdmin(1), "town-admin");
        for token in [app.partner_token(), town] {
            let response = app.graphql_as(Some(&token), BOARD, json!({ "p": "2017-09" })).await;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains("a rule administrator can read why"), "{message}");
            assert!(!message.contains("no version") && !message.contains("qii"), "{message}");
            assert!(error["extensions"].get("script").is_none(), "{response}");
        }

        // A rule administrator sees where a draft breaks, line included.
        let rules = app.token_for(Role::RuleAdmin, "rule-admin");
        let broken = "fn index() {\n    #{ name: \"qii\",\n       version: 2.0 +\n    }\n}\n";
        let response = app.graphql_as(Some(&rules), PREVIEW, json!({ "s": broken, "p": "2017-10" })).await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        assert!(error["extensions"]["line"].as_i64().is_some(), "{response}");
        assert!(error["message"].as_str().unwrap().contains("preview.rhai:"), "{response}");
    }

    async fn a_period_without_rules_or_in_a_wrong_form_is_refused(app) {
        let (code, message) = app.error(BOARD, json!({ "p": "2017-09" })).await;
        assert_eq!(code, "RULE_ERROR");
        assert!(message.contains("no version"), "{message}");
        let response = app.graphql(BOARD, json!({ "p": "2017-13" })).await;
        assert!(response["errors"][0]["message"].as_str().unwrap().contains("2017-13"), "{response}");
    }
}
