//! Nested relations are batched: the number of SQL statements does not grow with rows.

use serde_json::json;

use crate::both_databases;

both_databases! {
    async fn towns_with_activities_and_signup_counts_take_a_bounded_number_of_statements(app) {
        app.load_demo(0.05).await;
        let query = "{ orgUnits(filter: {kind: TOWN}, first: 100) {
            nodes { name activities { title signupCount orgUnit { name district { name } } } }
        } }";
        let before = app.statements.get();
        let data = app.data(query, json!({})).await;
        let statements = app.statements.get() - before;

        let towns = data["orgUnits"]["nodes"].as_array().unwrap();
        let activities: usize = towns.iter().map(|t| t["activities"].as_array().unwrap().len()).sum();
        assert_eq!(towns.len(), 32);
        assert!(activities > 32, "the demo gives towns several activities each ({activities})");
        // One page query, then one batched query per relation: activities, sign-up
        // counts, publishing units, districts.
        assert!(statements <= 6, "{statements} statements for {activities} activities");
    }

    async fn districts_with_towns_and_their_activities_take_a_bounded_number_of_statements(app) {
        app.load_demo(0.05).await;
        let before = app.statements.get();
        let data = app
            .data("{ districts { name towns { name youthHomes { name activities { signupCount } } activities { signupCount } } } }", json!({}))
            .await;
        let statements = app.statements.get() - before;
        let districts = data["districts"].as_array().unwrap();
        assert_eq!(districts.len(), 3);
        let homes: usize = districts
            .iter()
            .flat_map(|d| d["towns"].as_array().unwrap())
            .map(|t| t["youthHomes"].as_array().unwrap().len())
            .sum();
        assert!(homes >= 32);
        // One statement per relation and nesting level, whatever the number of rows:
        // districts, their units, the towns' children, activities and sign-up counts at
        // the town level and again at the Youth Home level.
        assert!(statements <= 7, "{statements} statements for 32 towns and {homes} Youth Homes");
    }
}
