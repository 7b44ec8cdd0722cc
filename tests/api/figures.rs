//! Figures imported from other systems: the bulk import, reading them back, and rule
//! scripts scoring with them.

use std::collections::BTreeSet;

use qii_domain::scoring::{raw_table, Level, COMPUTED_FIGURES};
use qii_engine::period::Period;
use serde_json::{json, Value};

use crate::{both_databases, service_requests::fixture};

const IMPORT: &str = "mutation($rows: [FigureRowInput!]!, $source: String) {
    importFigures(rows: $rows, source: $source) { inserted replaced keys }
}";

const LIST: &str = "query($filter: ImportedFigureFilter) {
    importedFigures(filter: $filter, orderBy: VALUE, direction: DESC) {
        totalCount nodes { id period key value source importedAt orgUnit { code } }
    }
}";

const PREVIEW: &str = "query($s: String!, $p: Period!, $level: RankingLevel) {
    previewRanking(source: $s, period: $p, level: $level) {
        entries(first: 100) { nodes { rank total orgUnit { code } indicators { key raw } } }
    }
}";

/// A rule set scoring the units by one imported figure alone.
const BY_PROVINCIAL_VISITS: &str = r#"
fn index() {
    #{
        name: "qii",
        version: "provincial",
        effective_from: "2017-10",
        dimensions: [
            #{ key: "reach", indicators: [
                #{ key: "provincial_visits", raw: "provincial_visits", weight: 100.0 },
            ] },
        ],
    }
}
"#;

fn row(unit: &str, period: &str, key: &str, value: f64) -> Value {
    json!({ "orgUnit": unit, "period": period, "key": key, "value": value })
}

/// (unit code, raw figure) of a preview's entries, best first.
fn board(data: &Value) -> Vec<(String, Value)> {
    data["previewRanking"]["entries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let code = e["orgUnit"]["code"].as_str().unwrap().to_owned();
            (code, e["indicators"][0]["raw"].clone())
        })
        .collect()
}

