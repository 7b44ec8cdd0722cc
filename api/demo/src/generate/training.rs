//! Requests for platform-skills training (平台使用技能培训, DOMAIN.md §5.5): about eight at
//! scale 1, from towns and their Youth Homes between 13 November and 15 December 2017, of
//! every size. The city schedules most within days and holds them on their day, declines
//! a few, and some still wait at the end of December.

use chrono::Duration;
use entities::{enums::PlatformTrainingStatus as Status, platform_training_request};
use qii_domain::identity::{Actor, Role};
use qii_engine::time::{day_start, local_day};

use super::World;
use crate::random::{at, chance, demo_end, instant, int, pick, pick_str, q4_end_day, DemoRng};
use crate::structure::date;

const NOTES: [&str; 4] = [
    "新任平台操作员不熟悉活动发布、报名与签到流程。",
    "希望讲解活动结束后上传照片和数据统计。",
    "青年之家管理员需要学习线下服务申请的处理。",
    "请介绍话题发布与专家邀请答题。",
];

/// The requests, numbered from `first_id`.
pub(super) fn requests(
    rng: &mut DemoRng,
    world: &World,
    first_id: i64,
) -> Vec<platform_training_request::Model> {
    let n = world.scaled(8.0).round().max(2.0) as usize;
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let town = &world.structure.towns[world.activity.sample(rng)];
        let home = pick(rng, &town.homes).filter(|_| chance(rng, 0.5));
        let (unit, asker) = match home {
            Some(home) => (home.id, Role::YouthHomeAdmin(home.id)),
            None => (town.id, Role::TownAdmin(town.id)),
        };
        let requested_at = instant(
            rng,
            at(date(2017, 11, 13), 9, 0),
            at(date(2017, 12, 15), 18, 0),
        );
        let asked_on = local_day(requested_at);
        let preferred = chance(rng, 0.6).then(|| asked_on + Duration::days(int(rng, 7, 20)));
        let trainees = int(rng, 1, 45) as i32;
        let note = Some(pick_str(rng, &NOTES).to_owned());
        let decided_at = requested_at + Duration::days(int(rng, 1, 3));
        let (status, scheduled_on, city_note, updated_at) = match int(rng, 0, 9) {
            0 => (
                Status::Declined,
                None,
                Some("本期名额已满，已并入 12 月全市操作员集中培训。".to_owned()),
                decided_at,
            ),
            1 | 2 => (Status::Requested, None, None, requested_at),
            _ => {
                let day = preferred.unwrap_or(asked_on + Duration::days(int(rng, 7, 14)));
                let held = at(day, 17, 0);
                let (status, updated_at) = if day <= q4_end_day() {
                    (Status::Done, held.min(demo_end()))
                } else {
                    (Status::Scheduled, decided_at)
                };
                let arrangements = "东莞共青团大数据与新媒体发展中心培训室，下午两点。";
                (status, Some(day), Some(arrangements.to_owned()), updated_at)
            }
        };
        out.push(platform_training_request::Model {
            id: first_id + k as i64,
            org_unit_id: unit,
            trainees,
            preferred_date: preferred,
            note,
            status,
            scheduled_on,
            city_note,
            requested_at,
            requested_by: Actor::new(asker, "demo").label(),
            updated_at: updated_at.max(day_start(asked_on)),
        });
    }
    out
}
