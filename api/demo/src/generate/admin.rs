//! The city's administrative records: the three supervision meetings with attendance receipts
//! (DOMAIN.md §6), one supervisor per town from December, and incentive applications (§5).

use chrono::{DateTime, Duration, Utc};
use entities::enums::{
    ActivityCategory, ActivityKind, ApplicationStatus, AttendeeRole, IncentiveIntent,
};
use entities::{
    incentive_application, incentive_intent, meeting_attendance, supervision_meeting,
    supervisor_assignment,
};

use super::activities::Held;
use super::World;
use crate::ensure::Structure;
use crate::random::{at, chance, delay, demo_end, instant, int, pick, pick_str, DemoRng};
use crate::structure::{date, CITY_UNIT_DISTRICT};
use crate::text;

/// (district index, date, venue, pinyin of the town whose first Youth Home is visited).
const MEETINGS: [(usize, (u32, u32), &str, &str); 3] = [
    (0, (10, 26), "石碣镇", "Shijie"),
    (1, (10, 31), "厚街镇", "Houjie"),
    (2, (11, 2), "塘厦镇", "Tangxia"),
];

const AGENDA: &str = "1. 工作座谈；2. 线上参与“青年之声”平台话题互动；3. 讲解10—12月工作目标；\
4. 督导检查；5. “青年之声”及新媒体技能培训。";

/// The meetings and, for the receipts, each one's id and district index.
pub(super) fn meetings(
    structure: &Structure,
    first_id: i64,
) -> (Vec<supervision_meeting::Model>, Vec<(i64, usize)>) {
    let mut rows = Vec::new();
    let mut held = Vec::new();
    for (k, &(district, (month, day), venue, visited)) in MEETINGS.iter().enumerate() {
        let id = first_id + k as i64;
        let visit = structure
            .towns
            .iter()
            .find(|t| t.spec.pinyin == visited)
            .and_then(|t| t.homes.first())
            .map(|h| h.id);
        rows.push(supervision_meeting::Model {
            id,
            district_id: structure.district_ids[district],
            held_on: date(2017, month, day),
            venue: venue.to_owned(),
            visit_org_unit_id: visit,
            agenda: Some(AGENDA.to_owned()),
            receipts_due_on: Some(date(2017, 10, 23)),
        });
        held.push((id, district));
    }
    (rows, held)
}

fn mobile(rng: &mut DemoRng) -> String {
    format!("13{:09}", int(rng, 0, 999_999_999))
}

/// Each town (and, in district 2, each city-level unit) sends its secretary or the deputy in
/// charge, plus up to two platform operators.
pub(super) fn receipts(
    rng: &mut DemoRng,
    structure: &Structure,
    meetings: &[(i64, usize)],
    first_id: i64,
) -> Vec<meeting_attendance::Model> {
    let mut rows: Vec<meeting_attendance::Model> = Vec::new();
    for &(meeting_id, district) in meetings {
        let mut units: Vec<i64> = structure
            .towns
            .iter()
            .filter(|t| t.spec.district == district)
            .map(|t| t.id)
            .collect();
        if district == CITY_UNIT_DISTRICT {
            units.extend(&structure.city_units);
        }
        for org_unit_id in units {
            let deputy = chance(rng, 0.2);
            let mut people = vec![(
                if deputy {
                    AttendeeRole::Deputy
                } else {
                    AttendeeRole::Secretary
                },
                if deputy {
                    "团委副书记（分管）"
                } else {
                    "团委书记"
                },
                if deputy {
                    Some(text::RECEIPT_REMARKS[0])
                } else {
                    None
                },
            )];
            for _ in 0..int(rng, 0, 2) {
                let remark = chance(rng, 0.15).then(|| pick_str(rng, &text::RECEIPT_REMARKS[1..]));
                people.push((AttendeeRole::Operator, "平台操作员", remark));
            }
            let mut names: Vec<String> = Vec::new();
            for (role, title, remarks) in people {
                // Names are unique per meeting and unit (a unique index says so).
                let mut name = text::person_name(rng);
                while names.contains(&name) {
                    name = text::person_name(rng);
                }
                names.push(name.clone());
                // Sent from 16 to 24 October, 09:00 in Dongguan: most before the receipts
                // were due (23 October), a few late. (No draw: the rest stays as it was.)
                let sent_on = 16 + (rows.len() % 9) as u32;
                let submitted_at =
                    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2017, 10, sent_on, 1, 0, 0)
                        .single();
                rows.push(meeting_attendance::Model {
                    id: first_id + rows.len() as i64,
                    submitted_at,
                    meeting_id,
                    org_unit_id,
                    name,
                    title: Some(title.to_owned()),
                    mobile: Some(mobile(rng)),
                    remarks: remarks.map(str::to_owned),
                    role,
                });
            }
        }
    }
    rows
}

