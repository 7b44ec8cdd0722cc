//! Offline service requests at Youth Homes: the workflow, its history, the inbox.

use qii_domain::identity::Role;
use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp};

/// A small org tree built through the API: two districts, the city, a town in each
/// district, a Youth Home and a school in the first town, a city-level unit, a member.
pub struct Fixture {
    pub district: String,
    pub other_district: String,
    pub city: String,
    pub town: String,
    pub other_town: String,
    pub home: String,
    pub school: String,
    pub city_unit: String,
    pub member: String,
}

/// Builds the [`Fixture`] tree.
pub async fn fixture(app: &TestApp) -> Fixture {
    let district =
        |code: &str, name: &str| json!({ "input": { "code": code, "name": name, "nameEn": code } });
    let create_district =
        "mutation($input: CreateDistrictInput!) { createDistrict(input: $input) { id } }";
    let d1 =
        app.data(create_district, district("d1", "第一片区")).await["createDistrict"]["id"].clone();
    let d2 =
        app.data(create_district, district("d2", "第二片区")).await["createDistrict"]["id"].clone();
    let unit = |input: Value| async move {
        let q = "mutation($input: CreateOrgUnitInput!) { createOrgUnit(input: $input) { id } }";
        let data = app.data(q, json!({ "input": input })).await;
        data["createOrgUnit"]["id"].as_str().unwrap().to_owned()
    };
    let city = unit(json!({ "code": "city", "name": "团市委", "kind": "CITY" })).await;
    let town = unit(json!({ "code": "town-shijie", "name": "石碣", "kind": "TOWN", "parentId": city, "districtId": d1 })).await;
    let other_town =
        unit(json!({ "code": "town-houjie", "name": "厚街", "kind": "TOWN", "parentId": city, "districtId": d2 })).await;
    let home = unit(json!({ "code": "yh-shijie-1", "name": "石碣青年之家", "kind": "YOUTH_HOME", "parentId": town })).await;
    let school = unit(
        json!({ "code": "school-shijie", "name": "石碣中学", "kind": "SCHOOL", "parentId": town }),
    )
    .await;
    let city_unit =
        unit(json!({ "code": "cu-guanxianghua", "name": "莞香花", "kind": "CITY_UNIT", "parentId": city, "districtId": d1 }))
            .await;
    let member = app
        .data(
            "mutation { registerMember(input: {nickname: \"小莞\"}) { id } }",
            json!({}),
        )
        .await["registerMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        district: d1.as_str().unwrap().to_owned(),
        other_district: d2.as_str().unwrap().to_owned(),
        city,
        town,
        other_town,
        home,
        school,
        city_unit,
        member,
    }
}

const FIELDS: &str = "id title status ageInDays rating feedback ratedAt nextStatuses
    youthHome { name } applicant { nickname }
    history { fromStatus toStatus actor note at }";

async fn submit(app: &TestApp, f: &Fixture, title: &str) -> Value {
    let q = format!(
        "mutation($input: SubmitServiceRequestInput!) {{ submitServiceRequest(input: $input) {{ {FIELDS} }} }}"
    );
    let input = json!({ "youthHomeId": f.home, "applicantId": f.member, "title": title, "description": "想了解创业补贴政策" });
    app.data(&q, json!({ "input": input })).await["submitServiceRequest"].clone()
}

const ADVANCE: &str = "mutation($id: ID!, $to: ServiceRequestStatus!, $note: String) {
    advanceServiceRequest(id: $id, input: {to: $to, note: $note}) {
        id status nextStatuses updatedAt history { fromStatus toStatus actor note }
    }
}";

const RATE: &str = "mutation($id: ID!, $rating: Int!, $feedback: String) {
    rateServiceRequest(id: $id, input: {rating: $rating, feedback: $feedback}) { id rating feedback ratedAt }
}";

async fn advance(app: &TestApp, id: &Value, to: &str) -> Value {
    app.data(
        ADVANCE,
        json!({ "id": id, "to": to, "note": format!("to {to}") }),
    )
    .await["advanceServiceRequest"]
        .clone()
}

