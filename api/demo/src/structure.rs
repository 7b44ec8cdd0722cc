//! The real organisational structure of the Dongguan platform (DOMAIN.md §6), as static tables.
//!
//! Names, districts and codes are exact: partners key on the codes, so they never change.
//! Populations, engagement factors and the Youth Home counts are **demo assumptions** (not in
//! the source notices); they only shape the generated activity.

use chrono::NaiveDate;

/// A supervision district (片区).
pub(crate) struct DistrictSpec {
    pub code: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    pub position: i32,
}

/// The three supervision districts, in the order of their meetings.
pub(crate) const DISTRICTS: [DistrictSpec; 3] = [
    DistrictSpec {
        code: "D1",
        name: "第一片区",
        name_en: "District 1",
        position: 1,
    },
    DistrictSpec {
        code: "D2",
        name: "第二片区",
        name_en: "District 2",
        position: 2,
    },
    DistrictSpec {
        code: "D3",
        name: "第三片区",
        name_en: "District 3",
        position: 3,
    },
];

/// The root of the org-unit tree.
pub(crate) const CITY_CODE: &str = "city";
pub(crate) const CITY_NAME: &str = "东莞团市委";
pub(crate) const CITY_NAME_EN: &str = "Dongguan Municipal Youth League Committee";

/// A town or sub-district league committee (镇街团委).
pub(crate) struct TownSpec {
    pub name: &'static str,
    /// Pinyin name, used for `name_en` and (lower-cased, without apostrophe) the code.
    pub pinyin: &'static str,
    /// Index into [`DISTRICTS`].
    pub district: usize,
    /// Approximate 2017 resident population in units of 10,000 — demo data, not official.
    pub population: f64,
    /// How active the town is on the platform (0.3 = barely, 2.0 = a model town) — demo data.
    /// It is deliberately spread widely so that QII rankings differ clearly between towns.
    pub engagement: f64,
    /// Youth Homes (青年之家) the town runs by the end of 2017.
    pub youth_homes: usize,
    /// How many of those were founded in Oct–Dec 2017 (the "≥ 1 new Youth Home" target).
    pub new_in_q4: usize,
}

const fn town(
    name: &'static str,
    pinyin: &'static str,
    district: usize,
    population: f64,
    engagement: f64,
    youth_homes: usize,
    new_in_q4: usize,
) -> TownSpec {
    TownSpec {
        name,
        pinyin,
        district,
        population,
        engagement,
        youth_homes,
        new_in_q4,
    }
}

/// The 32 towns in their districts, exactly as in 附件2 of notice 东团通〔2017〕19号.
pub(crate) const TOWNS: [TownSpec; 32] = [
    // District 1 — meeting on 26 Oct at 石碣.
    town("莞城", "Guancheng", 0, 17.0, 0.9, 1, 0),
    town("石龙", "Shilong", 0, 14.0, 1.1, 1, 0),
    town("虎门", "Humen", 0, 64.0, 1.3, 3, 1),
    town("东城", "Dongcheng", 0, 50.0, 1.2, 2, 0),
    town("万江", "Wanjiang", 0, 25.0, 0.7, 1, 0),
    town("南城", "Nancheng", 0, 30.0, 1.4, 2, 1),
    town("中堂", "Zhongtang", 0, 15.0, 0.6, 1, 0),
    town("望牛墩", "Wangniudun", 0, 9.0, 0.4, 1, 0),
    town("麻涌", "Machong", 0, 11.0, 0.5, 1, 0),
    town("石碣", "Shijie", 0, 25.0, 1.8, 2, 1),
    town("高埗", "Gaobu", 0, 20.0, 0.8, 1, 0),
    // District 2 — meeting on 31 Oct at 厚街.
    town("洪梅", "Hongmei", 1, 6.0, 0.3, 1, 0),
    town("道滘", "Daojiao", 1, 14.0, 0.9, 1, 0),
    town("厚街", "Houjie", 1, 44.0, 1.6, 2, 1),
    town("沙田", "Shatian", 1, 17.0, 0.6, 1, 0),
    town("长安", "Chang'an", 1, 66.0, 1.0, 3, 1),
    town("寮步", "Liaobu", 1, 42.0, 1.2, 2, 1),
    town("大岭山", "Dalingshan", 1, 29.0, 0.7, 1, 0),
    town("大朗", "Dalang", 1, 33.0, 1.5, 2, 1),
    town("黄江", "Huangjiang", 1, 24.0, 0.5, 1, 0),
    // District 3 — meeting on 2 Nov at 塘厦.
    town("樟木头", "Zhangmutou", 2, 13.0, 0.8, 1, 0),
    town("凤岗", "Fenggang", 2, 33.0, 1.1, 2, 0),
    town("塘厦", "Tangxia", 2, 49.0, 1.5, 3, 2),
    town("谢岗", "Xiegang", 2, 11.0, 0.35, 1, 0),
    town("清溪", "Qingxi", 2, 31.0, 0.9, 2, 1),
    town("常平", "Changping", 2, 40.0, 1.3, 2, 0),
    town("桥头", "Qiaotou", 2, 17.0, 0.6, 1, 0),
    town("横沥", "Hengli", 2, 20.0, 1.0, 1, 1),
    town("东坑", "Dongkeng", 2, 13.0, 0.45, 1, 0),
    town("企石", "Qishi", 2, 15.0, 0.3, 1, 0),
    town("石排", "Shipai", 2, 17.0, 0.75, 1, 0),
    town("茶山", "Chashan", 2, 18.0, 2.0, 2, 1),
];

