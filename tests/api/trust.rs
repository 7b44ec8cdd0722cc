//! Rules an administrator can trust: a value that is not a number is an error naming the
//! script, the indicator and the unit; declaration mistakes are located by key path, line
//! and column (never in the query's `locations`); integers are numbers; years and
//! half-years are periods; a unit with none of the figures is not ranked; imports refuse
//! values no figure can hold.

use serde_json::{json, Value};

use crate::{both_databases, service_requests::fixture};

const PREVIEW: &str = "query($s: String!, $p: Period!) {
    previewRanking(source: $s, period: $p) {
        entries(first: 100) { nodes { rank total orgUnit { code } } }
    }
}";

const IMPORT: &str =
    "mutation($rows: [FigureRowInput!]!) { importFigures(rows: $rows) { inserted } }";

/// A scoring script over one figure with `method` spliced into its indicator.
fn index_with(raw: &str, method: &str) -> String {
    format!(
        r#"fn index() {{
    #{{ name: "qii", version: "trial", effective_from: "2017-10",
       dimensions: [ #{{ key: "d", indicators: [
           #{{ key: "reach", raw: "{raw}", weight: 100, {method} }} ] }} ] }}
}}
fn nan(x, stats) {{ 0.0 / 0.0 }}
"#
    )
}

