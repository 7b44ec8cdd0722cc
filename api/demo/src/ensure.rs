//! Makes sure the real structure is in the database: districts and org units are looked up
//! by their unique code and inserted only when missing, so loading twice changes nothing.
//!
//! The structure is small (about 120 rows), so rows are inserted one at a time; the bulk
//! loader is only needed for the generated activity.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use entities::{district, enums::OrgUnitKind, org_unit};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, Set,
};

use super::structure::{
    self, date, TownSpec, CITY_CODE, CITY_NAME, CITY_NAME_EN, CITY_UNITS, CITY_UNIT_DISTRICT,
    DISTRICTS, SUB_UNITS, TOWNS,
};
use qii_engine::time::day_start;

/// A Youth Home as stored, with what the generator needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct HomeRef {
    pub id: i64,
    pub founded_on: NaiveDate,
    pub registered: bool,
}

/// A town as stored, with its static description.
pub(crate) struct TownRef {
    pub id: i64,
    pub spec: &'static TownSpec,
    pub homes: Vec<HomeRef>,
    /// Schools and enterprises below the town.
    pub sub_units: Vec<i64>,
}

/// Ids of the whole structure, in the order of the static tables.
pub(crate) struct Structure {
    pub city_id: i64,
    pub district_ids: Vec<i64>,
    pub towns: Vec<TownRef>,
    pub city_units: Vec<i64>,
}

/// Everything about an org unit to insert, before it has an id.
struct NewUnit {
    code: String,
    name: String,
    name_en: String,
    kind: OrgUnitKind,
    parent_id: i64,
    town_id: Option<i64>,
    district_id: i64,
    population_coefficient: Option<f64>,
    registered: bool,
    founded_on: Option<NaiveDate>,
}

/// Finds or inserts the districts, the city, the towns, their Youth Homes and sub-units and
/// the city-level units.
pub(crate) async fn structure(txn: &DatabaseTransaction) -> anyhow::Result<Structure> {
    let district_ids = districts(txn).await?;
    let mut existing: HashMap<String, org_unit::Model> = org_unit::Entity::find()
        .all(txn)
        .await
        .context("reading org units")?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect();

    let city_id = match existing.get(CITY_CODE) {
        Some(city) => city.id,
        None => insert_city(txn).await?,
    };

    let mut towns = Vec::with_capacity(TOWNS.len());
    for (index, spec) in TOWNS.iter().enumerate() {
        let district_id = district_ids[spec.district];
        let new = NewUnit {
            code: spec.code(),
            name: spec.name.to_owned(),
            name_en: spec.pinyin.to_owned(),
            kind: OrgUnitKind::Town,
            parent_id: city_id,
            town_id: None,
            district_id,
            population_coefficient: Some(spec.population_coefficient()),
            registered: false,
            founded_on: None,
        };
        let id = find_or_insert(txn, &mut existing, new).await?.id;
        let mut homes = Vec::new();
        for home in structure::youth_homes(index, spec) {
            let new = NewUnit {
                code: home.code,
                name: home.name,
                name_en: home.name_en,
                kind: OrgUnitKind::YouthHome,
                parent_id: id,
                town_id: Some(id),
                district_id,
                population_coefficient: None,
                registered: home.registered,
                founded_on: Some(home.founded_on),
            };
            let stored = find_or_insert(txn, &mut existing, new).await?;
            homes.push(HomeRef {
                id: stored.id,
                founded_on: stored.founded_on.unwrap_or(home.founded_on),
                registered: stored.registered,
            });
        }
        let mut sub_units = Vec::new();
        for sub in SUB_UNITS.iter().filter(|s| s.town == spec.pinyin) {
            let new = NewUnit {
                code: sub.code(),
                name: sub.name.to_owned(),
                name_en: sub.name_en.to_owned(),
                kind: if sub.school {
                    OrgUnitKind::School
                } else {
                    OrgUnitKind::Enterprise
                },
                parent_id: id,
                town_id: Some(id),
                district_id,
                population_coefficient: None,
                registered: false,
                founded_on: None,
            };
            sub_units.push(find_or_insert(txn, &mut existing, new).await?.id);
        }
        towns.push(TownRef {
            id,
            spec,
            homes,
            sub_units,
        });
    }

    // A town is its own town; the id is only known after the insert.
    org_unit::Entity::update_many()
        .col_expr(org_unit::Column::TownId, Expr::col(org_unit::Column::Id))
        .filter(org_unit::Column::Kind.eq(OrgUnitKind::Town))
        .filter(org_unit::Column::TownId.is_null())
        .filter(org_unit::Column::Id.is_in(towns.iter().map(|t| t.id)))
        .exec(txn)
        .await
        .context("setting the towns' own town_id")?;

    let mut city_units = Vec::new();
    for unit in &CITY_UNITS {
        let new = NewUnit {
            code: unit.code.to_owned(),
            name: unit.name.to_owned(),
            name_en: unit.name_en.to_owned(),
            kind: OrgUnitKind::CityUnit,
            parent_id: city_id,
            town_id: None,
            district_id: district_ids[CITY_UNIT_DISTRICT],
            population_coefficient: None,
            registered: false,
            founded_on: None,
        };
        city_units.push(find_or_insert(txn, &mut existing, new).await?.id);
    }
    tracing::info!(
        towns = towns.len(),
        youth_homes = towns.iter().map(|t| t.homes.len()).sum::<usize>(),
        "demo: structure in place"
    );
    Ok(Structure {
        city_id,
        district_ids,
        towns,
        city_units,
    })
}