/// One trained university student per town from 1 Dec 2017 (seed 001, item 6).
pub(super) fn supervisors(
    rng: &mut DemoRng,
    structure: &Structure,
    first_id: i64,
) -> Vec<supervisor_assignment::Model> {
    structure
        .towns
        .iter()
        .enumerate()
        .map(|(k, town)| supervisor_assignment::Model {
            id: first_id + k as i64,
            town_id: town.id,
            supervisor_name: text::person_name(rng),
            university: Some(pick_str(rng, &text::UNIVERSITIES).to_owned()),
            mobile: Some(mobile(rng)),
            starts_on: date(2017, 12, 1),
            ends_on: None,
        })
        .collect()
}

const INTENTS: [(IncentiveIntent, f64, &str); 5] = [
    (IncentiveIntent::DesignContest, 0.5, "活动设计大赛"),
    (IncentiveIntent::Heavyweight, 0.3, "重磅发布"),
    (IncentiveIntent::CulturalGoods, 0.35, "文创产品"),
    (IncentiveIntent::LinkageSupport, 0.25, "活动联动支持"),
    (IncentiveIntent::TrainingSupport, 0.2, "培训支持"),
];

/// About 24 applications at scale 1, mostly before the 17 Nov deadline, some for activities
/// already published and some for planned ones; the city decides most within days.
pub(super) fn applications(
    rng: &mut DemoRng,
    world: &World,
    held: &[Held],
    (first_app, first_intent): (i64, i64),
) -> (
    Vec<incentive_application::Model>,
    Vec<incentive_intent::Model>,
) {
    let n = world.scaled(24.0).round().max(3.0) as usize;
    let mut apps = Vec::with_capacity(n);
    let mut intents = Vec::new();
    for k in 0..n {
        let id = first_app + k as i64;
        let t = world.activity.sample(rng);
        let town = &world.structure.towns[t];
        let name = town.spec.name;
        let submitted_at = if chance(rng, 0.85) {
            instant(
                rng,
                at(date(2017, 11, 10), 9, 0),
                at(date(2017, 11, 17), 18, 0),
            )
        } else {
            instant(
                rng,
                at(date(2017, 11, 18), 9, 0),
                at(date(2017, 12, 15), 18, 0),
            )
        };
        let own: Vec<&Held> = held
            .iter()
            .filter(|a| a.org_unit_id == town.id && a.starts_at > submitted_at)
            .collect();
        let linked = pick(rng, &own).copied().filter(|_| chance(rng, 0.6));
        let (activity_id, activity_name, starts_at, ends_at, place, kind, category, scale) =
            match linked {
                Some(a) => {
                    let scale = a.capacity.unwrap_or(int(rng, 100, 300) as i32);
                    (
                        Some(a.id),
                        a.title.clone(),
                        a.starts_at,
                        a.ends_at,
                        a.place.clone(),
                        a.kind,
                        a.category,
                        scale,
                    )
                }
                None => {
                    let starts: DateTime<Utc> = at(date(2017, 12, int(rng, 1, 28) as u32), 14, 0);
                    let title = text::fill(pick_str(rng, &text::CONTEST), name);
                    let place = Some(text::fill(pick_str(rng, &text::PLACES), name));
                    (
                        None,
                        title,
                        starts,
                        starts + Duration::hours(3),
                        place,
                        ActivityKind::Offline,
                        // The titles are contests'.
                        ActivityCategory::Contest,
                        int(rng, 50, 400) as i32,
                    )
                }
            };
        let mut chosen: Vec<usize> = (0..INTENTS.len())
            .filter(|&i| chance(rng, INTENTS[i].1))
            .collect();
        if chosen.is_empty() {
            chosen.push(0);
        }
        let labels: Vec<&str> = chosen.iter().map(|&i| INTENTS[i].2).collect();
        for &i in &chosen {
            intents.push(incentive_intent::Model {
                id: first_intent + intents.len() as i64,
                application_id: id,
                intent: INTENTS[i].0,
            });
        }
        let decided_at = chance(rng, 0.75)
            .then(|| submitted_at + delay(rng, 24.0 * 60.0, 10.0 * 24.0 * 60.0))
            .filter(|&d| d <= demo_end());
        let approved = chance(rng, 0.75);
        let status = match decided_at {
            None => ApplicationStatus::Submitted,
            Some(_) if approved => ApplicationStatus::Approved,
            Some(_) => ApplicationStatus::Rejected,
        };
        let decision_note = decided_at.map(|_| {
            if approved {
                "同意，请按计划开展并在活动结束后上传照片。"
            } else {
                "活动规模未达到申报条件，建议扩大参与范围后再申报。"
            }
            .to_owned()
        });
        apps.push(incentive_application::Model {
            id,
            org_unit_id: town.id,
            activity_id,
            topic_id: None,
            activity_name,
            starts_at: Some(starts_at),
            ends_at: Some(ends_at),
            place,
            scale,
            // Not drawn from the generator, so the rest of the data stays as it was.
            special_resources: id % 7 == 0,
            kind,
            category: Some(category),
            description: format!(
                "{name}团委申报：{}。{}",
                labels.join("、"),
                text::fill(pick_str(rng, &text::DESCRIPTIONS), name)
            ),
            plan_url: chance(rng, 0.4)
                .then(|| format!("https://demo.invalid/plans/application-{id}.pdf")),
            status,
            submitted_at,
            decided_at,
            decision_note,
        });
    }
    (apps, intents)
}
