//! Requests for platform-skills training (平台使用技能培训): a unit's staff ask, city
//! administrators schedule, complete or decline; every step audited, every bad step refused
//! with nothing written; eligibility by the incentive rules.

use chrono::{Duration, NaiveDate, Utc};
use qii_domain::identity::Role;
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp, service_requests::fixture};

const REQUEST: &str = "mutation($input: RequestPlatformTrainingInput!) {
    requestPlatformTraining(input: $input) {
        id status nextStatuses trainees preferredDate note requestedBy orgUnit { name }
    }
}";

const SCHEDULE: &str = "mutation($id: ID!, $date: NaiveDate!, $note: String) {
    schedulePlatformTraining(id: $id, input: {date: $date, note: $note}) {
        id status nextStatuses scheduledOn cityNote
    }
}";

const COMPLETE: &str = "mutation($id: ID!) {
    completePlatformTraining(id: $id) { id status nextStatuses scheduledOn }
}";

const DECLINE: &str = "mutation($id: ID!, $reason: String!) {
    declinePlatformTraining(id: $id, input: {reason: $reason}) { id status cityNote nextStatuses }
}";

const ONE: &str = "query($id: ID!) { platformTrainingRequest(id: $id) {
    status scheduledOn cityNote eligibility { eligible reason ruleVersion { name version } } } }";

const LIST: &str = "query($filter: PlatformTrainingRequestFilter) {
    platformTrainingRequests(filter: $filter, orderBy: TRAINEES, first: 2) {
        totalCount pageInfo { hasNextPage } nodes { trainees status orgUnit { name } }
    }
}";

