//! The layers stay layers: read from `cargo metadata`, each layer crate uses only the
//! layers below it, and the rules engine reaches no database or HTTP crate, however
//! indirectly. (Its one optional dependency, async-graphql behind the `graphql` feature,
//! gives the `Period` scalar to the schema; the engine itself does not need it.)

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// The layer crates, lowest first: each may use only those before it.
const LAYERS: &[&str] = &[
    "qii-engine",
    "qii-domain",
    "qii-reports",
    "qii-demo",
    "qii-graphql",
    "qii-server",
];

/// Crates that talk to a database or speak HTTP.
const DATABASE_OR_HTTP: &[&str] = &[
    "sea-orm",
    "sea-query",
    "sqlx",
    "sqlx-core",
    "sqlx-postgres",
    "sqlx-sqlite",
    "libsqlite3-sys",
    "entities",
    "migration",
    "axum",
    "hyper",
    "http",
    "reqwest",
    "tower-http",
    "async-graphql-axum",
];

/// The workspace's metadata, read once for every test here.
fn metadata() -> Value {
    static METADATA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    METADATA.get_or_init(read_metadata).clone()
}

fn read_metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("metadata is JSON")
}

/// The normal (not dev-only) dependencies of every package, by name.
fn normal_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let metadata = metadata();
    let names: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve nodes")
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dep| {
                    dep["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|kind| kind["kind"].as_str() != Some("dev"))
                })
                .map(|dep| names[dep["pkg"].as_str().unwrap()].to_owned())
                .collect();
            (names[node["id"].as_str().unwrap()].to_owned(), deps)
        })
        .collect()
}

fn closure(graph: &BTreeMap<String, BTreeSet<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending = vec![root.to_owned()];
    while let Some(name) = pending.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                pending.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn each_layer_crate_uses_only_the_layers_below_it() {
    let graph = normal_dependencies();
    for (position, layer) in LAYERS.iter().enumerate() {
        let deps = graph
            .get(*layer)
            .unwrap_or_else(|| panic!("{layer} is a workspace crate"));
        for dep in deps.iter().filter(|d| LAYERS.contains(&d.as_str())) {
            let below = LAYERS[..position].contains(&dep.as_str());
            assert!(below, "{layer} uses {dep}, which is not below it");
        }
    }
}

#[test]
fn the_rules_engine_reaches_no_database_or_http_crate() {
    let metadata = metadata();
    let engine = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "qii-engine")
        .expect("qii-engine is a workspace crate");
    let mut required = BTreeMap::new();
    for dep in engine["dependencies"].as_array().unwrap() {
        if dep["kind"].is_null() {
            let optional = dep["optional"].as_bool().unwrap_or(false);
            required.insert(dep["name"].as_str().unwrap().to_owned(), optional);
        }
    }
    let optional: Vec<&String> = required
        .iter()
        .filter(|(_, o)| **o)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        optional,
        ["async-graphql"],
        "the engine's optional dependencies"
    );
    let graph = normal_dependencies();
    let mut reached = BTreeSet::new();
    for (name, _) in required.iter().filter(|(_, optional)| !**optional) {
        reached.insert(name.clone());
        reached.extend(closure(&graph, name));
    }
    let forbidden: Vec<&&str> = DATABASE_OR_HTTP
        .iter()
        .filter(|name| reached.contains(**name))
        .collect();
    assert!(forbidden.is_empty(), "qii-engine reaches {forbidden:?}");
    // The check itself can fail: the server reaches all of them.
    let server = closure(&graph, "qii-server");
    assert!(server.contains("sea-orm") && server.contains("axum"));
}
