//! Daily visits (bulk import) and targets.

use serde_json::{json, Value};

use crate::{both_databases, service_requests::fixture};

const RECORD: &str = "mutation($rows: [DailyVisitRowInput!]!) {
    recordDailyVisits(input: {rows: $rows}) { inserted updated rows { id day visits orgUnit { name } } }
}";

const SET_TARGET: &str = "mutation($input: SetTargetInput!) {
    setTarget(input: $input) { id period startsOn endsOn metric value orgUnit { name } }
}";

fn row(unit: &str, day: &str, visits: i64) -> Value {
    json!({ "orgUnitId": unit, "day": day, "visits": visits })
}

both_databases! {
    async fn daily_visits_are_imported_in_bulk_and_replaced_per_unit_and_day(app) {
        let f = fixture(&app).await;
        let first = app
            .data(RECORD, json!({ "rows": [
                row(&f.town, "2017-10-01", 120), row(&f.town, "2017-10-02", 80), row(&f.home, "2017-10-01", 15),
            ] }))
            .await;
        assert_eq!(first["recordDailyVisits"]["inserted"], 3);
        assert_eq!(first["recordDailyVisits"]["updated"], 0);
        assert_eq!(first["recordDailyVisits"]["rows"][2]["orgUnit"]["name"], "石碣青年之家");

        let second = app
            .data(RECORD, json!({ "rows": [row(&f.town, "2017-10-02", 95), row(&f.other_town, "2017-10-02", 7)] }))
            .await;
        assert_eq!(second["recordDailyVisits"]["inserted"], 1);
        assert_eq!(second["recordDailyVisits"]["updated"], 1);
        assert_eq!(second["recordDailyVisits"]["rows"][0]["visits"], 95);
        assert_eq!(app.count("daily_visit").await, 4);

        let q = "query($filter: DailyVisitFilter, $order: DailyVisitOrderField = DAY) {
            dailyVisits(filter: $filter, orderBy: $order, direction: DESC) { totalCount nodes { id day visits } }
        }";
        let town = app.data(q, json!({ "filter": { "townId": f.town }, "order": "VISITS" })).await;
        assert_eq!(town["dailyVisits"]["totalCount"], 3);
        assert_eq!(town["dailyVisits"]["nodes"][0]["visits"], 120);
        let day = app
            .data(q, json!({ "filter": { "districtId": f.district, "from": "2017-10-02", "to": "2017-10-02" } }))
            .await;
        assert_eq!(day["dailyVisits"]["nodes"], json!([{ "id": day["dailyVisits"]["nodes"][0]["id"], "day": "2017-10-02", "visits": 95 }]));
        let unit = app.data(q, json!({ "filter": { "orgUnitId": f.other_town } })).await;
        let id = unit["dailyVisits"]["nodes"][0]["id"].clone();
        let one = app.data("query($id: ID!) { dailyVisit(id: $id) { visits orgUnit { name } } }", json!({ "id": id })).await;
        assert_eq!(one["dailyVisit"], json!({ "visits": 7, "orgUnit": { "name": "厚街" } }));
    }

    async fn a_visit_batch_with_bad_rows_is_refused_whole_and_lists_every_bad_row(app) {
        let f = fixture(&app).await;
        app.data(RECORD, json!({ "rows": [row(&f.town, "2017-10-01", 10)] })).await;
        let before = app.count("daily_visit").await;
        let response = app
            .graphql(RECORD, json!({ "rows": [
                row(&f.town, "2017-10-01", 500),
                row("987654", "2017-10-01", 3),
                row(&f.home, "2017-10-03", -4),
                row(&f.town, "2017-10-01", 7),
                row("not-an-id", "2017-10-01", 1),
                row(&f.town, "2999-01-01", 1),
            ] }))
            .await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{response:#}");
        let rows = error["extensions"]["rows"].as_array().expect("extensions.rows");
        let indexes: Vec<i64> = rows.iter().map(|r| r["index"].as_i64().unwrap()).collect();
        assert_eq!(indexes, vec![1, 2, 3, 4, 5]);
        let numbers: Vec<i64> = rows.iter().map(|r| r["row"].as_i64().unwrap()).collect();
        assert_eq!(numbers, vec![2, 3, 4, 5, 6], "rows are numbered from 1");
        assert_eq!(rows[0]["field"], "orgUnitId");
        assert!(rows[0]["reason"].as_str().unwrap().contains("987654"));
        assert!(rows[2]["reason"].as_str().unwrap().contains("duplicates row 1"));
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("5 row(s) refused") && message.contains("row 6") && message.contains("nothing was written"), "{message}");

        assert_eq!(app.count("daily_visit").await, before);
        let kept = app.data("query($u: ID) { dailyVisits(filter: {orgUnitId: $u}) { nodes { visits } } }", json!({ "u": f.town })).await;
        assert_eq!(kept["dailyVisits"]["nodes"], json!([{ "visits": 10 }]));
    }

    async fn targets_are_set_replaced_updated_and_listed_by_period_and_metric(app) {
        let f = fixture(&app).await;
        let input = |unit: &str, period: &str, metric: &str, value: f64| {
            json!({ "input": { "orgUnitId": unit, "period": period, "metric": metric, "value": value } })
        };
        let first = app.data(SET_TARGET, input(&f.town, "2017-10", "update_days", 20.0)).await;
        let target = &first["setTarget"];
        assert_eq!(target["startsOn"], "2017-10-01");
        assert_eq!(target["endsOn"], "2017-10-31");
        assert_eq!(target["orgUnit"]["name"], "石碣");
        let again = app.data(SET_TARGET, input(&f.town, "2017-10", "update_days", 22.0)).await;
        assert_eq!(again["setTarget"]["id"], target["id"]);
        assert_eq!(again["setTarget"]["value"], 22.0);
        assert_eq!(app.count("target").await, 1);

        let week = app.data(SET_TARGET, input(&f.home, "2017-W43", "non_volunteer_activities", 1.0)).await;
        assert_eq!(week["setTarget"]["startsOn"], "2017-10-23");
        let range = app.data(SET_TARGET, input(&f.town, "2017-10-01..2017-10-15", "experts", 1.0)).await;
        assert_eq!(range["setTarget"]["endsOn"], "2017-10-15");
        app.data(SET_TARGET, input(&f.other_town, "2017-Q4", "experts", 2.0)).await;

        let updated = app
            .data("mutation($id: ID!) { updateTarget(id: $id, input: {value: 18}) { value } }", json!({ "id": target["id"] }))
            .await;
        assert_eq!(updated["updateTarget"]["value"], 18.0);

        let q = "query($filter: TargetFilter) { targets(filter: $filter, orderBy: METRIC) { totalCount nodes { metric period value } } }";
        let count = |filter: Value| {
            let app = &app;
            async move { app.data(q, json!({ "filter": filter })).await["targets"]["totalCount"].clone() }
        };
        assert_eq!(count(json!({ "townId": f.town })).await, 3);
        assert_eq!(count(json!({ "orgUnitId": f.town })).await, 2);
        assert_eq!(count(json!({ "districtId": f.other_district })).await, 1);
        assert_eq!(count(json!({ "period": "2017-10" })).await, 1);
        assert_eq!(count(json!({ "metric": "experts" })).await, 2);
        let one = app.data("query($id: ID!) { target(id: $id) { value metric } }", json!({ "id": target["id"] })).await;
        assert_eq!(one["target"], json!({ "value": 18.0, "metric": "update_days" }));
    }

    async fn targets_with_a_malformed_period_or_metric_a_negative_value_or_an_unknown_unit_are_refused(app) {
        let f = fixture(&app).await;
        let created = app
            .data(SET_TARGET, json!({ "input": { "orgUnitId": f.town, "period": "2017-11", "metric": "registrations", "value": 100 } }))
            .await;
        let town = f.town.as_str();
        let cases = [
            ("2017-13", "registrations", 1.0, town),
            ("2017-W60", "registrations", 1.0, town),
            ("2017-Q5", "registrations", 1.0, town),
            ("2017-10-15..2017-10-01", "registrations", 1.0, town),
            ("Oct 2017", "registrations", 1.0, town),
            ("2017-10", "UpdateDays", 1.0, town),
            ("2017-10", "update-days", 1.0, town),
            ("2017-10", "update_days", -1.0, town),
            ("2017-10", "update_days", 1.0, "987654"),
        ];
        for (period, metric, value, unit) in cases {
            let input = json!({ "orgUnitId": unit, "period": period, "metric": metric, "value": value });
            let (code, message) = app.error(SET_TARGET, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
        }
        let (code, _) = app
            .error("mutation($id: ID!) { updateTarget(id: $id, input: {value: -5}) { value } }", json!({ "id": created["setTarget"]["id"] }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert_eq!(app.count("target").await, 1);
        let (code, _) = app.error("mutation { updateTarget(id: \"987654\", input: {value: 5}) { value } }", json!({})).await;
        assert_eq!(code, "NOT_FOUND");
    }
}
