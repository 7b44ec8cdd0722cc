//! Loads the demo into in-memory SQLite databases migrated by `migration::Migrator`.

use std::collections::{BTreeMap, BTreeSet};

use entities::{
    activity, activity_photo, activity_review, daily_visit, district, org_unit, service_request,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter};

use super::*;

async fn fresh() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    Migrator::up(&db, None).await.expect("migrations");
    db
}

fn small() -> DemoOptions {
    DemoOptions {
        seed: 2017,
        scale: 0.05,
        progress: false,
    }
}

#[tokio::test]
async fn loads_the_real_structure() {
    let db = fresh().await;
    let summary = load(&db, &small()).await.expect("load");
    assert!(!summary.already_loaded);
    assert_eq!(summary.districts, 3);
    assert_eq!(summary.towns, 32);

    let districts: BTreeMap<i64, String> = district::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.id, d.code))
        .collect();
    let units = org_unit::Entity::find().all(&db).await.unwrap();
    let mut by_district: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for town in units.iter().filter(|u| u.kind == OrgUnitKind::Town) {
        assert_eq!(town.town_id, Some(town.id), "a town is its own town");
        assert!(town.code.starts_with("town-"));
        let code = districts[&town.district_id.unwrap()].clone();
        by_district
            .entry(code)
            .or_default()
            .insert(town.name.clone());
    }
    let expect = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        by_district["D1"],
        expect(&[
            "莞城",
            "石龙",
            "虎门",
            "东城",
            "万江",
            "南城",
            "中堂",
            "望牛墩",
            "麻涌",
            "石碣",
            "高埗"
        ])
    );
    assert_eq!(
        by_district["D2"],
        expect(&[
            "洪梅",
            "道滘",
            "厚街",
            "沙田",
            "长安",
            "寮步",
            "大岭山",
            "大朗",
            "黄江"
        ])
    );
    assert_eq!(
        by_district["D3"],
        expect(&[
            "樟木头",
            "凤岗",
            "塘厦",
            "谢岗",
            "清溪",
            "常平",
            "桥头",
            "横沥",
            "东坑",
            "企石",
            "石排",
            "茶山"
        ])
    );
    let city_units: BTreeSet<String> = units
        .iter()
        .filter(|u| u.kind == OrgUnitKind::CityUnit)
        .map(|u| u.name.clone())
        .collect();
    assert_eq!(city_units, expect(&["莞香花", "爱心家园", "市志联"]));
    let coefficients: f64 = units.iter().filter_map(|u| u.population_coefficient).sum();
    assert!((coefficients - 1.0).abs() < 1e-9);

    for town in units.iter().filter(|u| u.kind == OrgUnitKind::Town) {
        let homes: Vec<_> = units
            .iter()
            .filter(|u| u.kind == OrgUnitKind::YouthHome && u.parent_id == Some(town.id))
            .collect();
        assert!(
            homes.iter().any(|h| h.registered),
            "{} has a registered Youth Home",
            town.name
        );
        for home in homes {
            assert_eq!(home.town_id, Some(town.id));
            assert_eq!(home.district_id, town.district_id);
            assert_eq!(
                home.founded_on.map(|d| d.format("%Y").to_string()),
                Some("2017".to_owned())
            );
        }
    }
    assert!(units
        .iter()
        .any(|u| u.code == "yh-shijie-1" && u.name == "石碣青年之家"));
}

#[tokio::test]
async fn a_second_load_changes_nothing() {
    let db = fresh().await;
    let first = load(&db, &small()).await.expect("first load");
    let second = load(&db, &small()).await.expect("second load");
    assert!(second.already_loaded);
    assert_eq!(
        DemoSummary {
            already_loaded: false,
            ..second
        },
        first
    );
}

async fn fingerprint(db: &DatabaseConnection) -> (i64, i64, usize, i64) {
    let ratings: i64 = activity_review::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|r| i64::from(r.rating))
        .sum();
    let visits: i64 = daily_visit::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|v| v.visits)
        .sum();
    let titles = activity::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|a| a.title.len())
        .sum();
    let service: i64 = service_request::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r.rating.map(i64::from))
        .sum();
    (ratings, visits, titles, service)
}

#[tokio::test]
async fn loads_are_deterministic() {
    let (a, b) = (fresh().await, fresh().await);
    let first = load(&a, &small()).await.expect("load a");
    let second = load(&b, &small()).await.expect("load b");
    assert_eq!(first, second);
    assert_eq!(fingerprint(&a).await, fingerprint(&b).await);
    assert!(first.reviews > 0 && first.signups > 0 && first.answers > 0);

    let c = fresh().await;
    let other = load(&c, &DemoOptions { seed: 7, ..small() })
        .await
        .expect("load c");
    assert_eq!(other.towns, 32);
    assert_ne!(
        fingerprint(&a).await,
        fingerprint(&c).await,
        "another seed gives other data"
    );
}

#[tokio::test]
async fn the_activity_loop_varies_between_activities() {
    let db = fresh().await;
    load(
        &db,
        &DemoOptions {
            scale: 0.1,
            ..small()
        },
    )
    .await
    .expect("load");
    let activities = activity::Entity::find().all(&db).await.unwrap();
    let photos = activity_photo::Entity::find().all(&db).await.unwrap();
    let ends: BTreeMap<i64, _> = activities.iter().map(|a| (a.id, a.ends_at)).collect();
    let after: BTreeSet<i64> = photos
        .iter()
        .filter(|p| p.uploaded_at > ends[&p.activity_id])
        .map(|p| p.activity_id)
        .collect();
    let any: BTreeSet<i64> = photos.iter().map(|p| p.activity_id).collect();
    assert!(
        !after.is_empty(),
        "some activities have photos after the end"
    );
    assert!(
        any.len() < activities.len(),
        "some activities have no photos"
    );
    assert!(
        any.len() > after.len(),
        "some only have photos from before the end"
    );
    assert!(activities.iter().any(|a| a.heavyweight) || activities.len() < 40);
    let bad = activity_review::Entity::find()
        .filter(activity_review::Column::Rating.lte(2))
        .all(&db)
        .await
        .unwrap();
    assert!(
        bad.len()
            < activity_review::Entity::find()
                .all(&db)
                .await
                .unwrap()
                .len()
    );
}

#[tokio::test]
async fn a_failed_load_writes_nothing() {
    use sea_orm::ConnectionTrait;
    let db = fresh().await;
    // The last stage cannot insert: the whole load must roll back, structure included.
    db.execute_unprepared("DROP TABLE incentive_intent")
        .await
        .unwrap();
    let error = load(&db, &small()).await.expect_err("the load fails");
    assert!(
        format!("{error:#}").contains("incentive_intent"),
        "{error:#}"
    );
    assert_eq!(district::Entity::find().all(&db).await.unwrap().len(), 0);
    assert_eq!(org_unit::Entity::find().all(&db).await.unwrap().len(), 0);
}

#[tokio::test]
async fn a_scale_out_of_range_is_refused() {
    let db = fresh().await;
    for scale in [0.0, -1.0, f64::NAN, 1000.0] {
        assert!(load(&db, &DemoOptions { scale, ..small() }).await.is_err());
    }
}
