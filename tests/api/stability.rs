//! How sure a ranking is: `rankStability` over the weights (and methods) of the index in
//! force or of a draft, through the server, deterministic for a seed.

use serde_json::{json, Value};

use qii_domain::identity::{Role, Scope};

use crate::{both_databases, service_requests::fixture};

const STABILITY: &str = "query($draft: String, $seed: Int = 1, $samples: Int = 1000, $spread: Float,
                              $assumedOnly: Boolean = false, $vary: Boolean = false) {
    rankStability(period: \"2017-10\", draft: $draft, seed: $seed, samples: $samples,
                  spread: $spread, assumedOnly: $assumedOnly, varyMethods: $vary) {
        version draft samples seed spread perturbed methods meanRankShift
        sensitivity { factor label weight assumed firstOrder }
        units(first: 100) { nodes { orgUnit { code } rank total medianRank rankLow rankHigh keepsRank } }
    }
}";

/// Two figures of equal weight: a town strong in one and a town strong in the other tie.
const TIED: &str = r#"
fn index() {
    #{ name: "qii", version: "tied", effective_from: "2017-10",
       uncertainty: #{ spread: 0.5 },
       dimensions: [ #{ key: "d", indicators: [
           #{ key: "x", label: "X", raw: "x_figure", weight: 50.0 },
           #{ key: "y", label: "Y", raw: "y_figure", weight: 50.0, assumed: true },
       ] } ] }
}
"#;

const IMPORT: &str = "mutation($rows: [FigureRowInput!]!) { importFigures(rows: $rows, source: \"test\") { inserted } }";

fn row(unit: &str, key: &str, value: f64) -> Value {
    json!({ "orgUnit": unit, "period": "2017-10", "key": key, "value": value })
}

fn unit<'a>(data: &'a Value, code: &str) -> &'a Value {
    data["rankStability"]["units"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["orgUnit"]["code"] == code)
        .unwrap_or_else(|| panic!("{code} is analysed: {data}"))
}

