//! The incentive programme's own traffic (DOMAIN.md §5): every heavyweight activity applied
//! for by its town (most approved, some rejected, some still waiting: only approved ones
//! count into the town's figures), and design-contest entries for activities that ended
//! in November and December 2017, some with further intents.

use chrono::Duration;
use entities::enums::{ApplicationStatus, IncentiveIntent};
use entities::{incentive_application, incentive_intent};

use super::activities::Held;
use super::World;
use crate::random::{chance, delay, demo_end, int, DemoRng};
use crate::structure::date;
use qii_engine::time::day_start;

/// Heavyweight applications and contest entries, numbered from `first`.
pub(super) fn applications(
    rng: &mut DemoRng,
    world: &World,
    held: &[Held],
    (first_app, first_intent): (i64, i64),
) -> (
    Vec<incentive_application::Model>,
    Vec<incentive_intent::Model>,
) {
    let mut out = Programme {
        first_app,
        first_intent,
        apps: Vec::new(),
        intents: Vec::new(),
    };
    for a in held.iter().filter(|a| a.heavyweight) {
        // About 70 % approved, 15 % rejected, 15 % waiting.
        let roll = int(rng, 0, 99);
        let status = match roll {
            0..=69 => ApplicationStatus::Approved,
            70..=84 => ApplicationStatus::Rejected,
            _ => ApplicationStatus::Submitted,
        };
        let mut intents = vec![IncentiveIntent::Heavyweight];
        if chance(rng, 0.3) {
            intents.push(IncentiveIntent::CulturalGoods);
        }
        out.push(
            rng,
            a,
            status,
            &intents,
            "重磅发布申请：全市性活动，经市级平台发布。",
        );
    }
    // Contest entries: a few ordinary offline activities ending in each month.
    let per_month = world.scaled(40.0).round().max(4.0) as usize;
    for (from, to) in [
        (date(2017, 11, 1), date(2017, 12, 1)),
        (date(2017, 12, 1), date(2018, 1, 1)),
    ] {
        let (from, to) = (day_start(from), day_start(to));
        let ended: Vec<&Held> = held
            .iter()
            .filter(|a| !a.heavyweight && a.ends_at >= from && a.ends_at < to)
            .filter(|a| a.ends_at <= demo_end())
            .collect();
        let stride = (ended.len() / per_month).max(1);
        for a in ended.iter().step_by(stride).take(per_month) {
            let status = match int(rng, 0, 9) {
                0 => ApplicationStatus::Rejected,
                1 | 2 => ApplicationStatus::Submitted,
                _ => ApplicationStatus::Approved,
            };
            let mut intents = vec![IncentiveIntent::DesignContest];
            if chance(rng, 0.4) {
                intents.push(IncentiveIntent::LinkageSupport);
            }
            if chance(rng, 0.2) {
                intents.push(IncentiveIntent::TrainingSupport);
            }
            out.push(
                rng,
                a,
                status,
                &intents,
                "参加本月活动设计大赛，活动已完成并上传照片。",
            );
        }
    }
    (out.apps, out.intents)
}

struct Programme {
    first_app: i64,
    first_intent: i64,
    apps: Vec<incentive_application::Model>,
    intents: Vec<incentive_intent::Model>,
}

impl Programme {
    fn push(
        &mut self,
        rng: &mut DemoRng,
        a: &Held,
        status: ApplicationStatus,
        intents: &[IncentiveIntent],
        description: &str,
    ) {
        let id = self.first_app + self.apps.len() as i64;
        let submitted_at = a.published_at - Duration::days(int(rng, 2, 6));
        let decided_at = (status != ApplicationStatus::Submitted)
            .then(|| (submitted_at + delay(rng, 60.0, 3.0 * 24.0 * 60.0)).min(demo_end()));
        let decision_note = match status {
            ApplicationStatus::Submitted => None,
            ApplicationStatus::Approved => Some("同意，请按计划开展。".to_owned()),
            ApplicationStatus::Rejected => {
                Some("活动影响面不足全市性标准，按普通活动发布。".to_owned())
            }
        };
        for &intent in intents {
            self.intents.push(incentive_intent::Model {
                id: self.first_intent + self.intents.len() as i64,
                application_id: id,
                intent,
            });
        }
        self.apps.push(incentive_application::Model {
            id,
            org_unit_id: a.org_unit_id,
            activity_id: Some(a.id),
            topic_id: None,
            activity_name: a.title.clone(),
            starts_at: Some(a.starts_at),
            ends_at: Some(a.ends_at),
            place: a.place.clone(),
            scale: a.capacity.unwrap_or(200),
            special_resources: id % 5 == 0,
            kind: a.kind,
            category: Some(a.category),
            description: description.to_owned(),
            plan_url: None,
            status,
            submitted_at,
            decided_at,
            decision_note,
        });
    }
}
