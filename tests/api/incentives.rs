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
