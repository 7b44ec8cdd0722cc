//! `/metrics`: operations by name and outcome with their latencies, the pool, scoring and
//! the rules in force, in Prometheus's text format.

use serde_json::json;

use crate::{both_databases, helpers::TestApp};

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request reaches the server")
}

both_databases! {
    async fn metrics_count_operations_by_name_and_outcome(app) {
        app.load_demo(0.05).await;
        app.data("query Towns { districts { nodes { name } } }", json!({})).await;
        app.data("query Towns { districts { nodes { name } } }", json!({})).await;
        app.data("query Board { ranking(period: \"2017-10\") { version } }", json!({})).await;
        app.graphql("query Broken { districts { nodes { nmae } } }", json!({})).await;
        app.graphql("{ districts { nodes { name } } }", json!({})).await;

        let response = scrape(&app, None).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        for line in [
            "qii_operations_total{operation=\"Towns\",outcome=\"ok\"} 2",
            "qii_operations_total{operation=\"Board\",outcome=\"ok\"} 1",
            "qii_operations_total{operation=\"Broken\",outcome=\"GRAPHQL_VALIDATION_FAILED\"} 1",
            "qii_operations_total{operation=\"(anonymous)\",outcome=\"ok\"} 1",
            "qii_operation_duration_seconds_count{operation=\"Towns\"} 2",
            "qii_operation_duration_seconds_bucket{operation=\"Towns\",le=\"+Inf\"} 2",
            "# TYPE qii_db_connections gauge",
            "qii_db_connections{state=\"idle\"}",
            "# TYPE qii_scoring_duration_seconds histogram",
            "qii_rules_release ",
            "qii_rules_version_info{version=\"qii 2.0.1 from 2017-10\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        let scored: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("qii_scoring_duration_seconds_count "))
            .and_then(|n| n.parse().ok())
            .expect("the scoring histogram's count");
        assert!(scored >= 1, "the ranking was scored: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_metrics_token_metrics_are_only_for_who_sends_it() {
    let app = TestApp::sqlite_configured(|config| {
        config.metrics_token = Some("a-scrape-token".parse().unwrap());
    })
    .await;
    assert_eq!(scrape(&app, None).await.status(), 401);
    assert_eq!(scrape(&app, Some("wrong")).await.status(), 401);
    let allowed = scrape(&app, Some("a-scrape-token")).await;
    assert_eq!(allowed.status(), 200);
    assert!(allowed.text().await.unwrap().contains("qii_db_connections"));
}
