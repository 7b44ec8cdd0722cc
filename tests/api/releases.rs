//! Published rule versions: publishing through the API (checked in full, refused with
//! every error), releases shared by every server of a database, and rollback.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{
    both_databases,
    helpers::{qii_v3 as v3, qii_v3_tests as v3_tests, TestApp},
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
            .data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3(), "tests": v3_tests() }))
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

        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0.1", "3.0"]);
        let january = app.data(RANKING, json!({ "p": "2018-01" })).await;
        assert_eq!(january["ranking"]["version"], "3.0");
        let december = app.data(RANKING, json!({ "p": "2017-12" })).await;
        assert_eq!(december["ranking"]["version"], "2.0.1");

        // The same file again changes nothing.
        let again = app
            .data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3(), "tests": v3_tests() }))
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
        let clash = v3().replace("version: \"3.0\"", "version: \"2.0.1\"");
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
        assert!(errors.iter().any(|e| e.contains("version 2.0.1 of rule set `qii` is already declared by qii/v2.rhai")), "{errors:?}");

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

        // Each refusal by the checks is an attempt in the history, with every error; no
        // script was stored and the rules in force stay.
        assert_eq!(app.count("rule_release").await, before + 3);
        let history = app
            .data("{ ruleReleases(first: 4) { id action outcome inForce parentId errors { script line message } } }", json!({}))
            .await;
        let history = history["ruleReleases"].as_array().unwrap();
        assert!(history[..3].iter().all(|r| r["outcome"] == "rejected" && r["inForce"] == false && r["parentId"].is_null()), "{history:?}");
        assert_eq!(history[2]["errors"][0]["script"], "qii/v9.rhai");
        assert_eq!(history[2]["errors"][0]["line"], 2);
        assert_eq!(history[1]["errors"].as_array().unwrap().len(), 2, "{history:?}");
        assert_eq!(history[3]["outcome"], "released");
        assert_eq!(history[3]["inForce"], true);
        assert_eq!(app.count("rule_script").await, scripts);
        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0.1"]);
        let audit = app
            .data("{ auditLog(filter: { action: \"rules.rejected\" }, first: 10) { nodes { action } } }", json!({}))
            .await;
        assert_eq!(audit["auditLog"]["nodes"].as_array().unwrap().len(), 3, "{audit}");
        // A refused attempt is nothing to roll back to.
        let (code, message) = app
            .error("mutation($to: ID) { rollbackRuleSet(toRelease: $to) { changed } }", json!({ "to": history[1]["id"] }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
    }

    async fn a_version_label_stands_for_one_content_and_scripts_need_test_cases(app) {
        // Without test cases: refused, saying where they go.
        let response = app
            .graphql(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3() }))
            .await;
        let error = &response["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{response}");
        assert!(error["message"].as_str().unwrap().contains("publish test cases with it (`qii/v3.tests.json`)"), "{response}");
        app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3(), "tests": v3_tests() })).await;

        // Other content under the label 3.0: refused, whether as an edit of the file or
        // as another file; under a new label it is accepted.
        let edited = v3().replace("indicator(\"work_integration\", \"eligible_activities\", 30.0)", "indicator(\"work_integration\", \"eligible_activities\", 29.0)")
            .replace("weight: 25.0, transform: [\"log1p\"]", "weight: 26.0, transform: [\"log1p\"]");
        assert_ne!(edited, v3());
        for path in ["qii/v3.rhai", "qii/v3b.rhai"] {
            let response = app
                .graphql(PUBLISH, json!({ "path": path, "source": edited, "tests": v3_tests() }))
                .await;
            let message = response["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("{response}"));
            assert!(message.contains("version `3.0` of rule set `qii`") || message.contains("version 3.0 of rule set `qii` is already declared"), "{message}");
            assert!(message.contains("new version label") || message.contains("already declared"), "{message}");
        }
        let relabelled = edited.replace("version: \"3.0\"", "version: \"3.1\"");
        let accepted = app
            .data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": relabelled, "tests": v3_tests() }))
            .await;
        assert_eq!(accepted["publishRuleSet"]["changed"], true);
        // 3.0 is no longer in force, but its label stays taken.
        let response = app
            .graphql(PUBLISH, json!({ "path": "qii/v3.rhai", "source": edited.replace("29.0", "28.0").replace("26.0", "27.0"), "tests": v3_tests() }))
            .await;
        assert!(response["errors"][0]["message"].as_str().unwrap().contains("published before with other content"), "{response}");
        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0.1", "3.1"]);
    }

    async fn a_script_is_read_by_its_content_hash_and_versions_compare_by_hash_or_with_a_draft(app) {
        app.load_demo(0.05).await;
        let listed = app.data(VERSIONS, json!({})).await;
        let v2_hash = listed["ruleVersions"][0]["contentHash"].as_str().unwrap().to_owned();
        let script = app
            .data("query($h: String!) { ruleScript(hash: $h) { path ruleSet contentHash source tests } }", json!({ "h": v2_hash }))
            .await;
        let script = &script["ruleScript"];
        assert_eq!(script["path"], "qii/v2.rhai");
        assert_eq!(script["ruleSet"], "qii");
        let shipped = std::fs::read_to_string(crate::helpers::shipped_rules().join("qii/v2.rhai")).unwrap();
        assert_eq!(script["source"], shipped.as_str());
        assert!(script["tests"].as_str().unwrap().contains("leader"));
        let none = app
            .data("query($h: String!) { ruleScript(hash: $h) { path } }", json!({ "h": "0".repeat(64) }))
            .await;
        assert!(none["ruleScript"].is_null());
        let (code, _) = app
            .error("{ ruleScript(hash: \"v2\") { path } }", json!({}))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");

        // 2.0 by its label against 2.0 by its hash: nothing moves.
        const COMPARE: &str = "query($a: String!, $b: String, $d: String) { compareRuleVersions(a: $a, b: $b, draft: $d, period: \"2017-10\", first: 100) { nodes { totalA totalB rankChange } } }";
        let same = app.data(COMPARE, json!({ "a": "2.0.1", "b": v2_hash })).await;
        let rows = same["compareRuleVersions"]["nodes"].as_array().unwrap();
        assert_eq!(rows.len(), 32);
        assert!(rows.iter().all(|r| r["totalA"] == r["totalB"]));
        // Against a draft that weighs otherwise: totals move.
        let moved = app.data(COMPARE, json!({ "a": v2_hash, "d": crate::helpers::qii_v2_reweighted() })).await;
        let rows = moved["compareRuleVersions"]["nodes"].as_array().unwrap();
        assert!(rows.iter().any(|r| r["totalA"] != r["totalB"]), "{moved}");
        let (code, _) = app.error(COMPARE, json!({ "a": "2.0.1" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, message) = app.error(COMPARE, json!({ "a": "9.9", "b": "2.0.1" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("no version `9.9`"), "{message}");
    }

    async fn a_draft_is_checked_and_previewed_without_storing_anything(app) {
        app.load_demo(0.05).await;
        let releases = app.count("rule_release").await;
        const CHECK: &str = "query($path: String!, $source: String!, $tests: String) {
            checkRuleDraft(path: $path, source: $source, tests: $tests) {
                ok casesPassed cases ruleSet version effectiveFrom contentHash
                errors { script line column keyPath message }
                preview(period: \"2017-10\") { baseline entries(first: 100) { nodes { rank baselineRank rankChange total baselineTotal totalChange } } }
            } }";
        // A reweighted v2 under a new label, with its cases: it would be accepted, and the
        // preview gives each town's score and rank before and after.
        let draft = crate::helpers::qii_v2_reweighted().replace("version: \"2.0.1\"", "version: \"2.1\"");
        let checked = app
            .data(CHECK, json!({ "path": "qii/v2.rhai", "source": draft, "tests": v3_tests() }))
            .await;
        let check = &checked["checkRuleDraft"];
        assert_eq!(check["ok"], true, "{checked}");
        assert_eq!((check["casesPassed"].as_i64(), check["cases"].as_i64()), (Some(1), Some(1)));
        assert_eq!((check["ruleSet"].as_str(), check["version"].as_str(), check["effectiveFrom"].as_str()), (Some("qii"), Some("2.1"), Some("2017-10")));
        assert_eq!(check["preview"]["baseline"], "qii 2.0.1 in force");
        let rows = check["preview"]["entries"]["nodes"].as_array().unwrap();
        assert_eq!(rows.len(), 32);
        for row in rows {
            let change = row["total"].as_f64().unwrap() - row["baselineTotal"].as_f64().unwrap();
            assert!((row["totalChange"].as_f64().unwrap() - change).abs() < 1e-9);
            assert_eq!(row["rankChange"].as_i64().unwrap(), row["baselineRank"].as_i64().unwrap() - row["rank"].as_i64().unwrap());
        }
        assert!(rows.iter().any(|r| r["totalChange"].as_f64().unwrap().abs() > 1e-6));

        // A broken draft: every error, located, and no preview.
        let broken = "fn index() {\n  #{ name: \"qii\", version: \"2.2\", effective_from: \"2017-10\",\n     dimensions: [ #{ key: \"d\", indicators: [\n       #{ key: \"a\", raw: \"answers\", weight: 100, standardise: \"minmax\" } ] } ] }\n}\n";
        let checked = app
            .data(CHECK, json!({ "path": "qii/v2.rhai", "source": broken, "tests": v3_tests() }))
            .await;
        let check = &checked["checkRuleDraft"];
        assert_eq!(check["ok"], false);
        assert!(check["preview"].is_null());
        let error = &check["errors"][0];
        assert_eq!(error["script"], "qii/v2.rhai", "{checked}");
        assert_eq!((error["line"].as_i64(), error["column"].as_i64()), (Some(4), Some(63)), "{checked}");
        assert_eq!(error["keyPath"], "dimensions[0].indicators[0].standardise");
        // The same content under the label in force, and no test cases: both said.
        let checked = app
            .data(CHECK, json!({ "path": "qii/v2.rhai", "source": crate::helpers::qii_v2_reweighted() }))
            .await;
        let messages: Vec<&str> = checked["checkRuleDraft"]["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
        assert!(messages.iter().any(|m| m.contains("publish test cases")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("published before with other content")), "{messages:?}");
        assert_eq!(app.count("rule_release").await, releases, "nothing was stored");
    }

    async fn a_rollback_returns_a_rule_set_to_an_earlier_release(app) {
        app.load_demo(0.05).await;
        app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3(), "tests": v3_tests() })).await;
        let heavier = v3().replace("weight: 25.0, transform: [\"log1p\"]", "weight: 20.0, transform: [\"log1p\"]")
            .replace("indicator(\"work_integration\", \"eligible_activities\", 30.0)", "indicator(\"work_integration\", \"eligible_activities\", 35.0)")
            .replace("version: \"3.0\"", "version: \"3.1\"");
        app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": heavier, "tests": v3_tests() })).await;
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
        assert_eq!(versions(&edited), ["2.0.1", "3.1"]);
        assert_eq!(versions(&restored), ["2.0.1", "3.0"]);

        // Back to the folder's release: v3 is gone, January is scored with v2 again.
        let releases = app.data("{ ruleReleases { id action } }", json!({})).await;
        let first = releases["ruleReleases"].as_array().unwrap().last().unwrap()["id"].clone();
        app.data(
            "mutation($to: ID) { rollbackRuleSet(ruleSet: \"qii\", toRelease: $to) { changed } }",
            json!({ "to": first }),
        )
        .await;
        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0.1"]);
        let january = app.data(RANKING, json!({ "p": "2018-02" })).await;
        assert_eq!(january["ranking"]["version"], "2.0.1");

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

    async fn a_publish_or_a_rollback_carries_the_administrators_note_and_a_bad_note_writes_nothing(app) {
        let noted = "mutation($s: String!, $t: String, $n: String) {
            publishRuleSet(path: \"qii/v3.rhai\", source: $s, tests: $t, note: $n) { release { id note } } }";
        let published = app
            .data(noted, json!({ "s": v3(), "t": v3_tests(), "n": "  省团委QII v3.0权重 The province's v3.0 weights " }))
            .await;
        assert_eq!(
            published["publishRuleSet"]["release"]["note"],
            "qii/v3.rhai published: 省团委QII v3.0权重 The province's v3.0 weights"
        );
        let audit = app.data("{ auditLog(first: 20) { nodes { action detail } } }", json!({})).await;
        let notes: Vec<&Value> = audit["auditLog"]["nodes"].as_array().unwrap().iter()
            .filter(|e| e["action"] == "rules.publish").map(|e| &e["detail"]["note"]).collect();
        assert_eq!(notes, [&json!("qii/v3.rhai published: 省团委QII v3.0权重 The province's v3.0 weights")]);

        let releases = app.count("rule_release").await;
        let heavier = v3().replace("version: \"3.0\"", "version: \"3.1\"")
            .replace("indicator(\"work_integration\", \"eligible_activities\", 30.0)", "indicator(\"work_integration\", \"eligible_activities\", 35.0)")
            .replace("weight: 25.0, transform: [\"log1p\"]", "weight: 20.0, transform: [\"log1p\"]");
        for (note, says) in [(" ", "blank"), (&"长".repeat(501)[..], "longer than 500"), ("a\u{7}b", "control characters")] {
            let response = app.graphql(noted, json!({ "s": heavier, "t": v3_tests(), "n": note })).await;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{response}");
            assert_eq!(error["extensions"]["field"], "note", "{response}");
            assert!(error["message"].as_str().unwrap().contains(says), "{response}");
        }
        assert_eq!(app.count("rule_release").await, releases, "nothing was written");

        let rollback = app
            .data("mutation { rollbackRuleSet(note: \"会议决定暂缓 Postponed\") { release { note } } }", json!({}))
            .await;
        let note = rollback["rollbackRuleSet"]["release"]["note"].as_str().unwrap();
        assert!(note.starts_with("rule set qii returned to release") && note.ends_with(": 会议决定暂缓 Postponed"), "{note}");
    }

    async fn a_publish_on_one_server_is_in_force_on_another_of_the_same_database(app) {
        let other = app.replica().await;
        assert_eq!(versions(&other.data(VERSIONS, json!({})).await), ["2.0.1"]);
        app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": v3(), "tests": v3_tests() })).await;
        let took = eventually(&other, VERSIONS, |d| versions(d) == ["2.0.1", "3.0"]).await;
        eprintln!("the other server had v3.0 in force after {took:?}");
        app.data("mutation { rollbackRuleSet { changed } }", json!({})).await;
        eventually(&other, VERSIONS, |d| versions(d) == ["2.0.1"]).await;
        // Starting one more server applies nothing new: the folder is as last applied.
        let third = app.replica().await;
        assert_eq!(versions(&third.data(VERSIONS, json!({})).await), ["2.0.1"]);
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
    assert_eq!(versions(&other.data(VERSIONS, json!({})).await), ["2.0.1"]);
    app.data(
        PUBLISH,
        json!({ "path": "qii/v3.rhai", "source": v3(), "tests": v3_tests() }),
    )
    .await;
    // Only the announcement can bring it within the next hour.
    let took = eventually(&other, VERSIONS, |d| versions(d) == ["2.0.1", "3.0"]).await;
    eprintln!("announced: the other server had v3.0 in force after {took:?}");
    app.data("mutation { rollbackRuleSet { changed } }", json!({}))
        .await;
    eventually(&other, VERSIONS, |d| versions(d) == ["2.0.1"]).await;
}