fn codes(data: &Value) -> Vec<String> {
    data["previewRanking"]["entries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["orgUnit"]["code"].as_str().unwrap().to_owned())
        .collect()
}

both_databases! {
    async fn a_standardiser_giving_no_number_is_a_rule_error_naming_the_indicator_and_the_unit(app) {
        fixture(&app).await;
        let script = index_with("answers", r#"standardise: #{ custom: "nan" }"#);
        let response = app.graphql(PREVIEW, json!({ "s": script, "p": "2017-10" })).await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("indicator `reach`") && message.contains("NaN"), "{message}");
        // The unit by its name and id, as people and programs know it.
        let unit = error["extensions"]["orgUnitId"].as_str().unwrap();
        assert!(message.contains(&format!("(org unit {unit})")), "{message}");
        assert!(message.contains("石碣") || message.contains("厚街"), "{message}");
        assert_eq!(error["extensions"]["script"], "preview.rhai");
        // The script's position is in the extensions; the query's is not given.
        assert!(error.get("locations").is_none(), "{response}");
        assert!(response["data"].is_null() || response["data"]["previewRanking"].is_null());
    }

    async fn declaration_mistakes_are_located_and_integers_are_numbers(app) {
        fixture(&app).await;
        // Integer goalposts and weight: accepted.
        let script = index_with("answers", "standardise: #{ goalposts: [0, 10] }");
        let data = app.data(PREVIEW, json!({ "s": script, "p": "2017-10" })).await;
        assert_eq!(codes(&data).len(), 2);
        // A misspelt method: the key's path, line and column.
        let script = index_with("answers", r#"standardise: "minmax""#);
        let response = app.graphql(PREVIEW, json!({ "s": script, "p": "2017-10" })).await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        assert_eq!(error["extensions"]["keyPath"], "dimensions[0].indicators[0].standardise");
        assert_eq!(error["extensions"]["line"], 4);
        assert!(error["extensions"]["column"].as_i64().unwrap() > 1);
        let message = error["message"].as_str().unwrap();
        assert!(!message.contains("Syntax error") && message.contains("minmax"), "{message}");
        assert!(error.get("locations").is_none(), "{response}");
    }

    async fn years_and_half_years_are_periods(app) {
        fixture(&app).await;
        for period in ["2018", "2018-H1"] {
            let data = app
                .data("query($p: Period!) { ranking(period: $p) { period entries(first: 10) { totalCount } } }", json!({ "p": period }))
                .await;
            assert_eq!(data["ranking"]["period"], period);
            assert_eq!(data["ranking"]["entries"]["totalCount"], 2);
        }
        let (code, message) = app
            .error("{ ranking(period: \"2017-H3\") { period } }", json!({}))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("H1 or H2") || message.contains("half-year 3"), "{message}");
    }

    async fn a_unit_with_none_of_the_figures_is_not_ranked_and_imports_refuse_what_no_figure_holds(app) {
        fixture(&app).await;
        app.data(IMPORT, json!({ "rows": [{ "orgUnit": "town-shijie", "period": "2017-10", "key": "reach", "value": 5.0 }] }))
            .await;
        // Excluded when missing: only the town with the figure is ranked.
        let script = index_with("reach", r#"missing: "exclude""#);
        let data = app.data(PREVIEW, json!({ "s": script, "p": "2017-10" })).await;
        assert_eq!(codes(&data), ["town-shijie"]);

        // A value beyond any figure: refused, nothing written.
        let before = app.count("imported_figure").await;
        let (code, message) = app
            .error(IMPORT, json!({ "rows": [
                { "orgUnit": "town-shijie", "period": "2017-11", "key": "reach", "value": 1.7e308 },
                { "orgUnit": "yh-shijie-1", "period": "2017-11", "key": "reach", "value": 1.7e308 }
            ] }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("10^15"), "{message}");
        assert_eq!(app.count("imported_figure").await, before);
    }
}

both_databases! {
    async fn a_ranking_among_a_district_ranks_its_towns_among_themselves(app) {
        app.load_demo(0.05).await;
        let districts = app.data("{ districts { nodes { id } } }", json!({})).await;
        let district = districts["districts"]["nodes"][0]["id"].clone();
        const RANKING: &str = "query($d: ID, $among: RankingEntryFilter) {
            whole: ranking(period: \"2017-10\") { entries(filter: { districtId: $d }, first: 100) { nodes { rank total orgUnit { code } } } }
            among: ranking(period: \"2017-10\", among: $among) { storedAt entries(first: 100) { nodes { rank total baselineRank orgUnit { code } } } }
        }";
        let data = app
            .data(RANKING, json!({ "d": district, "among": { "districtId": district } }))
            .await;
        let whole = data["whole"]["entries"]["nodes"].as_array().unwrap();
        let among = data["among"]["entries"]["nodes"].as_array().unwrap();
        // The same towns, ranked from 1 among themselves: min–max over them alone moves
        // their scores (and may reorder them).
        assert!(!among.is_empty() && among.len() == whole.len() && among.len() < 32, "{data}");
        let sorted_codes = |rows: &[Value]| {
            let mut codes: Vec<String> = rows.iter().map(|r| r["orgUnit"]["code"].as_str().unwrap().to_owned()).collect();
            codes.sort();
            codes
        };
        assert_eq!(sorted_codes(among), sorted_codes(whole));
        assert_eq!(among[0]["rank"], 1);
        assert!(among.iter().all(|r| r["rank"].as_i64().unwrap() <= among.len() as i64));
        let total_of = |rows: &[Value], code: &Value| rows.iter().find(|r| &r["orgUnit"]["code"] == code).unwrap()["total"].as_f64().unwrap();
        assert!(
            among.iter().any(|r| (r["total"].as_f64().unwrap() - total_of(whole, &r["orgUnit"]["code"])).abs() > 1e-9),
            "scored among themselves: {data}"
        );
        // Never stored: computed for the read.
        assert!(data["among"]["storedAt"].is_null());
        // A list of units: two towns.
        let two: Vec<Value> = among.iter().take(2).map(|r| r["orgUnit"]["code"].clone()).collect();
        let ids = app.data("{ orgUnits(filter: { kind: TOWN }, first: 100) { nodes { id code } } }", json!({})).await;
        let ids: Vec<Value> = ids["orgUnits"]["nodes"].as_array().unwrap().iter()
            .filter(|n| two.contains(&n["code"])).map(|n| n["id"].clone()).collect();
        let pair = app
            .data("query($ids: [ID!]) { ranking(period: \"2017-10\", among: { orgUnitIds: $ids }) { entries(first: 10) { nodes { rank } } } }", json!({ "ids": ids }))
            .await;
        let ranks: Vec<i64> = pair["ranking"]["entries"]["nodes"].as_array().unwrap().iter().map(|r| r["rank"].as_i64().unwrap()).collect();
        assert_eq!(ranks.len(), 2);
        assert_eq!(ranks[0], 1);
    }
}