both_databases! {
    async fn rank_stability_is_the_same_for_a_seed_and_wide_where_weights_decide_a_tie(app) {
        let f = fixture(&app).await;
        let third = app
            .data(
                "mutation($input: CreateOrgUnitInput!) { createOrgUnit(input: $input) { id } }",
                json!({ "input": { "code": "town-humen", "name": "虎门", "kind": "TOWN", "parentId": f.city, "districtId": f.district } }),
            )
            .await;
        assert!(third["createOrgUnit"]["id"].is_string());
        app.data(IMPORT, json!({ "rows": [
            row("town-shijie", "x_figure", 8.0), row("town-shijie", "y_figure", 2.0),
            row("town-houjie", "x_figure", 2.0), row("town-houjie", "y_figure", 8.0),
            row("town-humen", "x_figure", 10.0), row("town-humen", "y_figure", 10.0),
        ] }))
        .await;

        let ask = |seed: i64| json!({ "draft": TIED, "seed": seed, "samples": 2000 });
        let first = app.data(STABILITY, ask(42)).await;
        let again = app.data(STABILITY, ask(42)).await;
        assert_eq!(first, again, "the same seed gives the same analysis");
        let other = app.data(STABILITY, ask(43)).await;
        assert_ne!(first["rankStability"]["units"], other["rankStability"]["units"]);

        let analysis = &first["rankStability"];
        assert_eq!(analysis["version"], "tied");
        assert_eq!(analysis["draft"], true);
        assert_eq!(analysis["spread"], 0.5, "the script's spread by default");
        assert_eq!(analysis["perturbed"], json!(["x", "y"]));
        // The leader is ahead under any weights.
        let humen = unit(&first, "town-humen");
        assert_eq!((humen["rank"].as_i64(), humen["rankLow"].as_i64(), humen["rankHigh"].as_i64()), (Some(1), Some(1), Some(1)));
        assert_eq!(humen["keepsRank"], 1.0);
        // The two tied towns share rank 2 and take 2nd or 3rd place as x or y weighs more.
        for code in ["town-shijie", "town-houjie"] {
            let u = unit(&first, code);
            assert_eq!(u["rank"], 2, "{u}");
            assert_eq!((u["rankLow"].as_i64(), u["rankHigh"].as_i64()), (Some(2), Some(3)), "{u}");
            let keeps = u["keepsRank"].as_f64().unwrap();
            assert!(keeps > 0.3 && keeps < 0.7, "{u}");
            assert_eq!(u["medianRank"].as_f64().map(|m| (2.0..=3.0).contains(&m)), Some(true));
        }
        let sensitivity = analysis["sensitivity"].as_array().unwrap();
        assert_eq!(sensitivity.len(), 2);
        assert!(sensitivity.iter().all(|s| s["firstOrder"].as_f64().unwrap() > 0.2), "{sensitivity:?}");

        // Only the assumed weight moves; the stated one keeps its value, so y alone decides.
        let assumed = app
            .data(STABILITY, json!({ "draft": TIED, "seed": 1, "samples": 500, "assumedOnly": true, "spread": 0.2 }))
            .await;
        assert_eq!(assumed["rankStability"]["perturbed"], json!(["y"]));
        assert_eq!(assumed["rankStability"]["spread"], 0.2);
        // With y alone perturbed and its share kept, the tie stands in every sample.
        assert_eq!(unit(&assumed, "town-shijie")["keepsRank"], 1.0);

        // The index in force declares its spread, its assumed weights and its methods.
        let v2 = app.data(STABILITY, json!({ "samples": 200, "assumedOnly": true, "vary": true })).await;
        let v2 = &v2["rankStability"];
        assert_eq!(v2["version"], "2.0.1");
        assert_eq!(v2["draft"], false);
        assert_eq!(v2["spread"], 0.25);
        assert_eq!(v2["methods"], json!(["min_max", "z_score", "rank"]));
        assert_eq!(v2["perturbed"].as_array().unwrap().len(), 9, "{v2}");
        assert!(v2["sensitivity"].as_array().unwrap().iter().any(|s| s["factor"] == "standardisation"));
    }

    async fn a_rank_stability_request_it_cannot_answer_is_refused_with_the_option_at_fault(app) {
        fixture(&app).await;
        for (variables, field, says) in [
            (json!({ "samples": 0 }), "samples", "1 to 100000"),
            (json!({ "samples": 100001 }), "samples", "1 to 100000"),
            (json!({ "samples": -5 }), "samples", "1 to 100000"),
            (json!({ "spread": 0.0 }), "spread", "above 0"),
            (json!({ "spread": 3.0 }), "spread", "at most 1"),
            (json!({ "draft": TIED, "vary": true }), "varyMethods", "no other standardisation method"),
            (json!({ "draft": TIED.replace("uncertainty: #{ spread: 0.5 },", "") }), "spread", "declares no"),
            (json!({ "draft": TIED.replace(", assumed: true", ""), "assumedOnly": true }), "assumedOnly", "assumed"),
            (json!({ "draft": "  " }), "draft", "empty"),
        ] {
            let response = app.graphql(STABILITY, variables.clone()).await;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{variables}: {response}");
            assert_eq!(error["extensions"]["field"], field, "{variables}: {response}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(says), "{variables}: {message}");
        }
        // A draft's analysis is for rule administrators; a partner reads the rules in force.
        let partner = app.token_for(Role::Partner(vec![Scope::ScoresRead]), "partner");
        let (code, _) = app.error_as(Some(&partner), STABILITY, json!({ "draft": TIED })).await;
        assert_eq!(code, "FORBIDDEN");
        let ok = app.data_as(Some(&partner), STABILITY, json!({ "samples": 10 })).await;
        assert_eq!(ok["rankStability"]["samples"], 10);
    }
}
