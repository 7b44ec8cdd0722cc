//! Incentive programme applications: filing, amending, deciding, the desk's list.

use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp, service_requests::fixture};

const APPLY: &str = "mutation($input: ApplyForIncentiveInput!) {
    applyForIncentive(input: $input) {
        id status intents activityName scale kind place planUrl submittedAt decidedAt
        orgUnit { name } activity { title }
    }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateIncentiveApplicationInput!) {
    updateIncentiveApplication(id: $id, input: $input) { id activityName scale intents place }
}";

const DECIDE: &str = "mutation($id: ID!, $approve: Boolean!, $note: String) {
    decideIncentiveApplication(id: $id, input: {approve: $approve, note: $note}) { id status decidedAt decisionNote }
}";

fn form(unit: &str, name: &str, intents: Value) -> Value {
    json!({ "input": {
        "orgUnitId": unit, "activityName": name, "startsAt": "2017-11-25T01:00:00Z", "endsAt": "2017-11-25T05:00:00Z",
        "place": "石碣青年之家", "scale": 150, "kind": "OFFLINE", "description": "青年创业分享会，含线上直播",
        "planUrl": "https://example.org/plan.pdf", "intents": intents
    } })
}

async fn activity_of(app: &TestApp, unit: &str) -> Value {
    let q = "mutation($u: ID!) { createActivity(input: {orgUnitId: $u, title: \"创业分享会\", kind: OFFLINE, category: TRAINING,
        startsAt: \"2017-11-25T01:00:00Z\", endsAt: \"2017-11-25T05:00:00Z\"}) { id } }";
    app.data(q, json!({ "u": unit })).await["createActivity"]["id"].clone()
}