both_databases! {
    async fn a_service_request_goes_from_submitted_to_completed_with_its_history_and_is_rated_once(app) {
        let f = fixture(&app).await;
        let request = submit(&app, &f, "创业咨询").await;
        assert_eq!(request["status"], "SUBMITTED");
        assert_eq!(request["nextStatuses"], json!(["REVIEWED"]));
        assert_eq!(request["ageInDays"], 0);
        assert_eq!(request["youthHome"]["name"], "石碣青年之家");
        assert_eq!(request["applicant"]["nickname"], "小莞");
        assert_eq!(request["history"].as_array().unwrap().len(), 1);
        assert_eq!(request["history"][0]["fromStatus"], Value::Null);
        assert_eq!(request["history"][0]["toStatus"], "SUBMITTED");
        assert_eq!(request["history"][0]["actor"], "city_admin:test-admin");
        let id = request["id"].clone();

        let reviewed = advance(&app, &id, "REVIEWED").await;
        assert_eq!(reviewed["nextStatuses"], json!(["INTERVENING"]));
        let intervening = advance(&app, &id, "INTERVENING").await;
        assert_eq!(intervening["nextStatuses"], json!(["COMPLETED"]));
        let completed = advance(&app, &id, "COMPLETED").await;
        assert_eq!(completed["status"], "COMPLETED");
        assert_eq!(completed["nextStatuses"], json!([]));
        let steps: Vec<(Value, Value)> = completed["history"].as_array().unwrap().iter()
            .map(|e| (e["fromStatus"].clone(), e["toStatus"].clone())).collect();
        assert_eq!(steps, vec![
            (Value::Null, json!("SUBMITTED")),
            (json!("SUBMITTED"), json!("REVIEWED")),
            (json!("REVIEWED"), json!("INTERVENING")),
            (json!("INTERVENING"), json!("COMPLETED")),
        ]);
        assert_eq!(completed["history"][3]["note"], "to COMPLETED");
        assert_eq!(app.count("service_request_event").await, 4);

        let rated = app.data(RATE, json!({ "id": id, "rating": 5, "feedback": "很有帮助" })).await;
        assert_eq!(rated["rateServiceRequest"]["rating"], 5);
        assert_eq!(rated["rateServiceRequest"]["feedback"], "很有帮助");
        assert!(rated["rateServiceRequest"]["ratedAt"].is_string());

        let (code, message) = app.error(RATE, json!({ "id": id, "rating": 1 })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert!(message.contains("already been rated"), "{message}");
        let again = app.data("query($id: ID!) { serviceRequest(id: $id) { rating feedback } }", json!({ "id": id })).await;
        assert_eq!(again["serviceRequest"], json!({ "rating": 5, "feedback": "很有帮助" }));
    }

    async fn an_illegal_transition_names_the_current_and_allowed_statuses_and_writes_nothing(app) {
        let f = fixture(&app).await;
        let request = submit(&app, &f, "法律咨询").await;
        let id = request["id"].clone();
        let events = app.count("service_request_event").await;

        let (code, message) = app.error(ADVANCE, json!({ "id": id, "to": "COMPLETED" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("SUBMITTED") && message.contains("REVIEWED"), "{message}");
        assert_eq!(app.count("service_request_event").await, events);
        let unchanged = app.data("query($id: ID!) { serviceRequest(id: $id) { status updatedAt } }", json!({ "id": id })).await;
        assert_eq!(unchanged["serviceRequest"]["status"], "SUBMITTED");

        for to in ["REVIEWED", "INTERVENING", "COMPLETED"] {
            advance(&app, &id, to).await;
        }
        let events = app.count("service_request_event").await;
        for to in ["SUBMITTED", "REVIEWED", "INTERVENING", "COMPLETED"] {
            let (code, message) = app.error(ADVANCE, json!({ "id": id, "to": to })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
            assert!(message.contains("COMPLETED") && message.contains("none"), "{message}");
        }
        assert_eq!(app.count("service_request_event").await, events);

        let (code, _) = app.error(ADVANCE, json!({ "id": "987654", "to": "REVIEWED" })).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn requests_to_units_that_are_not_youth_homes_or_from_unknown_members_are_refused(app) {
        let f = fixture(&app).await;
        let q = "mutation($input: SubmitServiceRequestInput!) { submitServiceRequest(input: $input) { id } }";
        let ok = json!({ "youthHomeId": f.home, "applicantId": f.member, "title": "心理咨询", "description": "需要帮助" });
        let mut to_town = ok.clone();
        to_town["youthHomeId"] = json!(f.town);
        let mut unknown_home = ok.clone();
        unknown_home["youthHomeId"] = json!("987654");
        let mut unknown_member = ok.clone();
        unknown_member["applicantId"] = json!("987654");
        let mut blank_title = ok.clone();
        blank_title["title"] = json!("   ");
        let mut blank_description = ok.clone();
        blank_description["description"] = json!("");
        for input in [to_town, unknown_home, unknown_member, blank_title, blank_description] {
            let (code, message) = app.error(q, json!({ "input": input })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
        }
        assert_eq!(app.count("service_request").await, 0);
        assert_eq!(app.count("service_request_event").await, 0);
    }

    async fn rating_waits_for_completion_and_edits_stop_at_completion(app) {
        let f = fixture(&app).await;
        let id = submit(&app, &f, "就业指导").await["id"].clone();
        let (code, message) = app.error(RATE, json!({ "id": id, "rating": 4 })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("COMPLETED"), "{message}");

        let update = "mutation($id: ID!, $title: String) { updateServiceRequest(id: $id, input: {title: $title}) { title description } }";
        let updated = app.data(update, json!({ "id": id, "title": "就业指导（更新）" })).await;
        assert_eq!(updated["updateServiceRequest"]["title"], "就业指导（更新）");
        assert_eq!(updated["updateServiceRequest"]["description"], "想了解创业补贴政策");

        for to in ["REVIEWED", "INTERVENING", "COMPLETED"] {
            advance(&app, &id, to).await;
        }
        for rating in [0, 6] {
            let (code, message) = app.error(RATE, json!({ "id": id, "rating": rating })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        let (code, message) = app.error(update, json!({ "id": id, "title": "再改" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("COMPLETED"), "{message}");
        let stored = app.data("query($id: ID!) { serviceRequest(id: $id) { title rating } }", json!({ "id": id })).await;
        assert_eq!(stored["serviceRequest"], json!({ "title": "就业指导（更新）", "rating": null }));
    }

    async fn the_inbox_filters_by_home_town_district_status_and_text(app) {
        let f = fixture(&app).await;
        let a = submit(&app, &f, "创业咨询").await["id"].clone();
        let b = submit(&app, &f, "法律援助").await["id"].clone();
        submit(&app, &f, "婚恋交友").await;
        advance(&app, &a, "REVIEWED").await;
        advance(&app, &b, "REVIEWED").await;
        advance(&app, &b, "INTERVENING").await;

        let q = "query($filter: ServiceRequestFilter, $dir: SortDirection = ASC) {
            serviceRequests(filter: $filter, orderBy: SUBMITTED_AT, direction: $dir) { totalCount nodes { id title status } }
        }";
        let count = |filter: Value| {
            let app = &app;
            async move { app.data(q, json!({ "filter": filter })).await["serviceRequests"]["totalCount"].clone() }
        };
        assert_eq!(count(json!({ "youthHomeId": f.home })).await, 3);
        assert_eq!(count(json!({ "townId": f.town })).await, 3);
        assert_eq!(count(json!({ "districtId": f.district })).await, 3);
        assert_eq!(count(json!({ "districtId": f.other_district })).await, 0);
        assert_eq!(count(json!({ "townId": f.other_town })).await, 0);
        assert_eq!(count(json!({ "applicantId": f.member })).await, 3);
        assert_eq!(count(json!({ "status": "SUBMITTED" })).await, 1);
        assert_eq!(count(json!({ "statuses": ["REVIEWED", "INTERVENING"] })).await, 2);
        assert_eq!(count(json!({ "search": "法律" })).await, 1);
        assert_eq!(count(json!({ "search": "创业补贴" })).await, 3);
        assert_eq!(count(json!({ "submittedFrom": "2100-01-01T00:00:00Z" })).await, 0);
        assert_eq!(count(json!({ "submittedBefore": "2100-01-01T00:00:00Z" })).await, 3);

        let newest_first = app.data(q, json!({ "dir": "DESC" })).await;
        assert_eq!(newest_first["serviceRequests"]["nodes"][0]["title"], "婚恋交友");

        let events = app
            .data(
                "query($r: ID) { serviceRequestEvents(filter: {requestId: $r}) { totalCount nodes { toStatus request { title } } } }",
                json!({ "r": b }),
            )
            .await;
        assert_eq!(events["serviceRequestEvents"]["totalCount"], 3);
        assert_eq!(events["serviceRequestEvents"]["nodes"][2]["toStatus"], "INTERVENING");
        assert_eq!(events["serviceRequestEvents"]["nodes"][0]["request"]["title"], "法律援助");
    }

    async fn the_serving_youth_homes_administrators_see_the_applicant_in_full_and_others_do_not(app) {
        let f = fixture(&app).await;
        app.data(
            "mutation($id: ID!) { updateMember(id: $id, input: { nickname: \"陈小莞\", mobile: \"13812345678\" }) { id } }",
            json!({ "id": f.member }),
        )
        .await;
        let id = submit(&app, &f, "创业咨询").await["id"].clone();
        let read = "query($id: ID!) { serviceRequest(id: $id) { applicant { nickname mobile } } }";
        let home_admin = app.token_for(Role::YouthHomeAdmin(f.home.parse().unwrap()), "home-admin");
        let shown = app.data_as(Some(&home_admin), read, json!({ "id": id })).await;
        assert_eq!(
            shown["serviceRequest"]["applicant"],
            json!({ "nickname": "陈小莞", "mobile": "13812345678" }),
            "the home calls its applicant back"
        );
        // Another Youth Home's administrator, who serves none of the member's requests,
        // sees the member masked, if at all.
        let second = app
            .data(
                "mutation($t: ID!) { createOrgUnit(input: { code: \"yh-shijie-2\", name: \"石碣第二青年之家\", kind: YOUTH_HOME, parentId: $t }) { id } }",
                json!({ "t": f.town }),
            )
            .await["createOrgUnit"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let second_admin = app.token_for(Role::YouthHomeAdmin(second.parse().unwrap()), "second-home");
        let member = app
            .graphql_as(Some(&second_admin), "query($id: ID!) { member(id: $id) { nickname mobile } }", json!({ "id": f.member }))
            .await;
        let seen = &member["data"]["member"];
        assert!(seen.is_null() || seen["nickname"] == "陈**", "{member}");
        // The administrators of another town do not read the request at all.
        let other = app.token_for(Role::TownAdmin(f.other_town.parse().unwrap()), "other-town");
        let refused = app.graphql_as(Some(&other), read, json!({ "id": id })).await;
        assert!(refused["data"]["serviceRequest"].is_null(), "{refused}");
    }

    async fn the_inbox_with_homes_applicants_and_histories_takes_a_bounded_number_of_statements(app) {
        let f = fixture(&app).await;
        let second_home = app
            .data(
                "mutation($t: ID) { createOrgUnit(input: {code: \"yh-shijie-2\", name: \"石碣第二青年之家\", kind: YOUTH_HOME, parentId: $t}) { id } }",
                json!({ "t": f.town }),
            )
            .await["createOrgUnit"]["id"].clone();
        let submit_to = "mutation($h: ID!, $m: ID!, $t: String!) {
            submitServiceRequest(input: {youthHomeId: $h, applicantId: $m, title: $t, description: \"请求\"}) { id }
        }";
        for n in 0..12 {
            let member = app
                .data("mutation($n: String!) { registerMember(input: {nickname: $n}) { id } }", json!({ "n": format!("青年{n}") }))
                .await["registerMember"]["id"].clone();
            let home = if n % 2 == 0 { json!(f.home) } else { second_home.clone() };
            let id = app.data(submit_to, json!({ "h": home, "m": member, "t": format!("请求{n}") })).await["submitServiceRequest"]["id"].clone();
            if n % 3 == 0 {
                advance(&app, &id, "REVIEWED").await;
            }
        }
        let query = "{ serviceRequests(first: 50) { nodes { youthHome { name } applicant { nickname } history { toStatus } nextStatuses ageInDays } } }";
        let before = app.statements.get();
        let data = app.data(query, json!({})).await;
        let statements = app.statements.get() - before;
        let nodes = data["serviceRequests"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 12);
        assert!(nodes.iter().all(|n| !n["history"].as_array().unwrap().is_empty()));
        // One page query, then one batched query each for homes, applicants, histories.
        assert!(statements <= 4, "{statements} statements for {} requests", nodes.len());
    }
}
