//! Every relation field of the schema, walked as the administrator of another town: what a
//! relation shows is what that administrator may read at the top level, field for field.
//!
//! The walk is driven by introspection, so a relation field added tomorrow is walked too.
//! A node type is one with an `id` and a root field that fetches it by id (`activity(id:)`);
//! its relations are its fields, without required arguments, that return node types
//! (directly, as a list or as a connection). Starting from the root lists, every node
//! reached through a relation is fetched again at the root: it must be there, and every
//! scalar field without arguments must read the same (a name masked at the root is masked
//! through every relation).
//!
//! One exception is declared: a member outside the caller's reach appears, through a record
//! the caller may read (a sign-up at its activity, the asker of a public question), as a
//! masked reference. The root does not list such members; through a relation their
//! personal fields must then read masked, unlike what a city administrator sees.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use qii_domain::identity::Role;
use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp};

const INTROSPECTION: &str = r#"{ __schema {
    queryType { name }
    types { name kind fields {
        name
        args { name type { kind } defaultValue }
        type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
    } }
} }"#;

/// Types that may appear through a relation though the root hides them, and the personal
/// fields they then show masked.
const MASKED_REFERENCES: &[(&str, &[&str])] = &[("Member", &["nickname", "mobile"])];

/// Nodes fetched per type: enough to cross towns, few enough to stay quick.
const PER_TYPE: usize = 8;

/// A field's type with lists and non-nulls taken off.
fn named(ty: &Value) -> (&str, &str) {
    let mut ty = ty;
    while ty["name"].is_null() && !ty["ofType"].is_null() {
        ty = &ty["ofType"];
    }
    (
        ty["kind"].as_str().unwrap_or_default(),
        ty["name"].as_str().unwrap_or_default(),
    )
}

fn required_args(field: &Value) -> Vec<String> {
    field["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null())
        .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// How a relation field reaches its node type.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Direct,
    Connection,
}

struct Schema {
    /// Node type → root field fetching one by id.
    fetch: BTreeMap<String, String>,
    /// Node type → its scalar fields without arguments.
    scalars: BTreeMap<String, Vec<String>>,
    /// Node type → (field, target node type, shape).
    relations: BTreeMap<String, Vec<(String, String, Shape)>>,
    /// Root list fields without required arguments: (field, node type).
    roots: Vec<(String, String)>,
}

fn schema_of(introspection: &Value) -> Schema {
    let schema = &introspection["__schema"];
    let query = schema["queryType"]["name"].as_str().unwrap_or("Query");
    let types: BTreeMap<&str, &Value> = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap_or_default(), t))
        .collect();
    let fields = |t: &str| -> Vec<&Value> {
        types.get(t).map_or(Vec::new(), |t| {
            t["fields"]
                .as_array()
                .map_or(Vec::new(), |f| f.iter().collect())
        })
    };
    // The node a connection type carries, from its `nodes` field.
    let connection_node = |t: &str| -> Option<String> {
        if !t.ends_with("Connection") {
            return None;
        }
        fields(t)
            .into_iter()
            .find(|f| f["name"] == "nodes")
            .map(|f| named(&f["type"]).1.to_owned())
    };
    let mut fetch = BTreeMap::new();
    for field in fields(query) {
        let (kind, target) = named(&field["type"]);
        let args: Vec<&str> = field["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap_or_default())
            .collect();
        let id_only = args.contains(&"id") && required_args(field).iter().all(|a| a == "id");
        let has_id = fields(target).iter().any(|f| f["name"] == "id");
        if kind == "OBJECT" && id_only && has_id && field["type"]["kind"] != "NON_NULL" {
            fetch.insert(
                target.to_owned(),
                field["name"].as_str().unwrap().to_owned(),
            );
        }
    }
    let mut scalars = BTreeMap::new();
    let mut relations = BTreeMap::new();
    for node in fetch.keys() {
        let mut own = Vec::new();
        let mut rels = Vec::new();
        for field in fields(node) {
            let name = field["name"].as_str().unwrap().to_owned();
            let (kind, target) = named(&field["type"]);
            let no_args = field["args"].as_array().is_none_or(|a| a.is_empty());
            if matches!(kind, "SCALAR" | "ENUM") && no_args {
                own.push(name);
            } else if !required_args(field).is_empty() {
                continue;
            } else if fetch.contains_key(target) {
                rels.push((name, target.to_owned(), Shape::Direct));
            } else if let Some(inner) = connection_node(target).filter(|n| fetch.contains_key(n)) {
                rels.push((name, inner, Shape::Connection));
            }
        }
        scalars.insert(node.clone(), own);
        relations.insert(node.clone(), rels);
    }
    let roots = fields(query)
        .into_iter()
        .filter(|f| required_args(f).is_empty())
        .filter_map(|f| {
            let inner = connection_node(named(&f["type"]).1)?;
            fetch
                .contains_key(&inner)
                .then(|| (f["name"].as_str().unwrap().to_owned(), inner))
        })
        .collect();
    Schema {
        fetch,
        scalars,
        relations,
        roots,
    }
}

/// `id` plus the node type's scalar fields.
fn selection(schema: &Schema, node: &str) -> String {
    format!("__typename {}", schema.scalars[node].join(" "))
}

