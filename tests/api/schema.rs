//! The checked-in `schema.graphql` is the schema the code serves.

#[test]
fn the_checked_in_schema_matches_the_code() {
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
            .expect("schema.graphql exists at the repository root");
    let generated = qii_graphql::sdl();
    assert!(
        checked_in == generated,
        "schema.graphql is out of date: run `cargo run -- schema --out schema.graphql` and commit it"
    );
}

/// Every type, field, argument, input field and enum value the schema serves says what it is:
/// a front-end team reads the schema, not the code.
#[tokio::test]
async fn every_type_field_and_argument_has_a_description() {
    const QUERY: &str = r#"{ __schema { types {
        name kind description
        fields(includeDeprecated: true) { name description args { name description } }
        inputFields { name description }
        enumValues(includeDeprecated: true) { name description }
    } } }"#;
    let response = qii_graphql::schema().execute(QUERY).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response
        .data
        .into_json()
        .expect("introspection answers JSON");
    let blank = |v: &serde_json::Value| v.as_str().is_none_or(|s| s.trim().is_empty());
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().expect("types") {
        let name = ty["name"].as_str().unwrap_or_default();
        // The introspection types and the built-in scalars are the specification's.
        if name.starts_with("__") || ["Boolean", "Float", "ID", "Int", "String"].contains(&name) {
            continue;
        }
        if blank(&ty["description"]) {
            missing.push(format!("type {name}"));
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap_or_default();
            if blank(&field["description"]) {
                missing.push(format!("field {name}.{field_name}"));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if blank(&arg["description"]) {
                    let arg_name = arg["name"].as_str().unwrap_or_default();
                    missing.push(format!("argument {name}.{field_name}({arg_name})"));
                }
            }
        }
        for (list, what) in [("inputFields", "input field"), ("enumValues", "enum value")] {
            for item in ty[list].as_array().into_iter().flatten() {
                if blank(&item["description"]) {
                    let item_name = item["name"].as_str().unwrap_or_default();
                    missing.push(format!("{what} {name}.{item_name}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} places in the schema have no description (a `///` comment on the Rust item, or \
         `#[graphql(desc = \"…\")]` on an argument):\n{}",
        missing.len(),
        missing.join("\n")
    );
}
