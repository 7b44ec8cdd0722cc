//! Raw indicator figures aggregated in the database, checked against direct counts.
//! (Scoring is not yet exposed over GraphQL; these tests call the aggregation on the
//! test's database directly.)

use entities::enums::OrgUnitKind;
use qii_domain::scoring::{raw_table, Level};
use qii_engine::period::Period;
use sea_orm::{ConnectionTrait, Statement};

use crate::{both_databases, helpers::TestApp};

async fn scalar(app: &TestApp, sql: &str) -> f64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap() as f64
}

fn total(table: &qii_engine::rules::compute::RawTable, figure: &str) -> f64 {
    table.figures[figure].iter().flatten().sum()
}

both_databases! {
    async fn town_figures_for_a_month_match_direct_counts(app) {
        app.load_demo(0.05).await;
        let october: Period = "2017-10".parse().unwrap();
        let registry = qii_engine::rules::Registry::load(&crate::helpers::shipped_rules()).unwrap();
        let targets = registry.targets_for(&october);
        let table = raw_table(&app.db, &october, Level::Town, qii_domain::scoring::Figures::Events(&crate::helpers::shipped_activity_rules(1)), &targets).await.unwrap();
        assert_eq!(table.units.len(), 32);
        for values in table.figures.values() {
            assert_eq!(values.len(), 32);
        }

        // Between 2017-09-30T16:00Z and 2017-10-31T16:00Z (Asia/Shanghai October).
        let from = "'2017-09-30T16:00:00+00:00'";
        let to = "'2017-10-31T16:00:00+00:00'";
        let pg = app.db.get_database_backend() == sea_orm::DbBackend::Postgres;
        let t = |col: &str| if pg { format!("{col} >= TIMESTAMPTZ {from} AND {col} < TIMESTAMPTZ {to}") } else { format!("{col} >= {from} AND {col} < {to}") };

        let questions = scalar(&app, &format!(
            "SELECT COUNT(*) AS n FROM question q JOIN org_unit u ON u.id = q.addressed_to_id \
             WHERE q.status = 'visible' AND LENGTH(TRIM(q.title)) + LENGTH(TRIM(q.body)) >= 5 \
             AND u.town_id IS NOT NULL AND {}", t("q.asked_at"))).await;
        assert_eq!(total(&table, "valid_questions"), questions);
        assert!(questions > 0.0);

        let eligible = scalar(&app, &format!(
            "SELECT COUNT(*) AS n FROM activity a JOIN org_unit u ON u.id = a.org_unit_id \
             WHERE u.town_id IS NOT NULL AND {} \
             AND EXISTS (SELECT 1 FROM activity_signup s WHERE s.activity_id = a.id) \
             AND EXISTS (SELECT 1 FROM activity_photo p WHERE p.activity_id = a.id AND p.uploaded_at > a.ends_at) \
             AND (a.heavyweight = {no} OR EXISTS (SELECT 1 FROM incentive_application ia JOIN incentive_intent ii ON ii.application_id = ia.id \
                  WHERE ia.activity_id = a.id AND ia.status = 'approved' AND ii.intent = 'heavyweight'))",
            t("a.ends_at"), no = if pg { "FALSE" } else { "0" })).await;
        assert_eq!(total(&table, "eligible_activities"), eligible);

        let stricter = raw_table(&app.db, &october, Level::Town, qii_domain::scoring::Figures::Events(&crate::helpers::shipped_activity_rules(1_000_000)), &targets).await.unwrap();
        assert_eq!(total(&stricter, "eligible_activities"), 0.0, "thresholds come from the rules");

        for rate in table.figures["mobile_binding_rate"].iter().flatten() {
            assert!((0.0..=1.0).contains(rate));
        }
        for days in table.figures["update_days"].iter().flatten() {
            assert!((0.0..=31.0).contains(days));
        }
        assert!(total(&table, "update_days") > 0.0);
        assert!(total(&table, "valid_visits") > 0.0);
        assert!(total(&table, "registrations") >= total(&table, "youth_homes"));
        assert_eq!(table.targets["registrations"].iter().flatten().count(), 32, "every town has its registrations target for the month, from the targets script");
        assert_eq!(table.targets["update_days"].iter().flatten().count(), 32, "the demo's two overrides replace two of the script's values");
        assert_eq!(table.targets["update_days"].iter().flatten().filter(|v| **v != 20.0).count(), 2);
    }

    async fn a_month_is_ranked_with_v2_and_every_total_is_explained_by_its_indicators(app) {
        app.load_demo(0.05).await;
        let rules_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let registry = qii_engine::rules::Registry::load(&rules_dir).unwrap();
        let october: Period = "2017-10".parse().unwrap();
        let ranking = qii_domain::scoring::rank(&app.db, &registry, "qii", &october, Level::Town).await.unwrap();
        assert_eq!(ranking.version, "2.0.1");
        let source = std::fs::read_to_string(rules_dir.join("qii/v2.rhai")).unwrap();
        assert_eq!(ranking.hash, qii_engine::rules::sandbox::content_hash(&source));
        assert_eq!(ranking.scores.len(), 32);
        assert_eq!(ranking.scores[0].rank, 1);
        let mut previous = f64::INFINITY;
        for score in &ranking.scores {
            assert!(score.total <= previous + 1e-9, "best first");
            previous = score.total;
            assert!((0.0..=100.0).contains(&score.total));
            let explained: f64 = score.indicators.iter().map(|i| i.contribution).sum();
            assert!((explained - score.total).abs() < 1e-6, "indicators explain the total");
            assert_eq!(score.indicators.len(), 14);
        }
        let distinct: std::collections::HashSet<u64> = ranking.scores.iter().map(|s| (s.total * 100.0) as u64).collect();
        assert!(distinct.len() > 16, "towns differ enough to rank");
    }

    async fn youth_homes_can_be_ranked_on_their_own(app) {
        app.load_demo(0.05).await;
        let q4: Period = "2017-Q4".parse().unwrap();
        let table = raw_table(&app.db, &q4, Level::Kind(OrgUnitKind::YouthHome), qii_domain::scoring::Figures::Events(&crate::helpers::shipped_activity_rules(1)), &[]).await.unwrap();
        let homes = scalar(&app, "SELECT COUNT(*) AS n FROM org_unit WHERE kind = 'youth_home'").await;
        assert_eq!(table.units.len() as f64, homes);
        assert!(total(&table, "youth_home_activities") > 0.0);
    }
}