/// Today in Dongguan, where the days of trainings are counted.
fn today() -> NaiveDate {
    qii_engine::time::local_day(Utc::now())
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

fn numeric(id: &str) -> i64 {
    id.parse().unwrap()
}

fn ask(unit: &str, trainees: i64, preferred: Option<String>) -> Value {
    json!({ "input": { "orgUnitId": unit, "trainees": trainees, "preferredDate": preferred,
                       "note": "新任操作员不熟悉活动发布与签到" } })
}

/// How many requests there are in each status, by `totalCount`.
async fn count_in(app: &TestApp, filter: Value) -> i64 {
    let data = app.data(LIST, json!({ "filter": filter })).await;
    data["platformTrainingRequests"]["totalCount"]
        .as_i64()
        .unwrap()
}

both_databases! {
    async fn a_unit_asks_for_platform_training_and_the_city_schedules_and_holds_it(app) {
        let f = fixture(&app).await;
        let town_admin = app.token_for(Role::TownAdmin(numeric(&f.town)), "shijie-admin");
        let asked = app.data_as(Some(&town_admin), REQUEST, ask(&f.home, 3, Some(day(10)))).await;
        let r = &asked["requestPlatformTraining"];
        assert_eq!(r["status"], "REQUESTED");
        assert_eq!(r["nextStatuses"], json!(["SCHEDULED", "DECLINED"]));
        assert_eq!(r["trainees"], 3);
        assert_eq!(r["preferredDate"], day(10));
        assert_eq!(r["orgUnit"]["name"], "石碣青年之家");
        assert_eq!(r["requestedBy"], "town_admin:shijie-admin");
        let id = r["id"].clone();

        // Only the city takes the steps.
        let (code, _) = app.error_as(Some(&town_admin), SCHEDULE, json!({ "id": id, "date": day(5) })).await;
        assert_eq!(code, "FORBIDDEN");

        let scheduled = app.data(SCHEDULE, json!({ "id": id, "date": day(7), "note": "市青年之声中心，下午两点" })).await;
        let s = &scheduled["schedulePlatformTraining"];
        assert_eq!(s["status"], "SCHEDULED");
        assert_eq!(s["scheduledOn"], day(7));
        assert_eq!(s["nextStatuses"], json!(["SCHEDULED", "DONE", "DECLINED"]));
        // Moved to today, it can be held today.
        let moved = app.data(SCHEDULE, json!({ "id": id, "date": day(0) })).await;
        assert_eq!(moved["schedulePlatformTraining"]["scheduledOn"], day(0));
        assert_eq!(moved["schedulePlatformTraining"]["cityNote"], "市青年之声中心，下午两点");
        let done = app.data(COMPLETE, json!({ "id": id })).await;
        assert_eq!(done["completePlatformTraining"]["status"], "DONE");
        assert_eq!(done["completePlatformTraining"]["nextStatuses"], json!([]));

        // The town reads its own; the audit log has every step.
        let seen = app.data_as(Some(&town_admin), ONE, json!({ "id": id })).await;
        assert_eq!(seen["platformTrainingRequest"]["status"], "DONE");
        let audit = app
            .data("{ auditLog(filter: {action: \"platform_training.\"}, first: 10) { nodes { action actor target } } }", json!({}))
            .await;
        let actions: Vec<&str> = audit["auditLog"]["nodes"].as_array().unwrap().iter().map(|n| n["action"].as_str().unwrap()).collect();
        let mut sorted = actions.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["platform_training.complete", "platform_training.request", "platform_training.schedule", "platform_training.schedule"]);
    }

    async fn the_desk_lists_requests_by_status_and_unit_and_a_town_sees_only_its_own(app) {
        let f = fixture(&app).await;
        let mut ids = Vec::new();
        for (unit, trainees) in [(&f.town, 40), (&f.home, 2), (&f.school, 15), (&f.other_town, 60)] {
            ids.push(app.data(REQUEST, ask(unit, trainees, None)).await["requestPlatformTraining"]["id"].clone());
        }
        app.data(SCHEDULE, json!({ "id": ids[0], "date": day(3) })).await;
        app.data(DECLINE, json!({ "id": ids[3], "reason": "本月培训名额已满，请下月再申请" })).await;

        assert_eq!(count_in(&app, json!({})).await, 4);
        assert_eq!(count_in(&app, json!({ "status": "REQUESTED" })).await, 2);
        assert_eq!(count_in(&app, json!({ "statuses": ["REQUESTED", "SCHEDULED"] })).await, 3);
        assert_eq!(count_in(&app, json!({ "status": "DECLINED" })).await, 1);
        assert_eq!(count_in(&app, json!({ "orgUnitId": f.home })).await, 1);
        assert_eq!(count_in(&app, json!({ "townId": f.town })).await, 3);
        assert_eq!(count_in(&app, json!({ "districtId": f.other_district })).await, 1);
        let page = app.data(LIST, json!({})).await;
        let page = &page["platformTrainingRequests"];
        assert_eq!(page["pageInfo"]["hasNextPage"], true);
        assert_eq!(page["nodes"][0]["trainees"], 2);

        let other = app.token_for(Role::TownAdmin(numeric(&f.other_town)), "houjie-admin");
        let theirs = app.data_as(Some(&other), LIST, json!({ "filter": {} })).await;
        assert_eq!(theirs["platformTrainingRequests"]["totalCount"], 1);
        assert_eq!(theirs["platformTrainingRequests"]["nodes"][0]["status"], "DECLINED");
        let hidden = app.data_as(Some(&other), ONE, json!({ "id": ids[0] })).await;
        assert_eq!(hidden["platformTrainingRequest"], Value::Null);
        let declined = app.data_as(Some(&other), ONE, json!({ "id": ids[3] })).await;
        assert_eq!(declined["platformTrainingRequest"]["cityNote"], "本月培训名额已满，请下月再申请");
    }

    async fn bad_requests_and_steps_out_of_turn_are_refused_and_nothing_is_written(app) {
        let f = fixture(&app).await;
        let town_admin = app.token_for(Role::TownAdmin(numeric(&f.town)), "shijie-admin");
        let member = app.token_for(Role::Member(numeric(&f.member)), "member");
        let audited = app.count("audit_entry").await;
        for (input, code, field) in [
            (ask(&f.home, 0, None), "BAD_USER_INPUT", Some("trainees")),
            (ask(&f.home, -3, None), "BAD_USER_INPUT", Some("trainees")),
            (ask(&f.home, 5, Some(day(-1))), "BAD_USER_INPUT", Some("preferredDate")),
            (ask("987654", 5, None), "BAD_USER_INPUT", Some("orgUnitId")),
            (ask(&f.city, 5, None), "BAD_USER_INPUT", Some("orgUnitId")),
            (ask(&f.other_town, 5, None), "FORBIDDEN", None),
        ] {
            let response = app.graphql_as(Some(&town_admin), REQUEST, input.clone()).await;
            let error = &response["errors"][0];
            assert_eq!(error["extensions"]["code"], code, "{input}: {response}");
            if let Some(field) = field {
                assert_eq!(error["extensions"]["field"], field, "{response}");
            }
        }
        let (code, _) = app.error_as(Some(&member), REQUEST, ask(&f.home, 5, None)).await;
        assert_eq!(code, "FORBIDDEN");
        assert_eq!(app.count("platform_training_request").await, 0);
        assert_eq!(app.count("audit_entry").await, audited);

        let id = app.data_as(Some(&town_admin), REQUEST, ask(&f.home, 5, None)).await["requestPlatformTraining"]["id"].clone();
        let audited = app.count("audit_entry").await;
        assert_eq!(app.count("platform_training_request").await, 1);
        // Done before it is scheduled; a day that has passed; a decline without a reason.
        let (code, message) = app.error(COMPLETE, json!({ "id": id })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("REQUESTED") && message.contains("DONE"), "{message}");
        let (code, message) = app.error(SCHEDULE, json!({ "id": id, "date": day(-1) })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("has passed"), "{message}");
        let (code, _) = app.error(DECLINE, json!({ "id": id, "reason": "  " })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        // Not done before its day.
        app.data(SCHEDULE, json!({ "id": id, "date": day(2) })).await;
        let (code, message) = app.error(COMPLETE, json!({ "id": id })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains(&day(2)), "{message}");
        // Declined is final.
        app.data(DECLINE, json!({ "id": id, "reason": "与全市培训合并举办" })).await;
        let (code, message) = app.error(SCHEDULE, json!({ "id": id, "date": day(3) })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("DECLINED") && message.contains("finished"), "{message}");
        let (code, _) = app.error(DECLINE, json!({ "id": id, "reason": "再次拒绝" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, _) = app.error(SCHEDULE, json!({ "id": "987654", "date": day(3) })).await;
        assert_eq!(code, "NOT_FOUND");

        let stored = app.data(ONE, json!({ "id": id })).await;
        assert_eq!(stored["platformTrainingRequest"]["status"], "DECLINED");
        assert_eq!(stored["platformTrainingRequest"]["scheduledOn"], day(2));
        assert_eq!(stored["platformTrainingRequest"]["cityNote"], "与全市培训合并举办");
        assert_eq!(app.count("audit_entry").await, audited + 2, "one schedule and one decline");
    }

    async fn any_size_is_eligible_by_the_incentive_rules_of_the_day_it_was_asked(app) {
        let f = fixture(&app).await;
        let one = app.data(REQUEST, ask(&f.home, 1, None)).await["requestPlatformTraining"]["id"].clone();
        let many = app.data(REQUEST, ask(&f.town, 500, None)).await["requestPlatformTraining"]["id"].clone();
        // Asked today: the 2017 programme's rules do not cover it.
        let now = app.data(ONE, json!({ "id": one })).await;
        let e = &now["platformTrainingRequest"]["eligibility"];
        assert_eq!(e["eligible"], Value::Null, "{e}");
        assert_eq!(e["ruleVersion"], Value::Null);
        assert!(e["reason"].as_str().unwrap().contains("incentives"), "{e}");

        // Asked on 20 November 2017, within the programme: any size may ask.
        backdate(&app, "2017-11-20T02:00:00Z").await;
        for (id, trainees) in [(&one, 1), (&many, 500)] {
            let then = app.data(ONE, json!({ "id": id })).await;
            let e = &then["platformTrainingRequest"]["eligibility"];
            assert_eq!(e["eligible"], true, "{e}");
            assert_eq!(e["reason"], format!("不限规模，{trainees} 人 Any size may ask: {trainees} to be trained"));
            assert_eq!(e["ruleVersion"], json!({ "name": "incentives", "version": "2017.1" }));
        }
    }

    async fn the_demos_requests_are_judged_by_the_2017_programme_and_new_ones_follow_them(app) {
        app.load_demo(0.05).await;
        let demo = app
            .data("{ platformTrainingRequests(first: 50) { totalCount nodes { id trainees status eligibility { eligible ruleVersion { version } } } } }", json!({}))
            .await;
        let list = &demo["platformTrainingRequests"];
        assert!(list["totalCount"].as_i64().unwrap() >= 2, "{list}");
        for node in list["nodes"].as_array().unwrap() {
            assert_eq!(node["eligibility"]["eligible"], true, "{node}");
            assert_eq!(node["eligibility"]["ruleVersion"]["version"], "2017.1");
        }
        let town = app.unit_id("town-shijie").await;
        let asked = app.data(REQUEST, ask(&town, 12, None)).await;
        let id: i64 = asked["requestPlatformTraining"]["id"].as_str().unwrap().parse().unwrap();
        let largest = list["nodes"].as_array().unwrap().iter().map(|n| numeric(n["id"].as_str().unwrap())).max().unwrap();
        assert!(id > largest, "{id} after {largest}");
    }

    async fn a_new_version_of_the_incentive_rules_may_set_a_minimum_without_a_rebuild(app) {
        let f = fixture(&app).await;
        let small = app.data(REQUEST, ask(&f.home, 4, None)).await["requestPlatformTraining"]["id"].clone();
        let large = app.data(REQUEST, ask(&f.town, 5, None)).await["requestPlatformTraining"]["id"].clone();
        backdate(&app, "2017-11-20T02:00:00Z").await;

        let rules = crate::helpers::shipped_rules();
        let source = std::fs::read_to_string(rules.join("incentives/2017.rhai")).unwrap();
        let changed = source
            .replace(
                "fn platform_training(request) {\n",
                "fn platform_training(request) {\n    if request.trainees < 5 { return #{ eligible: false, reason: \"至少 5 人 5 or more\" }; }\n",
            )
            .replace("version: \"2017.1\"", "version: \"2017.2\"");
        assert_ne!(changed, source);
        let mut cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(rules.join("incentives/2017.tests.json")).unwrap()).unwrap();
        cases.retain(|c| c["call"] != "platform_training");
        cases.push(json!({ "name": "four are too few", "call": "platform_training",
            "args": [{ "trainees": 4, "unit_kind": "youth_home", "has_preferred_date": false }],
            "expect": { "eligible": false } }));
        let published = app
            .data(
                "mutation($s: String!, $t: String) { publishRuleSet(path: \"incentives/2017.rhai\", source: $s, tests: $t) { changed } }",
                json!({ "s": changed, "t": serde_json::to_string(&cases).unwrap() }),
            )
            .await;
        assert_eq!(published["publishRuleSet"]["changed"], true);

        let judged = |id: Value| {
            let app = &app;
            async move { app.data(ONE, json!({ "id": id })).await["platformTrainingRequest"]["eligibility"].clone() }
        };
        let e = judged(small).await;
        assert_eq!(e["eligible"], false, "{e}");
        assert_eq!(e["reason"], "至少 5 人 5 or more");
        assert_eq!(e["ruleVersion"]["version"], "2017.2");
        assert_eq!(judged(large).await["eligible"], true);
    }
}

/// Moves every request back to `at`, as if it had been made then.
async fn backdate(app: &TestApp, at: &str) {
    use entities::platform_training_request as request;
    let at: chrono::DateTime<Utc> = at.parse().unwrap();
    request::Entity::update_many()
        .col_expr(request::Column::RequestedAt, Expr::value(at))
        .filter(request::Column::Id.gt(0))
        .exec(&app.db)
        .await
        .unwrap();
}
