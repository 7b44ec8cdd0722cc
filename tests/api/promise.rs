//! The promise of the design: while the server runs, an administrator adds QII v3.0
//! effective from 2018-01; without a restart January 2018 is scored with v3 while October
//! 2017 still reads v2's numbers; broken scripts are rejected with their line and the
//! server keeps answering.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

use crate::helpers::{qii_v3, qii_v3_tests, shipped_rules, TestApp};

const RANKING: &str = "query($p: Period!) { ranking(period: $p) { version contentHash entries(first: 100) { nodes { orgUnit { code } total } } } }";

pub(crate) fn copy_rules(to: &Path) {
    for entry in walk(&shipped_rules()) {
        let relative = entry.strip_prefix(shipped_rules()).unwrap();
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Polls until `done` holds; reloads are expected within 2 s, the limit only bounds a hang.
async fn eventually(
    app: &TestApp,
    query: &str,
    vars: Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let response = app.graphql(query, vars.clone()).await;
        if done(&response) {
            return response;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never happened: last response {response}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn the_promise(app: TestApp, rules: PathBuf) {
    app.load_demo(0.05).await;
    let october = app.data(RANKING, json!({ "p": "2017-10" })).await;
    assert_eq!(october["ranking"]["version"], "2.0.1");

    let v3 = qii_v3();
    std::fs::write(rules.join("qii/v3.tests.json"), qii_v3_tests()).unwrap();
    std::fs::write(rules.join("qii/v3.rhai"), &v3).unwrap();

    // Within 2 s the folder's change is a release in force; January 2018 (never read
    // before, so not stored) is then scored with v3.
    eventually(&app, "{ ruleVersions { version } }", json!({}), |r| {
        r["data"]["ruleVersions"]
            .as_array()
            .is_some_and(|v| v.len() == 2)
    })
    .await;
    let january = app.graphql(RANKING, json!({ "p": "2018-01" })).await;
    assert_eq!(january["data"]["ranking"]["version"], "3.0", "{january}");
    assert_ne!(
        january["data"]["ranking"]["contentHash"],
        october["ranking"]["contentHash"]
    );
    let october_again = app.data(RANKING, json!({ "p": "2017-10" })).await;
    assert_eq!(
        october_again, october,
        "October 2017 still reads v2's numbers"
    );
    let versions = app
        .data("{ ruleVersions { version effectiveFrom } }", json!({}))
        .await;
    assert_eq!(
        versions["ruleVersions"],
        json!([
            { "version": "2.0.1", "effectiveFrom": "2017-10" },
            { "version": "3.0", "effectiveFrom": "2018-01" }
        ])
    );

    let compared = app
        .data(
            "{ compareRuleVersions(a: \"2.0.1\", b: \"3.0\", period: \"2017-10\", first: 100) { nodes { orgUnit { code } totalA totalB totalDifference rankA rankB rankChange } } }",
            json!({}),
        )
        .await;
    let rows = compared["compareRuleVersions"]["nodes"].as_array().unwrap();
    assert_eq!(rows.len(), 32);
    let v2_totals: std::collections::HashMap<&str, f64> = october["ranking"]["entries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["orgUnit"]["code"].as_str().unwrap(),
                e["total"].as_f64().unwrap(),
            )
        })
        .collect();
    for row in rows {
        assert!(
            (row["totalA"].as_f64().unwrap() - v2_totals[row["orgUnit"]["code"].as_str().unwrap()])
                .abs()
                < 1e-9
        );
        let difference = row["totalB"].as_f64().unwrap() - row["totalA"].as_f64().unwrap();
        assert!((row["totalDifference"].as_f64().unwrap() - difference).abs() < 1e-9);
    }
    assert!(
        rows.iter()
            .any(|r| r["totalDifference"].as_f64().unwrap().abs() > 1e-6),
        "v3 weighs differently"
    );

    // A syntax error: rejected with its line; v3 stays in force.
    std::fs::write(rules.join("qii/v4.rhai"), "fn index() {\n    let = 4;\n}\n").unwrap();
    let rejected = eventually(&app, "{ rulesRejection }", json!({}), |r| {
        !r["data"]["rulesRejection"].is_null()
    })
    .await;
    let why = rejected["data"]["rulesRejection"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(why.contains("v4.rhai:2:"), "{why}");
    // The refusal is in the history, with its errors, and in the audit log.
    let history = app
        .data("{ ruleReleases(first: 1) { action outcome inForce files { path } errors { script line message } } }", json!({}))
        .await;
    let refused = &history["ruleReleases"][0];
    assert_eq!(refused["action"], "folder", "{history}");
    assert_eq!(refused["outcome"], "rejected");
    assert_eq!(refused["inForce"], false);
    assert_eq!(refused["files"], json!([]));
    assert_eq!(refused["errors"][0]["script"], "qii/v4.rhai");
    assert_eq!(refused["errors"][0]["line"], 2);
    let audit = app
        .data(
            "{ auditLog(filter: { action: \"rules.rejected\" }, first: 5) { nodes { action } } }",
            json!({}),
        )
        .await;
    assert!(
        !audit["auditLog"]["nodes"].as_array().unwrap().is_empty(),
        "{audit}"
    );
    let still = app.data(RANKING, json!({ "p": "2018-02" })).await;
    assert_eq!(still["ranking"]["version"], "3.0");

    // An endless loop: rejected too, named with its line, and the server keeps answering.
    std::fs::write(
        rules.join("qii/v4.rhai"),
        "// spins\nfn index() {\n    let n = 0;\n    loop { n += 1; }\n}\n",
    )
    .unwrap();
    let rejected = eventually(&app, "{ rulesRejection }", json!({}), |r| {
        r["data"]["rulesRejection"]
            .as_str()
            .is_some_and(|w| w.contains("too long"))
    })
    .await;
    assert!(
        rejected["data"]["rulesRejection"]
            .as_str()
            .unwrap()
            .contains("v4.rhai:4:"),
        "the line of the loop: {rejected}"
    );
    let districts = app
        .data("{ districts { nodes { name } } }", json!({}))
        .await;
    assert_eq!(districts["districts"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.data(RANKING, json!({ "p": "2018-01" })).await["ranking"]["version"],
        "3.0"
    );

    // Removing the broken file clears the rejection.
    std::fs::remove_file(rules.join("qii/v4.rhai")).unwrap();
    eventually(&app, "{ rulesRejection }", json!({}), |r| {
        r["data"]["rulesRejection"].is_null()
    })
    .await;
    std::fs::remove_dir_all(&rules).ok();
}

fn fresh_rules() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qii-rules-{}", uuid::Uuid::new_v4()));
    copy_rules(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_rule_version_applies_from_its_period_without_a_restart_on_sqlite() {
    let rules = fresh_rules();
    the_promise(TestApp::sqlite_with_rules(&rules).await, rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_rule_version_applies_from_its_period_without_a_restart_on_postgres() {
    let rules = fresh_rules();
    if let Some(app) = TestApp::postgres_with_rules(&rules).await {
        the_promise(app, rules).await;
    }
}