/// The three districts' ids, inserting the missing ones.
async fn districts(txn: &DatabaseTransaction) -> anyhow::Result<Vec<i64>> {
    let stored: HashMap<String, i64> = district::Entity::find()
        .all(txn)
        .await
        .context("reading districts")?
        .into_iter()
        .map(|d| (d.code, d.id))
        .collect();
    let mut ids = Vec::with_capacity(DISTRICTS.len());
    for spec in &DISTRICTS {
        let id = match stored.get(spec.code) {
            Some(id) => *id,
            None => {
                district::ActiveModel {
                    id: NotSet,
                    code: Set(spec.code.to_owned()),
                    name: Set(spec.name.to_owned()),
                    name_en: Set(spec.name_en.to_owned()),
                    position: Set(spec.position),
                }
                .insert(txn)
                .await
                .with_context(|| format!("inserting district {}", spec.code))?
                .id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// When the platform's accounts were opened — demo assumption (Youth Day 2016).
fn platform_opened() -> DateTime<Utc> {
    day_start(date(2016, 5, 4)) + chrono::Duration::hours(9)
}

async fn insert_city(txn: &DatabaseTransaction) -> anyhow::Result<i64> {
    let city = org_unit::ActiveModel {
        id: NotSet,
        code: Set(CITY_CODE.to_owned()),
        name: Set(CITY_NAME.to_owned()),
        name_en: Set(Some(CITY_NAME_EN.to_owned())),
        kind: Set(OrgUnitKind::City),
        parent_id: Set(None),
        town_id: Set(None),
        district_id: Set(None),
        population_coefficient: Set(None),
        registered: Set(false),
        founded_on: Set(None),
        created_at: Set(platform_opened()),
    }
    .insert(txn)
    .await
    .context("inserting the city")?;
    Ok(city.id)
}

/// The stored unit with the same code, or the new one after inserting it.
async fn find_or_insert(
    txn: &DatabaseTransaction,
    existing: &mut HashMap<String, org_unit::Model>,
    new: NewUnit,
) -> anyhow::Result<org_unit::Model> {
    if let Some(found) = existing.get(&new.code) {
        return Ok(found.clone());
    }
    // A Youth Home's account is opened the morning it is founded; the others at launch.
    let created_at = new
        .founded_on
        .map(|d| day_start(d) + chrono::Duration::hours(9))
        .unwrap_or_else(platform_opened);
    let code = new.code.clone();
    let model = org_unit::ActiveModel {
        id: NotSet,
        code: Set(new.code),
        name: Set(new.name),
        name_en: Set(Some(new.name_en)),
        kind: Set(new.kind),
        parent_id: Set(Some(new.parent_id)),
        town_id: Set(new.town_id),
        district_id: Set(Some(new.district_id)),
        population_coefficient: Set(new.population_coefficient),
        registered: Set(new.registered),
        founded_on: Set(new.founded_on),
        created_at: Set(created_at),
    }
    .insert(txn)
    .await
    .with_context(|| format!("inserting org unit {code}"))?;
    existing.insert(code, model.clone());
    Ok(model)
}
