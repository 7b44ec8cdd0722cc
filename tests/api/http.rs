//! GraphQL over HTTP: methods, media types, status codes, probes.

use serde_json::json;

use crate::both_databases;

both_databases! {
    async fn health_and_readiness_probes_answer(app) {
        let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let ready = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
        assert_eq!(ready.status(), 200);
    }

    async fn graphiql_is_served_at_the_root(app) {
        let page = app.client.get(&app.base).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("/graphql"));
    }

    async fn queries_work_over_get_and_carry_a_request_id(app) {
        let response = app
            .client
            .get(format!("{}/graphql", app.base))
            .query(&[("query", "{ districts { nodes { name } } }")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("x-request-id"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["data"]["districts"]["nodes"], json!([]));
    }

    async fn mutations_over_get_are_refused_with_405(app) {
        let response = app
            .client
            .get(format!("{}/graphql", app.base))
            .query(&[("query", "mutation { createDistrict(input: {code: \"d9\", name: \"x\", nameEn: \"x\"}) { id } }")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(app.count("district").await, 0);
    }

    async fn a_request_that_cannot_execute_is_a_400_for_graphql_response_clients(app) {
        let response = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": "{ noSuchField }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers()["content-type"],
            "application/graphql-response+json"
        );
        let plain = app.graphql("{ noSuchField }", json!({})).await;
        assert!(plain["errors"][0]["message"].as_str().unwrap().contains("noSuchField"));
    }

    async fn a_body_that_is_not_json_is_a_bad_request(app) {
        let response = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let wrong_type = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("content-type", "text/plain")
            .body("{ districts { nodes { name } } }")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_type.status(), 415);
    }
}