both_databases! {
    async fn figures_are_imported_by_code_or_id_read_back_and_replaced_on_reimport(app) {
        let f = fixture(&app).await;
        let first = app
            .data(IMPORT, json!({ "rows": [
                row("town-shijie", "2017-10", "provincial_visits", 1200.0),
                row(&f.other_town, "2017-10", "provincial_visits", 800.0),
                row(" yh-shijie-1 ", " 2017-W43 ", "media_reach", 35.5),
            ], "source": "provincial-platform" }))
            .await;
        assert_eq!(
            first["importFigures"],
            json!({ "inserted": 3, "replaced": 0, "keys": ["media_reach", "provincial_visits"] })
        );
        assert_eq!(app.count("imported_figure").await, 3);

        let october = app.data(LIST, json!({ "filter": { "period": "2017-10" } })).await;
        let list = &october["importedFigures"];
        assert_eq!(list["totalCount"], 2);
        assert_eq!(list["nodes"][0]["orgUnit"]["code"], "town-shijie");
        assert_eq!(list["nodes"][0]["value"], 1200.0);
        assert_eq!(list["nodes"][0]["source"], "provincial-platform");
        assert_eq!(list["nodes"][1]["orgUnit"]["code"], "town-houjie");
        let week = app.data(LIST, json!({ "filter": { "key": "media_reach" } })).await;
        assert_eq!(week["importedFigures"]["nodes"][0]["period"], "2017-W43", "stored in canonical form");
        let town = app.data(LIST, json!({ "filter": { "townId": f.town } })).await;
        assert_eq!(town["importedFigures"]["totalCount"], 2, "the town and its Youth Home");
        let id = list["nodes"][0]["id"].clone();
        let one = app
            .data("query($id: ID!) { importedFigure(id: $id) { key value orgUnit { name } } }", json!({ "id": id }))
            .await;
        assert_eq!(one["importedFigure"], json!({ "key": "provincial_visits", "value": 1200.0, "orgUnit": { "name": "石碣" } }));

        let again = app
            .data(IMPORT, json!({ "rows": [
                row("town-shijie", "2017-10", "provincial_visits", 1500.0),
                row("town-shijie", "2017-11", "provincial_visits", 90.0),
            ] }))
            .await;
        assert_eq!(again["importFigures"]["inserted"], 1);
        assert_eq!(again["importFigures"]["replaced"], 1);
        assert_eq!(app.count("imported_figure").await, 4);
        let replaced = app
            .data(LIST, json!({ "filter": { "orgUnitId": f.town, "period": "2017-10" } }))
            .await;
        let node = &replaced["importedFigures"]["nodes"][0];
        assert_eq!(node["id"], id, "the same row takes the new value");
        assert_eq!(node["value"], 1500.0);
        assert_eq!(node["source"], Value::Null);
    }

    async fn a_figure_batch_with_bad_rows_is_refused_whole_and_lists_every_bad_row(app) {
        fixture(&app).await;
        app.data(IMPORT, json!({ "rows": [row("town-shijie", "2017-10", "reach", 5.0)] })).await;
        let before = app.count("imported_figure").await;
        let response = app
            .graphql(IMPORT, json!({ "rows": [
                row("town-shijie", "2017-10", "reach", 50.0),
                row("nowhere", "2017-10", "reach", 1.0),
                row("town-shijie", "2017-13", "reach", 1.0),
                row("town-shijie", "2017-10", "valid_visits", 1.0),
                row("town-houjie", "2017-11", "reach", -3.0),
                row("town-houjie", "2017-12", "Reach-Index", 1.0),
                row("town-shijie", "2017-10", "reach", 6.0),
            ] }))
            .await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{response:#}");
        assert_eq!(error["extensions"]["field"], "rows");
        let rows = error["extensions"]["rows"].as_array().expect("extensions.rows");
        let found: Vec<(i64, Value)> =
            rows.iter().map(|r| (r["row"].as_i64().unwrap(), r["field"].clone())).collect();
        assert_eq!(found, vec![
            (2, json!("orgUnit")),
            (3, json!("period")),
            (4, json!("key")),
            (5, json!("value")),
            (6, json!("key")),
            (7, Value::Null),
        ]);
        let reason = |i: usize| rows[i]["reason"].as_str().unwrap().to_owned();
        assert!(reason(0).contains("nowhere"), "{}", reason(0));
        assert!(reason(1).contains("2017-13"), "{}", reason(1));
        assert!(reason(2).contains("computed from the platform's own data"), "{}", reason(2));
        assert!(reason(3).contains("zero or more"), "{}", reason(3));
        assert!(reason(4).contains("lower_snake_case"), "{}", reason(4));
        assert!(reason(5).contains("duplicates row 1"), "{}", reason(5));
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("6 row(s) refused") && message.contains("nothing was written"), "{message}");

        assert_eq!(app.count("imported_figure").await, before);
        let kept = app.data(LIST, json!({ "filter": { "key": "reach" } })).await;
        assert_eq!(kept["importedFigures"]["nodes"][0]["value"], 5.0);
    }

    async fn an_imported_figure_named_by_a_rule_script_changes_the_ranking(app) {
        fixture(&app).await;
        let preview = |period: &str, level: &str| {
            json!({ "s": BY_PROVINCIAL_VISITS, "p": period, "level": level })
        };
        let (code, message) = app.error(PREVIEW, preview("2017-10", "TOWN")).await;
        assert_eq!(code, "RULE_ERROR", "a key never imported is an unknown figure");
        assert!(message.contains("provincial_visits"), "{message}");

        app.data(IMPORT, json!({ "rows": [
            row("town-houjie", "2017-10", "provincial_visits", 900.0),
            row("town-shijie", "2017-10", "provincial_visits", 300.0),
            row("yh-shijie-1", "2017-10", "provincial_visits", 400.0),
            row("town-shijie", "2017-11", "provincial_visits", 5000.0),
        ] }))
        .await;
        let october = app.data(PREVIEW, preview("2017-10", "TOWN")).await;
        assert_eq!(board(&october), vec![
            ("town-houjie".to_owned(), json!(900.0)),
            ("town-shijie".to_owned(), json!(700.0)),
        ], "a Youth Home's figure counts for its town; November's does not count");

        app.data(IMPORT, json!({ "rows": [row("yh-shijie-1", "2017-10", "provincial_visits", 1000.0)] })).await;
        let reimported = app.data(PREVIEW, preview("2017-10", "TOWN")).await;
        assert_eq!(board(&reimported), vec![
            ("town-shijie".to_owned(), json!(1300.0)),
            ("town-houjie".to_owned(), json!(900.0)),
        ]);

        let homes = app.data(PREVIEW, preview("2017-10", "YOUTH_HOME")).await;
        assert_eq!(board(&homes), vec![("yh-shijie-1".to_owned(), json!(1000.0))]);
        let december = app.data(PREVIEW, preview("2017-12", "TOWN")).await;
        assert!(board(&december).iter().all(|(_, raw)| raw.is_null()), "no value is missing, not an error");
    }

    async fn the_raw_table_holds_the_computed_figures_and_every_key_ever_imported(app) {
        fixture(&app).await;
        app.data(IMPORT, json!({ "rows": [row("town-shijie", "2017-10", "reach", 5.0)] })).await;
        let rules = crate::helpers::shipped_activity_rules(1);
        let november: Period = "2017-11".parse().unwrap();
        let table = raw_table(&app.db, &november, Level::Town, qii_domain::scoring::Figures::Events(&rules), &[]).await.unwrap();
        let keys: BTreeSet<&str> = table.figures.keys().map(String::as_str).collect();
        let mut expected: BTreeSet<&str> = COMPUTED_FIGURES.iter().copied().collect();
        expected.insert("reach");
        assert_eq!(keys, expected);
        assert_eq!(table.figures["reach"], vec![None, None], "nothing imported for November");
    }
}
