//! Published rule versions: publishing through the API (checked in full, refused with
//! every error), releases shared by every server of a database, and rollback.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{
    both_databases,
    helpers::{qii_v3 as v3, TestApp},
};

const PUBLISH: &str = "mutation($path: String!, $source: String!, $tests: String) {
    publishRuleSet(path: $path, source: $source, tests: $tests) {
        changed release { id action actor note inForce files { path ruleSet contentHash hasTests } }
    } }";
const VERSIONS: &str = "{ ruleVersions { version effectiveFrom script contentHash } }";
const RANKING: &str =
    "query($p: Period!) { ranking(period: $p) { version contentHash entries(first: 100) { nodes { orgUnit { code } total } } } }";

fn versions(data: &Value) -> Vec<String> {
    data["ruleVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls a server until `done` holds; the limit only bounds a hang.
async fn eventually(app: &TestApp, query: &str, done: impl Fn(&Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let data = app.data(query, json!({})).await;
        if done(&data) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never happened: {data}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both_databases! {
    async fn a_published_version_is_in_force_at_once_and_its_period_scores_with_it(app) {
        app.load_demo(0.05).await;
        let first = app.data("{ ruleReleases { id action actor inForce files { path } } }", json!({})).await;
        let releases = first["ruleReleases"].as_array().unwrap();
        assert_eq!(releases.len(), 1, "the rules folder is the first release");
        assert_eq!(releases[0]["action"], "folder");
        assert_eq!(releases[0]["inForce"], true);

        let published = app
            .data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3() }))
            .await;
        let change = &published["publishRuleSet"];
        assert_eq!(change["changed"], true);
        assert_eq!(change["release"]["action"], "publish");
        assert_eq!(change["release"]["actor"], "city_admin:test-admin");
        assert_eq!(change["release"]["inForce"], true);
        let files: Vec<&str> = change["release"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            files,
            [
                "eligibility/activity.rhai",
                "experts/2017.rhai",
                "incentives/2017.rhai",
                "qii/v2.rhai",
                "qii/v3.rhai",
                "supervision/2017.rhai",
                "targets/2017q4.rhai"
            ]
        );

        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0", "3.0"]);
        let january = app.data(RANKING, json!({ "p": "2018-01" })).await;
        assert_eq!(january["ranking"]["version"], "3.0");
        let december = app.data(RANKING, json!({ "p": "2017-12" })).await;
        assert_eq!(december["ranking"]["version"], "2.0");

        // The same file again changes nothing.
        let again = app
            .data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3() }))
            .await;
        assert_eq!(again["publishRuleSet"]["changed"], false);
        assert_eq!(app.count("rule_release").await, 2);
    }

    async fn an_invalid_publish_is_refused_with_every_error_and_changes_nothing(app) {
        let before = app.count("rule_release").await;
        let scripts = app.count("rule_script").await;

        // A syntax error: located.
        let response = app
            .graphql(PUBLISH, json!({ "path": "qii/v9.rhai", "source": "fn index() {\n    let = 4;\n}\n" }))
            .await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        assert_eq!(error["extensions"]["script"], "qii/v9.rhai");
        assert_eq!(error["extensions"]["line"], 2);
        assert!(error["message"].as_str().unwrap().contains("rules in force stay"));

        // A failing test case and a version already declared: both reported.
        let clash = v3().replace("version: \"3.0\"", "version: \"2.0\"");
        let tests = r#"[{ "name": "A first", "units": { "A": { "answers": 1 }, "B": { "answers": 9 } },
                          "expect": { "A": { "rank": 1 } } }]"#;
        let response = app
            .graphql(PUBLISH, json!({ "path": "qii/v3.rhai", "source": clash, "tests": tests }))
            .await;
        let errors: Vec<String> = response["errors"][0]["extensions"]["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|e| e.as_str().unwrap().to_owned())
            .collect();
        assert!(errors.iter().any(|e| e.starts_with("qii/v3.tests.json: case `A first`")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("version 2.0 of rule set `qii` is already declared by qii/v2.rhai")), "{errors:?}");

        // A script in the folder of another rule set.
        let response = app
            .graphql(PUBLISH, json!({ "path": "expert_evaluation/v1.rhai", "source": v3() }))
            .await;
        assert!(response["errors"][0]["message"].as_str().unwrap().contains("lies in the folder of rule set `expert_evaluation`"), "{response}");

        // A path out of the rules tree, and an empty script.
        let (code, message) = app
            .error(PUBLISH, json!({ "path": "../../etc/x.rhai", "source": v3() }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("<rule set>/<name>.rhai"), "{message}");
        let (code, _) = app
            .error(PUBLISH, json!({ "path": "qii/v3.rhai", "source": "  " }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");

        assert_eq!(app.count("rule_release").await, before);
        assert_eq!(app.count("rule_script").await, scripts);
        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0"]);
    }

    async fn a_rollback_returns_a_rule_set_to_an_earlier_release(app) {
        app.load_demo(0.05).await;
        app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3() })).await;
        let heavier = v3().replace("weight: 25.0, transform: [\"log1p\"]", "weight: 20.0, transform: [\"log1p\"]")
            .replace("indicator(\"work_integration\", \"eligible_activities\", 30.0)", "indicator(\"work_integration\", \"eligible_activities\", 35.0)");
        app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": heavier })).await;
        let edited = app.data(VERSIONS, json!({})).await;

        // Back to the first v3.
        let rollback = app
            .data("mutation { rollbackRuleSet { changed release { id action note } } }", json!({}))
            .await;
        let release = &rollback["rollbackRuleSet"]["release"];
        assert_eq!(release["action"], "rollback");
        assert!(release["note"].as_str().unwrap().contains("returned to release 2"), "{release}");
        let restored = app.data(VERSIONS, json!({})).await;
        assert_ne!(restored, edited);
        assert_eq!(versions(&restored), ["2.0", "3.0"]);

        // Back to the folder's release: v3 is gone, January is scored with v2 again.
        let releases = app.data("{ ruleReleases { id action } }", json!({})).await;
        let first = releases["ruleReleases"].as_array().unwrap().last().unwrap()["id"].clone();
        app.data(
            "mutation($to: ID) { rollbackRuleSet(ruleSet: \"qii\", toRelease: $to) { changed } }",
            json!({ "to": first }),
        )
        .await;
        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0"]);
        let january = app.data(RANKING, json!({ "p": "2018-02" })).await;
        assert_eq!(january["ranking"]["version"], "2.0");

        // Refusals: the release in force, an unknown release, an unknown rule set.
        let current = app.data("{ ruleReleases(first: 1) { id } }", json!({})).await["ruleReleases"][0]["id"].clone();
        let (code, message) = app
            .error("mutation($to: ID) { rollbackRuleSet(toRelease: $to) { changed } }", json!({ "to": current }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        let (code, _) = app
            .error("mutation { rollbackRuleSet(toRelease: \"999\") { changed } }", json!({}))
            .await;
        assert_eq!(code, "NOT_FOUND");
        let (code, _) = app
            .error("mutation { rollbackRuleSet(ruleSet: \"nothing\") { changed } }", json!({}))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
    }

    async fn a_publish_on_one_server_is_in_force_on_another_of_the_same_database(app) {
        let other = app.replica().await;
        assert_eq!(versions(&other.data(VERSIONS, json!({})).await), ["2.0"]);
        app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3() })).await;
        let took = eventually(&other, VERSIONS, |d| versions(d) == ["2.0", "3.0"]).await;
        eprintln!("the other server had v3.0 in force after {took:?}");
        app.data("mutation { rollbackRuleSet { changed } }", json!({})).await;
        eventually(&other, VERSIONS, |d| versions(d) == ["2.0"]).await;
        // Starting one more server applies nothing new: the folder is as last applied.
        let third = app.replica().await;
        assert_eq!(versions(&third.data(VERSIONS, json!({})).await), ["2.0"]);
        assert_eq!(app.count("rule_release").await, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_release_is_announced_to_a_replica_that_would_not_poll_for_an_hour() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let other = app
        .replica_configured(|config| config.rules_poll = Duration::from_secs(3600))
        .await;
    assert_eq!(versions(&other.data(VERSIONS, json!({})).await), ["2.0"]);
    app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3() }))
        .await;
    // Only the announcement can bring it within the next hour.
    let took = eventually(&other, VERSIONS, |d| versions(d) == ["2.0", "3.0"]).await;
    eprintln!("announced: the other server had v3.0 in force after {took:?}");
    app.data("mutation { rollbackRuleSet { changed } }", json!({}))
        .await;
    eventually(&other, VERSIONS, |d| versions(d) == ["2.0"]).await;
}