both_databases! {
    async fn an_application_is_filed_with_its_intents_amended_and_approved(app) {
        let f = fixture(&app).await;
        // An activity of the town's Youth Home counts as the town's own.
        let activity = activity_of(&app, &f.home).await;
        let mut input = form(&f.town, "创业分享会", json!(["CULTURAL_GOODS", "LINKAGE_SUPPORT"]));
        input["input"]["activityId"] = activity;
        let filed = app.data(APPLY, input).await;
        let a = &filed["applyForIncentive"];
        assert_eq!(a["status"], "SUBMITTED");
        assert_eq!(a["intents"], json!(["CULTURAL_GOODS", "LINKAGE_SUPPORT"]));
        assert_eq!(a["orgUnit"]["name"], "石碣");
        assert_eq!(a["activity"]["title"], "创业分享会");
        assert_eq!(a["decidedAt"], Value::Null);
        assert_eq!(app.count("incentive_intent").await, 2);

        let amended = app
            .data(UPDATE, json!({ "id": a["id"], "input": { "scale": 220, "intents": ["HEAVYWEIGHT"], "place": null } }))
            .await;
        assert_eq!(amended["updateIncentiveApplication"]["scale"], 220);
        assert_eq!(amended["updateIncentiveApplication"]["intents"], json!(["HEAVYWEIGHT"]));
        assert_eq!(amended["updateIncentiveApplication"]["place"], Value::Null);
        assert_eq!(amended["updateIncentiveApplication"]["activityName"], "创业分享会");
        assert_eq!(app.count("incentive_intent").await, 1);

        let decided = app.data(DECIDE, json!({ "id": a["id"], "approve": true })).await;
        assert_eq!(decided["decideIncentiveApplication"]["status"], "APPROVED");
        assert!(decided["decideIncentiveApplication"]["decidedAt"].is_string());
    }

    async fn a_rejection_needs_a_note_and_a_decided_application_cannot_change(app) {
        let f = fixture(&app).await;
        let id = app.data(APPLY, form(&f.town, "话题讨论", json!(["TRAINING_SUPPORT"]))).await["applyForIncentive"]["id"].clone();
        for note in [Value::Null, json!("  ")] {
            let (code, message) = app.error(DECIDE, json!({ "id": id, "approve": false, "note": note })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        let rejected = app.data(DECIDE, json!({ "id": id, "approve": false, "note": "材料不全" })).await;
        assert_eq!(rejected["decideIncentiveApplication"]["status"], "REJECTED");
        assert_eq!(rejected["decideIncentiveApplication"]["decisionNote"], "材料不全");

        let (code, message) = app.error(DECIDE, json!({ "id": id, "approve": true })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("REJECTED"), "{message}");
        let (code, _) = app.error(UPDATE, json!({ "id": id, "input": { "scale": 10 } })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let stored = app
            .data("query($id: ID!) { incentiveApplication(id: $id) { status scale decisionNote } }", json!({ "id": id }))
            .await;
        assert_eq!(stored["incentiveApplication"], json!({ "status": "REJECTED", "scale": 150, "decisionNote": "材料不全" }));
        let (code, _) = app.error(DECIDE, json!({ "id": "987654", "approve": true })).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn applications_without_intents_with_repeated_intents_or_a_bad_form_are_refused(app) {
        let f = fixture(&app).await;
        let foreign_activity = activity_of(&app, &f.other_town).await;
        let ok = form(&f.town, "设计大赛", json!(["DESIGN_CONTEST"]));
        let with = |field: &str, value: Value| {
            let mut input = ok.clone();
            input["input"][field] = value;
            input
        };
        let cases = [
            with("intents", json!([])),
            with("intents", json!(["HEAVYWEIGHT", "HEAVYWEIGHT"])),
            with("endsAt", json!("2017-11-25T00:00:00Z")),
            with("scale", json!(-1)),
            with("activityName", json!(" ")),
            with("planUrl", json!("plan.docx")),
            with("orgUnitId", json!(f.city)),
            with("orgUnitId", json!("987654")),
            with("activityId", json!("987654")),
            with("activityId", foreign_activity),
        ];
        for input in cases {
            let (code, message) = app.error(APPLY, input.clone()).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
        }
        assert_eq!(app.count("incentive_application").await, 0);
        assert_eq!(app.count("incentive_intent").await, 0);

        let id = app.data(APPLY, ok.clone()).await["applyForIncentive"]["id"].clone();
        let (code, _) = app.error(UPDATE, json!({ "id": id, "input": { "intents": [] } })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, _) = app.error(UPDATE, json!({ "id": id, "input": { "startsAt": "2017-11-26T00:00:00Z" } })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert_eq!(app.count("incentive_intent").await, 1);
    }

    async fn the_incentive_desk_lists_applications_by_status_intent_town_and_text(app) {
        let f = fixture(&app).await;
        let a = app.data(APPLY, form(&f.town, "创业分享会", json!(["CULTURAL_GOODS", "HEAVYWEIGHT"]))).await["applyForIncentive"]["id"].clone();
        app.data(APPLY, form(&f.home, "青年之家读书会", json!(["CULTURAL_GOODS"]))).await;
        let mut topic = form(&f.other_town, "线上话题：青年就业", json!(["DESIGN_CONTEST"]));
        topic["input"]["kind"] = json!("ONLINE_TOPIC");
        app.data(APPLY, topic).await;
        app.data(DECIDE, json!({ "id": a, "approve": true })).await;

        let q = "query($filter: IncentiveApplicationFilter) {
            incentiveApplications(filter: $filter, orderBy: ACTIVITY_NAME) { totalCount nodes { activityName status intents orgUnit { name } } }
        }";
        let count = |filter: Value| {
            let app = &app;
            async move { app.data(q, json!({ "filter": filter })).await["incentiveApplications"]["totalCount"].clone() }
        };
        assert_eq!(count(json!({})).await, 3);
        assert_eq!(count(json!({ "status": "SUBMITTED" })).await, 2);
        assert_eq!(count(json!({ "status": "APPROVED" })).await, 1);
        assert_eq!(count(json!({ "intent": "CULTURAL_GOODS" })).await, 2);
        assert_eq!(count(json!({ "townId": f.town })).await, 2);
        assert_eq!(count(json!({ "orgUnitId": f.home })).await, 1);
        assert_eq!(count(json!({ "districtId": f.other_district })).await, 1);
        assert_eq!(count(json!({ "search": "就业" })).await, 1);
        assert_eq!(count(json!({ "submittedFrom": "2100-01-01T00:00:00Z" })).await, 0);
        assert_eq!(count(json!({ "submittedBefore": "2100-01-01T00:00:00Z" })).await, 3);

        let by_scale = app
            .data("{ incentiveApplications(orderBy: SCALE, direction: DESC, first: 1) { nodes { scale } pageInfo { hasNextPage } } }", json!({}))
            .await;
        assert_eq!(by_scale["incentiveApplications"]["pageInfo"]["hasNextPage"], true);
    }
}

/// The ids of `n` new members registered at `at`, inserted in one statement.
pub async fn bulk_members(app: &TestApp, n: usize, at: chrono::DateTime<chrono::Utc>) -> Vec<i64> {
    use entities::member;
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let prefix = format!("bulk-{}-", uuid::Uuid::new_v4().simple());
    let members = (0..n).map(|i| member::ActiveModel {
        nickname: Set(format!("{prefix}{i}")),
        registered_at: Set(at),
        ..Default::default()
    });
    member::Entity::insert_many(members)
        .exec_without_returning(&app.db)
        .await
        .unwrap();
    let ids: Vec<i64> = member::Entity::find()
        .filter(member::Column::Nickname.starts_with(&prefix))
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids.len(), n);
    ids
}

/// `n` new members signed up for `activity` at `at`, inserted in two statements.
pub async fn bulk_signups(app: &TestApp, activity: &Value, n: usize, at: &str) {
    use entities::activity_signup;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    let activity: i64 = activity.as_str().unwrap().parse().unwrap();
    let signups =
        bulk_members(app, n, at)
            .await
            .into_iter()
            .map(|member| activity_signup::ActiveModel {
                activity_id: Set(activity),
                member_id: Set(member),
                signed_up_at: Set(at),
                ..Default::default()
            });
    activity_signup::Entity::insert_many(signups)
        .exec_without_returning(&app.db)
        .await
        .unwrap();
}

/// A new activity of `unit`.
pub async fn new_activity(
    app: &TestApp,
    unit: &str,
    category: &str,
    ends_at: &str,
    heavyweight: bool,
) -> Value {
    let q = "mutation($u: ID!, $c: ActivityCategory!, $e: DateTime!, $h: Boolean!) {
        createActivity(input: {orgUnitId: $u, title: \"青年活动\", kind: OFFLINE, category: $c,
        startsAt: \"2017-11-01T01:00:00Z\", endsAt: $e, heavyweight: $h}) { id } }";
    app.data(
        q,
        json!({ "u": unit, "c": category, "e": ends_at, "h": heavyweight }),
    )
    .await["createActivity"]["id"]
        .clone()
}

const ELIGIBILITY: &str = "query($id: ID!) { incentiveApplication(id: $id) {
    eligibility { intent eligible reason amount grants ruleVersion { name version hash path } } } }";

/// The eligibility of each intent, by intent.
async fn eligibility(app: &TestApp, id: &Value) -> std::collections::HashMap<String, Value> {
    let data = app.data(ELIGIBILITY, json!({ "id": id })).await;
    data["incentiveApplication"]["eligibility"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["intent"].as_str().unwrap().to_owned(), e.clone()))
        .collect()
}

async fn apply_for(
    app: &TestApp,
    unit: &str,
    activity: &Value,
    scale: i64,
    intents: Value,
) -> Value {
    let mut input = form(unit, "青年活动", intents);
    input["input"]["activityId"] = activity.clone();
    input["input"]["scale"] = json!(scale);
    app.data(APPLY, input).await["applyForIncentive"]["id"].clone()
}

async fn set_scale(app: &TestApp, id: &Value, scale: i64) {
    app.data(UPDATE, json!({ "id": id, "input": { "scale": scale } }))
        .await;
}

both_databases! {
    async fn each_intent_is_judged_by_the_incentive_script_at_its_boundaries(app) {
        let f = fixture(&app).await;
        let activity = new_activity(&app, &f.home, "TRAINING", "2017-11-01T05:00:00Z", false).await;
        bulk_signups(&app, &activity, 50, "2017-10-30T01:00:00Z").await;
        let id = apply_for(&app, &f.town, &activity, 49, json!(["CULTURAL_GOODS", "LINKAGE_SUPPORT", "TRAINING_SUPPORT", "HEAVYWEIGHT"])).await;

        let e = eligibility(&app, &id).await;
        assert_eq!(e.len(), 4);
        assert_eq!(e["CULTURAL_GOODS"]["eligible"], false, "{:?}", e["CULTURAL_GOODS"]);
        assert_eq!(e["CULTURAL_GOODS"]["amount"], Value::Null);
        assert_eq!(e["LINKAGE_SUPPORT"]["eligible"], false);
        assert_eq!(e["LINKAGE_SUPPORT"]["grants"], json!([]));
        assert_eq!(e["TRAINING_SUPPORT"]["eligible"], false);
        assert!(e["TRAINING_SUPPORT"]["reason"].as_str().unwrap().contains("49"));
        assert_eq!(e["HEAVYWEIGHT"]["eligible"], true);
        let version = &e["HEAVYWEIGHT"]["ruleVersion"];
        assert_eq!(version["name"], "incentives");
        assert_eq!(version["version"], "2017.1");
        assert_eq!(version["path"], "incentives/2017.rhai");
        assert_eq!(version["hash"].as_str().unwrap().len(), 64);

        // 51 sign-ups: the roundup; 50 trainees: training support.
        bulk_signups(&app, &activity, 1, "2017-10-30T01:00:00Z").await;
        set_scale(&app, &id, 50).await;
        let e = eligibility(&app, &id).await;
        assert_eq!(e["LINKAGE_SUPPORT"]["eligible"], true);
        assert_eq!(e["LINKAGE_SUPPORT"]["grants"], json!(["roundup"]));
        assert_eq!(e["TRAINING_SUPPORT"]["eligible"], true);

        // A scale of 200 does not co-host, 201 does.
        set_scale(&app, &id, 200).await;
        assert_eq!(eligibility(&app, &id).await["LINKAGE_SUPPORT"]["grants"], json!(["roundup"]));
        set_scale(&app, &id, 201).await;
        assert_eq!(eligibility(&app, &id).await["LINKAGE_SUPPORT"]["grants"], json!(["co_hosting", "roundup"]));

        // 100 sign-ups get no goods, 101 get 10, 400 get the cap of 30.
        bulk_signups(&app, &activity, 49, "2017-10-30T01:00:00Z").await;
        assert_eq!(eligibility(&app, &id).await["CULTURAL_GOODS"]["eligible"], false);
        bulk_signups(&app, &activity, 1, "2017-10-30T01:00:00Z").await;
        let goods = &eligibility(&app, &id).await["CULTURAL_GOODS"];
        assert_eq!(goods["eligible"], true);
        assert_eq!(goods["amount"], 10);
        bulk_signups(&app, &activity, 299, "2017-10-30T01:00:00Z").await;
        assert_eq!(eligibility(&app, &id).await["CULTURAL_GOODS"]["amount"], 30);
    }

    async fn special_resources_co_host_and_an_application_no_rules_cover_is_not_judged(app) {
        let f = fixture(&app).await;
        let mut input = form(&f.town, "非遗青年说", json!(["LINKAGE_SUPPORT", "CULTURAL_GOODS"]));
        input["input"]["scale"] = json!(30);
        input["input"]["specialResources"] = json!(true);
        let id = app.data(APPLY, input).await["applyForIncentive"]["id"].clone();
        let e = eligibility(&app, &id).await;
        assert_eq!(e["LINKAGE_SUPPORT"]["grants"], json!(["co_hosting"]));
        // Cultural goods go by the actual sign-ups of a named activity.
        assert_eq!(e["CULTURAL_GOODS"]["eligible"], false);

        let updated = app
            .data("mutation($id: ID!) { updateIncentiveApplication(id: $id, input: { specialResources: false, startsAt: \"2018-03-01T01:00:00Z\", endsAt: \"2018-03-01T05:00:00Z\" }) { specialResources } }", json!({ "id": id }))
            .await;
        assert_eq!(updated["updateIncentiveApplication"]["specialResources"], false);
        let e = eligibility(&app, &id).await;
        assert_eq!(e["LINKAGE_SUPPORT"]["eligible"], Value::Null);
        assert_eq!(e["LINKAGE_SUPPORT"]["ruleVersion"], Value::Null);
        assert!(e["LINKAGE_SUPPORT"]["reason"].as_str().unwrap().contains("incentives"));
    }

    async fn a_heavyweight_activity_counts_for_its_publisher_only_once_approved(app) {
        let f = fixture(&app).await;
        let approved = new_activity(&app, &f.home, "CONTEST", "2017-11-01T05:00:00Z", true).await;
        let rejected = new_activity(&app, &f.home, "CONTEST", "2017-11-01T05:00:00Z", true).await;
        bulk_signups(&app, &approved, 3, "2017-11-10T01:00:00Z").await;
        bulk_signups(&app, &rejected, 4, "2017-11-10T01:00:00Z").await;
        let status = |id: Value| {
            let app = &app;
            async move {
                app.data("query($id: ID!) { activity(id: $id) { heavyweight heavyweightStatus heavyweightDecisionNote eligibility { countsTowardIndex reasons } } }", json!({ "id": id }))
                    .await["activity"].clone()
            }
        };
        let signups = |data: &Value| -> Value {
            let entry = data["entries"]["nodes"].as_array().unwrap().iter().find(|e| e["orgUnit"]["code"] == "town-shijie").unwrap().clone();
            entry["indicators"].as_array().unwrap().iter().find(|i| i["key"] == "youth_home_signups").unwrap()["raw"].clone()
        };
        const BOARD: &str = "query { ranking(period: \"2017-11\") { entries(first: 100) { nodes { orgUnit { code } indicators { key raw } } } } }";
        const RECOMPUTE: &str = "mutation { recomputeRanking(period: \"2017-11\") { entries(first: 100) { nodes { orgUnit { code } indicators { key raw } } } } }";

        let pending = status(approved.clone()).await;
        assert_eq!(pending["heavyweightStatus"], "PENDING");
        assert_eq!(signups(&app.data(BOARD, json!({})).await["ranking"]), 0.0);
        // Its page says what the figures do: it does not count, and why.
        let unapproved = |shown: &Value| {
            shown["eligibility"]["reasons"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().contains("重磅活动尚未获批"))
        };
        assert_eq!(pending["eligibility"]["countsTowardIndex"], false);
        assert!(unapproved(&pending), "{pending}");

        let a = apply_for(&app, &f.town, &approved, 300, json!(["HEAVYWEIGHT"])).await;
        let r = apply_for(&app, &f.town, &rejected, 300, json!(["HEAVYWEIGHT", "DESIGN_CONTEST"])).await;
        app.data(DECIDE, json!({ "id": a, "approve": true })).await;
        app.data(DECIDE, json!({ "id": r, "approve": false, "note": "不属于全市性重磅活动" })).await;

        let shown = status(approved).await;
        assert_eq!(shown["heavyweightStatus"], "APPROVED");
        assert!(!unapproved(&shown), "approved: {shown}");
        let shown = status(rejected).await;
        assert_eq!(shown["heavyweightStatus"], "REJECTED");
        assert_eq!(shown["eligibility"]["countsTowardIndex"], false);
        assert!(unapproved(&shown), "{shown}");
        assert_eq!(shown["heavyweightDecisionNote"], "不属于全市性重磅活动");
        assert_eq!(signups(&app.data(RECOMPUTE, json!({})).await["recomputeRanking"]), 3.0);

        let ordinary = new_activity(&app, &f.home, "CONTEST", "2017-11-01T05:00:00Z", false).await;
        assert_eq!(status(ordinary).await["heavyweightStatus"], Value::Null);
    }
}

/// The incentive rules of a running server change with a published script, no rebuild.
async fn a_changed_threshold_changes_the_outcome(app: TestApp) {
    let f = fixture(&app).await;
    let activity = new_activity(&app, &f.home, "THEMED", "2017-11-01T05:00:00Z", false).await;
    bulk_signups(&app, &activity, 110, "2017-10-30T01:00:00Z").await;
    let id = apply_for(&app, &f.town, &activity, 150, json!(["CULTURAL_GOODS"])).await;
    let before = &eligibility(&app, &id).await["CULTURAL_GOODS"];
    assert_eq!(before["eligible"], true);
    assert_eq!(before["amount"], 11);

    let rules = crate::helpers::shipped_rules();
    let source = std::fs::read_to_string(rules.join("incentives/2017.rhai")).unwrap();
    let changed = source
        .replace("counted.n <= 100", "counted.n <= 120")
        .replace("version: \"2017.1\"", "version: \"2017.2\"");
    assert_ne!(changed, source);
    let tests = std::fs::read_to_string(rules.join("incentives/2017.tests.json"))
        .unwrap()
        .replace("\"signups\": 101,", "\"signups\": 121,")
        .replace(
            "\"topic_participants\": 101 }",
            "\"topic_participants\": 121 }",
        )
        .replace("\"amount\": 10 }", "\"amount\": 12 }");
    let published = app
        .data(
            "mutation($s: String!, $t: String) { publishRuleSet(path: \"incentives/2017.rhai\", source: $s, tests: $t) { changed } }",
            json!({ "s": changed, "t": tests }),
        )
        .await;
    assert_eq!(published["publishRuleSet"]["changed"], true);
    let after = &eligibility(&app, &id).await["CULTURAL_GOODS"];
    assert_eq!(after["eligible"], false, "{after}");
    assert_ne!(after["ruleVersion"]["hash"], before["ruleVersion"]["hash"]);
}

mod a_changed_threshold_in_the_incentive_script_flips_the_eligibility_without_a_rebuild {
    use super::*;

    fn copied_rules() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("qii-rules-{}", uuid::Uuid::new_v4()));
        crate::promise::copy_rules(&dir);
        dir
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        let dir = copied_rules();
        a_changed_threshold_changes_the_outcome(TestApp::sqlite_with_rules(&dir).await).await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        let dir = copied_rules();
        if let Some(app) = TestApp::postgres_with_rules(&dir).await {
            a_changed_threshold_changes_the_outcome(app).await;
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
