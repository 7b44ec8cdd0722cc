//! Generates small synthetic sets into in-memory SQLite and reads them back.

use std::path::Path;

use migration::{Migrator, MigratorTrait};
use sea_orm::{Database, DatabaseConnection, EntityTrait, PaginatorTrait};

use super::*;
use qii_domain::scoring::{rank, raw_table, Level};
use qii_engine::rules::Registry;

async fn fresh() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    Migrator::up(&db, None).await.expect("migrations");
    db
}

fn options(towns: usize, events: usize) -> SyntheticOptions {
    SyntheticOptions {
        towns,
        events,
        period: "2017-11".parse().unwrap(),
        seed: 7,
        progress: false,
    }
}

fn registry() -> Registry {
    Registry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules")).unwrap()
}

#[tokio::test]
async fn the_event_budget_is_met_and_every_figure_of_the_index_has_data() {
    let db = fresh().await;
    let summary = load(&db, &options(20, 5_000)).await.expect("load");
    assert_eq!(summary.towns, 20);
    let events = summary.events.total();
    // Met to within one activity with its loop.
    assert!((5_000..5_400).contains(&events), "{summary}");
    assert_eq!(
        activity_signup::Entity::find().count(&db).await.unwrap(),
        summary.events.signups
    );
    assert_eq!(
        org_unit::Entity::find().count(&db).await.unwrap(),
        summary.org_units
    );

    let registry = registry();
    let period: Period = "2017-11".parse().unwrap();
    let rules = registry.activity_rules().unwrap();
    let table = raw_table(
        &db,
        &period,
        Level::Town,
        qii_domain::scoring::Figures::Events(&rules),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(table.units.len(), 20);
    let version = registry.version_for("qii", &period).unwrap();
    for (_, indicator) in version.spec.indicators() {
        let column = &table.figures[&indicator.raw];
        assert!(
            column.iter().flatten().any(|x| *x > 0.0),
            "no data for {}",
            indicator.raw
        );
    }
    assert!(table.targets["registrations"].iter().all(Option::is_some));
    let ranking = rank(&db, &registry, "qii", &period, Level::Town)
        .await
        .unwrap();
    let totals: Vec<f64> = ranking.scores.iter().map(|s| s.total).collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]));
    assert!(totals[0] > totals[19], "the ranking spreads: {totals:?}");
}

#[tokio::test]
async fn the_same_options_give_the_same_rows_and_a_loaded_database_is_refused() {
    let (a, b) = (fresh().await, fresh().await);
    let first = load(&a, &options(5, 800)).await.unwrap();
    let second = load(&b, &options(5, 800)).await.unwrap();
    assert_eq!(first, second);
    let titles = |rows: Vec<activity::Model>| {
        rows.into_iter()
            .map(|r| (r.id, r.title, r.starts_at))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(activity::Entity::find().all(&a).await.unwrap()),
        titles(activity::Entity::find().all(&b).await.unwrap())
    );
    let err = load(&a, &options(5, 800)).await.unwrap_err();
    assert!(err.to_string().contains("empty database"), "{err}");
}
