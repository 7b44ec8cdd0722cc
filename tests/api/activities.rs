//! Activities: publishing and listing.

use serde_json::json;

use crate::both_databases;

const CREATE: &str = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id title signupCount } }";

fn activity(org_unit: &str) -> serde_json::Value {
    json!({
        "orgUnitId": org_unit, "title": "青年交友活动", "kind": "OFFLINE", "category": "SOCIAL",
        "startsAt": "2017-11-18T02:00:00Z", "endsAt": "2017-11-18T06:00:00Z",
        "place": "石碣青年之家", "capacity": 30
    })
}

both_databases! {
    async fn an_activity_is_published_and_listed_by_town(app) {
        app.load_demo(0.02).await;
        let town = app.unit_id("town-shijie").await;
        let created = app.data(CREATE, json!({ "input": activity(&town) })).await;
        assert_eq!(created["createActivity"]["signupCount"], 0);
        let listed = app
            .data(
                "query($t: ID) { activities(filter: {townId: $t, search: \"交友\", startsFrom: \"2017-11-18T00:00:00Z\"}) { nodes { title } } }",
                json!({ "t": town }),
            )
            .await;
        assert!(listed["activities"]["nodes"].as_array().unwrap().iter().any(|a| a["title"] == "青年交友活动"));
    }

    async fn an_activity_ending_before_it_starts_or_without_places_is_refused(app) {
        app.load_demo(0.02).await;
        let town = app.unit_id("town-shijie").await;
        let before = app.count("activity").await;
        let mut backwards = activity(&town);
        backwards["endsAt"] = json!("2017-11-18T01:00:00Z");
        let mut no_places = activity(&town);
        no_places["capacity"] = json!(0);
        let mut unknown_unit = activity(&town);
        unknown_unit["orgUnitId"] = json!("987654");
        for input in [backwards, no_places, unknown_unit] {
            let (code, message) = app.error(CREATE, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        assert_eq!(app.count("activity").await, before);
    }
}