impl TownSpec {
    /// Stable code, e.g. `town-changan`.
    pub fn code(&self) -> String {
        format!("town-{}", slug(self.pinyin))
    }

    /// Stable code of the town's `n`-th Youth Home (1-based), e.g. `yh-shijie-1`.
    pub fn youth_home_code(&self, n: usize) -> String {
        format!("yh-{}-{n}", slug(self.pinyin))
    }

    /// Population coefficient (人口系数): the town's share of the city's population.
    pub fn population_coefficient(&self) -> f64 {
        let total: f64 = TOWNS.iter().map(|t| t.population).sum();
        self.population / total
    }
}

/// Lower-case pinyin without apostrophes, for codes.
fn slug(pinyin: &str) -> String {
    pinyin
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// A Youth Home as the structure defines it (before it has an id).
pub(crate) struct YouthHomeSpec {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub founded_on: NaiveDate,
    pub registered: bool,
}

const ORDINALS: [&str; 3] = ["", "二号站", "三号站"];

/// The Youth Homes of a town. The first ones were founded between March and September 2017,
/// the last `new_in_q4` in Oct–Dec 2017; a home founded in December that is not the town's
/// first is still waiting for registration (未在册). Dates are spread deterministically by
/// the town's index so that they do not depend on the random seed.
pub(crate) fn youth_homes(index: usize, spec: &TownSpec) -> Vec<YouthHomeSpec> {
    let pre_q4 = spec.youth_homes.saturating_sub(spec.new_in_q4);
    (0..spec.youth_homes)
        .map(|k| {
            let founded_on = if k < pre_q4 {
                // 1 Mar + 0..199 days: up to mid-September.
                date(2017, 3, 1) + chrono::Days::new(((index * 37 + k * 53) % 200) as u64)
            } else {
                // 8 Oct + 0..83 days: up to 30 December.
                date(2017, 10, 8) + chrono::Days::new(((index * 29 + k * 41) % 84) as u64)
            };
            let registered = k == 0 || founded_on < date(2017, 12, 1);
            let suffix = ORDINALS.get(k).copied().unwrap_or_default();
            let en_suffix = if k == 0 {
                String::new()
            } else {
                format!(" No. {}", k + 1)
            };
            YouthHomeSpec {
                code: spec.youth_home_code(k + 1),
                name: format!("{}青年之家{suffix}", spec.name),
                name_en: format!("{} Youth Home{en_suffix}", spec.pinyin),
                founded_on,
                registered,
            }
        })
        .collect()
}

/// A city-level unit of district 2 (莞香花, 爱心家园, 市志联).
pub(crate) struct CityUnitSpec {
    pub code: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
}

pub(crate) const CITY_UNITS: [CityUnitSpec; 3] = [
    CityUnitSpec {
        code: "cu-guanxianghua",
        name: "莞香花",
        name_en: "Guanxianghua",
    },
    CityUnitSpec {
        code: "cu-aixinjiayuan",
        name: "爱心家园",
        name_en: "Aixin Jiayuan",
    },
    CityUnitSpec {
        code: "cu-shizhilian",
        name: "市志联",
        name_en: "Dongguan Volunteers Federation",
    },
];

/// Index into [`DISTRICTS`] the city-level units belong to (they attend the 厚街 meeting).
pub(crate) const CITY_UNIT_DISTRICT: usize = 1;

/// A school or enterprise league body below a town.
pub(crate) struct SubUnitSpec {
    pub town: &'static str,
    pub school: bool,
    pub name: &'static str,
    pub name_en: &'static str,
}

/// A few schools and enterprises, chosen after each town's best-known trade — demo data.
pub(crate) const SUB_UNITS: [SubUnitSpec; 10] = [
    SubUnitSpec {
        town: "Humen",
        school: true,
        name: "虎门中学团委",
        name_en: "Humen Middle School",
    },
    SubUnitSpec {
        town: "Humen",
        school: false,
        name: "虎门服装企业团工委",
        name_en: "Humen Garment Enterprises",
    },
    SubUnitSpec {
        town: "Chang'an",
        school: true,
        name: "长安中学团委",
        name_en: "Chang'an Middle School",
    },
    SubUnitSpec {
        town: "Chang'an",
        school: false,
        name: "长安电子企业团工委",
        name_en: "Chang'an Electronics Enterprises",
    },
    SubUnitSpec {
        town: "Houjie",
        school: false,
        name: "厚街家具企业团工委",
        name_en: "Houjie Furniture Enterprises",
    },
    SubUnitSpec {
        town: "Dalang",
        school: false,
        name: "大朗毛织企业团工委",
        name_en: "Dalang Knitwear Enterprises",
    },
    SubUnitSpec {
        town: "Shilong",
        school: true,
        name: "石龙中学团委",
        name_en: "Shilong Middle School",
    },
    SubUnitSpec {
        town: "Changping",
        school: true,
        name: "常平中学团委",
        name_en: "Changping Middle School",
    },
    SubUnitSpec {
        town: "Tangxia",
        school: true,
        name: "塘厦中学团委",
        name_en: "Tangxia Middle School",
    },
    SubUnitSpec {
        town: "Dongcheng",
        school: false,
        name: "东城商贸企业团工委",
        name_en: "Dongcheng Trade Enterprises",
    },
];

impl SubUnitSpec {
    /// Stable code, e.g. `school-humen` or `ent-humen`.
    pub fn code(&self) -> String {
        let prefix = if self.school { "school" } else { "ent" };
        format!("{prefix}-{}", slug(self.town))
    }
}

/// A date that is known to be valid. Only called with literal dates of 2017.
pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_structure_is_exact() {
        let per_district: Vec<usize> = (0..3)
            .map(|d| TOWNS.iter().filter(|t| t.district == d).count())
            .collect();
        assert_eq!(per_district, vec![11, 9, 12]);
        let sum: f64 = TOWNS.iter().map(TownSpec::population_coefficient).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        assert_eq!(TOWNS[15].code(), "town-changan");
        let codes: std::collections::HashSet<String> = TOWNS.iter().map(TownSpec::code).collect();
        assert_eq!(codes.len(), 32);
        for sub in &SUB_UNITS {
            assert!(TOWNS.iter().any(|t| t.pinyin == sub.town), "{}", sub.town);
        }
    }

    #[test]
    fn every_town_has_a_registered_home_founded_in_2017() {
        for (i, t) in TOWNS.iter().enumerate() {
            let homes = youth_homes(i, t);
            assert!(homes[0].registered);
            assert!(homes
                .iter()
                .all(|h| h.founded_on.to_string().starts_with("2017")));
            let new = homes
                .iter()
                .filter(|h| h.founded_on >= date(2017, 10, 1))
                .count();
            assert_eq!(new, t.new_in_q4, "{}", t.pinyin);
        }
    }
}
