//! Persisted queries: a client names its query by the SHA-256 of its text
//! (`extensions.persistedQuery`, as Apollo clients send it), and in allow-list mode the
//! server runs the registered operations and nothing else.

use std::path::PathBuf;

use qii_domain::{
    config::{Config, PersistedMode},
    service::persisted::{self, sha256_hex},
};
use serde_json::{json, Value};

use crate::helpers::TestApp;

const DISTRICTS: &str = "{ districts { nodes { name } } }";
const TOWNS: &str = "query Towns($first: Int!) { orgUnits(filter: { kind: TOWN }, first: $first) { nodes { name } } }";

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> Value {
    app.client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .expect("request reaches the server")
        .json()
        .await
        .expect("response is JSON")
}

async fn get(app: &TestApp, params: &[(&str, String)]) -> Value {
    app.client
        .get(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .query(params)
        .send()
        .await
        .expect("request reaches the server")
        .json()
        .await
        .expect("response is JSON")
}

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("(no error)")
}

fn district_names(response: &Value) -> usize {
    response["data"]["districts"]["nodes"]
        .as_array()
        .map_or(0, Vec::len)
}

/// A folder of documents for registration, removed with the test's temp files.
fn documents(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qii-ops-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

async fn automatic(app: TestApp) {
    app.load_demo(0.05).await;
    let hash = sha256_hex(DISTRICTS);

    // Hash alone, not yet known: the client is asked for the text.
    let first = post(&app, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(code(&first), "PERSISTED_QUERY_NOT_FOUND", "{first}");
    assert!(first.get("data").is_none(), "{first}");

    // Text and hash: it runs, and the server keeps the text.
    let with_text = post(
        &app,
        json!({ "query": DISTRICTS, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(district_names(&with_text), 3, "{with_text}");

    // From now on the hash alone will do, over POST and GET (upper-case hex too).
    let by_hash = post(
        &app,
        json!({ "extensions": persisted(&hash.to_uppercase()) }),
    )
    .await;
    assert_eq!(by_hash["data"], with_text["data"]);
    let over_get = get(&app, &[("extensions", persisted(&hash).to_string())]).await;
    assert_eq!(over_get["data"], with_text["data"], "{over_get}");

    // A hash that is not the text's, or a malformed extension: refused, nothing runs.
    let mismatch = post(
        &app,
        json!({ "query": TOWNS, "variables": { "first": 5 }, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(code(&mismatch), "BAD_REQUEST", "{mismatch}");
    assert!(mismatch.get("data").is_none());
    for bad in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }),
        json!({ "persistedQuery": "x" }),
    ] {
        let refused = post(&app, json!({ "extensions": bad })).await;
        assert_eq!(code(&refused), "BAD_REQUEST", "{refused}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("sha256Hash"), "{message}");
    }

    // A GET that names a mutation's hash still may not run it.
    let mutation = "mutation { logout(refreshToken: \"x\") }";
    let mutation_hash = sha256_hex(mutation);
    // (Sent anonymously: signing out would revoke the test's token.)
    app.client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": mutation, "extensions": persisted(&mutation_hash) }))
        .send()
        .await
        .unwrap();
    let response = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("extensions", persisted(&mutation_hash).to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);

    // A registered operation is found by its hash without being sent first.
    let dir = documents(&[("towns.graphql", TOWNS)]);
    qii_server::cli::queries::register_paths(&app.db, &Config::for_database("-").limits, &[dir])
        .await
        .expect("the document registers");
    let towns = post(
        &app,
        json!({ "variables": { "first": 100 }, "extensions": persisted(&sha256_hex(TOWNS)) }),
    )
    .await;
    assert_eq!(
        towns["data"]["orgUnits"]["nodes"].as_array().map(Vec::len),
        Some(32),
        "{towns}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_run_by_hash_once_the_text_was_sent_on_sqlite() {
    automatic(TestApp::sqlite().await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_run_by_hash_once_the_text_was_sent_on_postgres() {
    if let Some(app) = TestApp::postgres().await {
        automatic(app).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_persisted_query_cache_keeps_within_its_bytes() {
    let texts: Vec<String> = (1..=3)
        .map(|n| format!("{{ districts(first: {n}) {{ nodes {{ name }} }} }}"))
        .collect();
    // Room for two of the three texts.
    let room = 2 * (64 + texts[0].len());
    let app = TestApp::sqlite_configured(|config| config.persisted.cache_bytes = room).await;
    for text in &texts {
        let sent = post(
            &app,
            json!({ "query": text, "extensions": persisted(&sha256_hex(text)) }),
        )
        .await;
        assert!(sent.get("errors").is_none(), "{sent}");
    }
    // The first went to make room for the third; the last two are kept.
    let oldest = post(
        &app,
        json!({ "extensions": persisted(&sha256_hex(&texts[0])) }),
    )
    .await;
    assert_eq!(code(&oldest), "PERSISTED_QUERY_NOT_FOUND", "{oldest}");
    for text in &texts[1..] {
        let kept = post(&app, json!({ "extensions": persisted(&sha256_hex(text)) })).await;
        assert!(kept["data"]["districts"].is_object(), "{kept}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_persisted_queries_off_a_hash_is_refused_and_text_runs() {
    let app = TestApp::sqlite_configured(|config| config.persisted.mode = PersistedMode::Off).await;
    let hash = sha256_hex(DISTRICTS);
    let refused = post(
        &app,
        json!({ "query": DISTRICTS, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(code(&refused), "PERSISTED_QUERY_NOT_SUPPORTED", "{refused}");
    let runs = post(&app, json!({ "query": DISTRICTS })).await;
    assert!(runs["data"]["districts"].is_object(), "{runs}");
}

async fn allow_list(app: TestApp) {
    app.load_demo(0.05).await;
    let limits = Config::for_database("-").limits;

    // A folder with one document that does not fit the schema: nothing is registered,
    // and the problem is named with its file and position.
    let broken = documents(&[
        ("districts.graphql", DISTRICTS),
        ("typo.graphql", "{ districts { nodes { nmae } } }"),
    ]);
    let err = qii_server::cli::queries::register_paths(&app.db, &limits, &[broken])
        .await
        .expect_err("a document that does not validate is refused");
    let message = format!("{err:#}");
    assert!(message.contains("typo.graphql (line 1"), "{message}");
    assert!(message.contains("nmae"), "{message}");
    assert!(persisted::list(&app.db).await.unwrap().is_empty());

    // A folder of documents and an Apollo manifest.
    let logout = "mutation Logout($token: String!) { logout(refreshToken: $token) }";
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": sha256_hex(logout), "name": "Logout", "type": "mutation", "body": logout }]
    });
    let dir = documents(&[
        ("districts.graphql", DISTRICTS),
        ("towns.gql", TOWNS),
        ("manifest.json", &manifest.to_string()),
        ("notes.txt", "not a document"),
    ]);
    let registered =
        qii_server::cli::queries::register_paths(&app.db, &limits, std::slice::from_ref(&dir))
            .await
            .expect("the documents register");
    assert_eq!(registered.len(), 3);
    assert!(registered.iter().all(|r| r.new));
    let again = qii_server::cli::queries::register_paths(&app.db, &limits, &[dir])
        .await
        .unwrap();
    assert!(
        again.iter().all(|r| !r.new),
        "registering twice changes nothing"
    );
    let listed = persisted::list(&app.db).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed
        .iter()
        .any(|op| op.operation_names == "Logout" && op.kind == "mutation"));

    // Registered: by hash alone, or by its exact text, over POST and GET.
    let by_hash = post(
        &app,
        json!({ "extensions": persisted(&sha256_hex(DISTRICTS)) }),
    )
    .await;
    assert_eq!(district_names(&by_hash), 3, "{by_hash}");
    let by_text = post(&app, json!({ "query": DISTRICTS })).await;
    assert_eq!(district_names(&by_text), 3, "{by_text}");
    let over_get = get(
        &app,
        &[
            ("query", TOWNS.to_owned()),
            ("variables", "{\"first\":3}".to_owned()),
        ],
    )
    .await;
    assert_eq!(
        over_get["data"]["orgUnits"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{over_get}"
    );

    // Anything else is refused with its code, and nothing of it runs.
    let other = "{ districts { nodes { name code } } }";
    for body in [
        json!({ "query": other }),
        json!({ "query": other, "extensions": persisted(&sha256_hex(other)) }),
        json!({ "extensions": persisted(&sha256_hex(other)) }),
        json!({ "query": "mutation { logout(refreshToken: \"x\") }" }),
    ] {
        let refused = post(&app, body).await;
        assert_eq!(code(&refused), "OPERATION_NOT_REGISTERED", "{refused}");
        assert!(refused.get("data").is_none(), "{refused}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("qii queries register"), "{message}");
    }
    let refused = get(&app, &[("query", other.to_owned())]).await;
    assert_eq!(code(&refused), "OPERATION_NOT_REGISTERED", "{refused}");

    // In a batch, each operation is judged on its own.
    let batch: Value = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .json(&json!([{ "query": DISTRICTS }, { "query": other }]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(district_names(&batch[0]), 3, "{batch}");
    assert_eq!(code(&batch[1]), "OPERATION_NOT_REGISTERED", "{batch}");

    // Removal is all or nothing.
    let unknown = sha256_hex("never registered");
    assert!(
        persisted::remove(&app.db, &[sha256_hex(DISTRICTS), unknown])
            .await
            .is_err()
    );
    assert_eq!(persisted::list(&app.db).await.unwrap().len(), 3);
    assert_eq!(
        persisted::remove(&app.db, &[sha256_hex(TOWNS)])
            .await
            .unwrap(),
        1
    );
    assert_eq!(persisted::list(&app.db).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_allow_list_mode_only_registered_operations_run_on_sqlite() {
    allow_list(TestApp::sqlite_configured(|c| c.persisted.mode = PersistedMode::AllowList).await)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_allow_list_mode_only_registered_operations_run_on_postgres() {
    if let Some(app) =
        TestApp::postgres_configured(|c| c.persisted.mode = PersistedMode::AllowList).await
    {
        allow_list(app).await
    }
}