/// The nodes a relation answered, each with its scalars.
fn nodes_of(value: &Value, shape: Shape) -> Vec<Value> {
    let items = match shape {
        Shape::Connection => value["nodes"].clone(),
        Shape::Direct => value.clone(),
    };
    match items {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

async fn ask(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.graphql_as(Some(token), query, json!({})).await;
    for error in response["errors"].as_array().into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
        assert!(
            matches!(code, "FORBIDDEN" | "NOT_FOUND"),
            "{query}\nanswered {code}: {error}"
        );
    }
    response["data"].clone()
}

/// What is wrong with a node shown through a relation though the root hides it: nothing
/// when its type is a masked reference and every personal field reads otherwise than a
/// city administrator reads it.
async fn unmasked(app: &TestApp, schema: &Schema, node: &str, shown: &Value) -> Option<String> {
    let Some((_, personal)) = MASKED_REFERENCES.iter().find(|(t, _)| *t == node) else {
        return Some(format!("{shown} is hidden at the root"));
    };
    let id = shown["id"].as_str().unwrap_or_default();
    let full = app
        .data(
            &format!(
                "{{ n: {}(id: \"{id}\") {{ {} }} }}",
                schema.fetch[node],
                selection(schema, node)
            ),
            json!({}),
        )
        .await;
    let clear: Vec<&&str> = personal
        .iter()
        .filter(|field| !shown[**field].is_null() && shown[**field] == full["n"][**field])
        .collect();
    (!clear.is_empty()).then(|| format!("{clear:?} read in full: {shown}"))
}

both_databases! {
    async fn relation_fields_walked_by_another_towns_administrator_show_only_what_it_may_read(app) {
        app.load_demo(0.05).await;
        let towns = app
            .data("{ orgUnits(filter: {kind: TOWN}, first: 2) { nodes { id } } }", json!({}))
            .await;
        let viewer_town: i64 = towns["orgUnits"]["nodes"][1]["id"].as_str().unwrap().parse().unwrap();
        let token = app.token_for(Role::TownAdmin(viewer_town), "another-town-admin");
        let schema = schema_of(&app.data(INTROSPECTION, json!({})).await);
        assert!(schema.relations.values().map(Vec::len).sum::<usize>() >= 20, "the walk found the relations");

        // Start from what the root lists show.
        let mut queue = VecDeque::new();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for (field, node) in &schema.roots {
            let data = ask(&app, &token, &format!("{{ {field}(first: {PER_TYPE}) {{ nodes {{ id }} }} }}")).await;
            for n in data[field.as_str()]["nodes"].as_array().into_iter().flatten() {
                let id = n["id"].as_str().unwrap().to_owned();
                if seen.insert((node.clone(), id.clone())) {
                    queue.push_back((node.clone(), id));
                }
            }
        }
        let mut walked: BTreeMap<String, usize> = BTreeMap::new();
        let mut relations_walked = BTreeSet::new();
        let mut leaks = Vec::new();
        while let Some((node, id)) = queue.pop_front() {
            let count = walked.entry(node.clone()).or_default();
            if *count >= PER_TYPE || schema.relations[&node].is_empty() {
                continue;
            }
            *count += 1;
            let fields: Vec<String> = schema.relations[&node]
                .iter()
                .map(|(field, target, shape)| match shape {
                    Shape::Direct => format!("{field} {{ {} }}", selection(&schema, target)),
                    Shape::Connection => format!("{field} {{ nodes {{ {} }} }}", selection(&schema, target)),
                })
                .collect();
            let fetch = &schema.fetch[&node];
            let data = ask(&app, &token, &format!("{{ n: {fetch}(id: \"{id}\") {{ {} }} }}", fields.join(" "))).await;
            for (field, target, shape) in &schema.relations[&node] {
                for related in nodes_of(&data["n"][field.as_str()], *shape) {
                    relations_walked.insert(format!("{node}.{field}"));
                    let related_id = related["id"].as_str().unwrap().to_owned();
                    // The same node, fetched at the root by the same administrator.
                    let root = ask(
                        &app,
                        &token,
                        &format!("{{ n: {}(id: \"{related_id}\") {{ {} }} }}", schema.fetch[target], selection(&schema, target)),
                    )
                    .await;
                    if root["n"].is_null() {
                        if let Some(problem) = unmasked(&app, &schema, target, &related).await {
                            leaks.push(format!("{node} {id} .{field} shows {target} {related_id}: {problem}"));
                        }
                    } else if root["n"] != related {
                        leaks.push(format!(
                            "{node} {id} .{field} shows {target} {related_id} as {related}\n  but at the root it is {}",
                            root["n"]
                        ));
                    }
                    if seen.insert((target.clone(), related_id.clone())) {
                        queue.push_back((target.clone(), related_id));
                    }
                }
            }
        }
        assert!(leaks.is_empty(), "{} relation(s) show more than the root:\n{}", leaks.len(), leaks.join("\n"));
        // The walk went through relations that cross towns, not just a few.
        assert!(relations_walked.len() >= 15, "walked only {relations_walked:?}");
    }
}
