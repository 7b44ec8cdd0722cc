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

/// A module's path inside its crate (`["scoring", "raw"]`), read from a source file's place.
fn module_path(src: &std::path::Path, file: &std::path::Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The source without comments (line comments and doc comments, which may name paths).
fn without_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads a path or a `use` tree at the start of `text`: `a::b`, `a::{b, c::d}`, `{a, b}`;
/// every complete path it names is appended to `out`, each after `prefix`.
fn read_tree(text: &[char], at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let skip_space = |at: &mut usize| {
        while *at < text.len() && text[*at].is_whitespace() {
            *at += 1;
        }
    };
    let mut path = prefix;
    loop {
        skip_space(at);
        if *at < text.len() && text[*at] == '{' {
            *at += 1;
            loop {
                skip_space(at);
                if *at >= text.len() || text[*at] == '}' {
                    *at += 1;
                    return;
                }
                read_tree(text, at, path.clone(), out);
                skip_space(at);
                if *at < text.len() && text[*at] == ',' {
                    *at += 1;
                }
            }
        }
        let start = *at;
        while *at < text.len() && (text[*at].is_alphanumeric() || text[*at] == '_') {
            *at += 1;
        }
        if start == *at {
            out.push(path);
            return;
        }
        path.push(text[start..*at].iter().collect());
        if text[*at..].starts_with(&[':', ':']) {
            *at += 2;
        } else {
            out.push(path);
            return;
        }
    }
}

/// Every module path that `file` (module `here`) names through `crate::`, `super::` or
/// `self::`, resolved from the crate's root.
fn references(source: &str, here: &[String]) -> Vec<Vec<String>> {
    let text: Vec<char> = without_comments(source).chars().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let boundary = at == 0 || !(text[at - 1].is_alphanumeric() || text[at - 1] == '_');
        let starts = ["crate::", "super::", "self::"]
            .into_iter()
            .find(|k| boundary && text[at..].starts_with(&k.chars().collect::<Vec<_>>()));
        let Some(keyword) = starts else {
            at += 1;
            continue;
        };
        at += keyword.len();
        let mut paths = Vec::new();
        read_tree(&text, &mut at, Vec::new(), &mut paths);
        for mut path in paths {
            let mut base = match keyword {
                "crate::" => Vec::new(),
                "super::" => here[..here.len().saturating_sub(1)].to_vec(),
                _ => here.to_vec(),
            };
            while path.first().map(String::as_str) == Some("super") {
                path.remove(0);
                base.pop();
            }
            base.extend(path);
            found.push(base);
        }
    }
    found
}

/// Cycles between sibling modules of one crate: for each reference from module A to
/// module B, the edge joins the two children of their nearest common ancestor that hold
/// them (a module using its own parent or child is not an edge between siblings).
fn module_cycles(crate_dir: &str) -> Vec<Vec<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(crate_dir)
        .join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let here = module_path(&src, file);
        let source = std::fs::read_to_string(file).expect("a readable source file");
        for path in references(&source, &here) {
            let target = (0..=path.len())
                .rev()
                .map(|k| path[..k].to_vec())
                .find(|prefix| modules.contains(prefix))
                .unwrap_or_default();
            let common = here.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common < here.len() && common < target.len() {
                edges
                    .entry(here[..=common].join("::"))
                    .or_default()
                    .insert(target[..=common].join("::"));
            }
        }
    }
    strongly_connected(&edges)
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        components: Vec<Vec<String>>,
    }
    fn visit<'a>(walk: &mut Walk<'a>, node: &'a str) {
        let n = walk.index.len();
        walk.index.insert(node, n);
        walk.low.insert(node, n);
        walk.stack.push(node);
        let edges = walk.edges;
        for next in edges.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !walk.index.contains_key(next) {
                visit(walk, next);
                let low = walk.low[node].min(walk.low[next]);
                walk.low.insert(node, low);
            } else if walk.stack.contains(&next) {
                let low = walk.low[node].min(walk.index[next]);
                walk.low.insert(node, low);
            }
        }
        if walk.low[node] == walk.index[node] {
            let mut component = Vec::new();
            while let Some(top) = walk.stack.pop() {
                component.push(top.to_owned());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                walk.components.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        components: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node.as_str()) {
            visit(&mut walk, node);
        }
    }
    walk.components
}

#[test]
fn no_module_of_a_layer_crate_uses_a_sibling_that_uses_it_back() {
    let mut found = Vec::new();
    for layer in LAYERS {
        let dir = format!("api/{}", layer.trim_start_matches("qii-"));
        for cycle in module_cycles(&dir) {
            found.push(format!("{layer}: {}", cycle.join(" ⇄ ")));
        }
    }
    assert!(
        found.is_empty(),
        "modules that use each other, directly or around a circle:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_module_cycle_check_finds_a_cycle() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &["a"][..]),
    ]
    .into_iter()
    .map(|(from, to)| {
        let to = to.iter().map(|t| (*t).to_owned()).collect();
        (from.to_owned(), to)
    })
    .collect();
    assert_eq!(strongly_connected(&edges), [["a", "b", "c"]]);
    let here = ["scoring".to_owned(), "raw".to_owned()];
    let source = "use super::{families::Families, x::{y, z::W}};\nuse crate::service::audit;";
    assert_eq!(
        references(source, &here),
        [
            vec!["scoring", "families", "Families"],
            vec!["scoring", "x", "y"],
            vec!["scoring", "x", "z", "W"],
            vec!["service", "audit"],
        ]
    );
}
