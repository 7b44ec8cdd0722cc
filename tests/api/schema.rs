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
