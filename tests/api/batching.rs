//! Nested relations are batched: the number of SQL statements does not grow with rows.

use serde_json::json;

use crate::both_databases;

both_databases! {
    async fn towns_with_activities_and_signup_counts_take_a_bounded_number_of_statements(app) {
        app.load_demo(0.05).await;
        let query = "{ orgUnits(filter: {kind: TOWN}, first: 100) {
            nodes { name activities { totalCount nodes { title signupCount orgUnit { name district { name } } } } }
        } }";
        let before = app.statements.get();
        let data = app.data(query, json!({})).await;
        let statements = app.statements.get() - before;

        let towns = data["orgUnits"]["nodes"].as_array().unwrap();
        let activities: usize = towns.iter().map(|t| t["activities"]["nodes"].as_array().unwrap().len()).sum();
        assert_eq!(towns.len(), 32);
        assert!(activities > 32, "the demo gives towns several activities each ({activities})");
        let total: i64 = towns.iter().map(|t| t["activities"]["totalCount"].as_i64().unwrap()).sum();
        assert!(total >= activities as i64);
        // One page query, then one batched query per relation: activities (one windowed
        // statement for every town's page), their total counts, sign-up counts, publishing
        // units, districts.
        assert!(statements <= 7, "{statements} statements for {activities} activities");
    }

    async fn districts_with_towns_and_their_activities_take_a_bounded_number_of_statements(app) {
        app.load_demo(0.05).await;
        let before = app.statements.get();
        let data = app
            .data("{ districts(first: 3) { nodes { name towns(first: 15) { nodes { name youthHomes(first: 5) { nodes { name activities(first: 5) { nodes { signupCount } } } } activities(first: 10) { nodes { signupCount } } } } } } }", json!({}))
            .await;
        let statements = app.statements.get() - before;
        let districts = data["districts"]["nodes"].as_array().unwrap();
        assert_eq!(districts.len(), 3);
        let homes: usize = districts
            .iter()
            .flat_map(|d| d["towns"]["nodes"].as_array().unwrap())
            .map(|t| t["youthHomes"]["nodes"].as_array().unwrap().len())
            .sum();
        assert!(homes >= 32);
        // One statement per relation and nesting level, whatever the number of rows:
        // districts, their units, the towns' children, activities and sign-up counts at
        // the town level and again at the Youth Home level.
        assert!(statements <= 7, "{statements} statements for 32 towns and {homes} Youth Homes");
    }
}
