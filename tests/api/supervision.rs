//! Supervisors, supervision meetings and attendance receipts.

use serde_json::{json, Value};

use crate::{both_databases, service_requests::fixture};

const ASSIGN: &str = "mutation($input: AssignSupervisorInput!) {
    assignSupervisor(input: $input) { id supervisorName university mobile startsOn endsOn town { name } }
}";

const UPDATE_ASSIGNMENT: &str = "mutation($id: ID!, $input: UpdateSupervisorAssignmentInput!) {
    updateSupervisorAssignment(id: $id, input: $input) { id startsOn endsOn mobile university }
}";

const CREATE_MEETING: &str = "mutation($input: CreateSupervisionMeetingInput!) {
    createSupervisionMeeting(input: $input) { id heldOn venue receiptsDueOn district { code } visitOrgUnit { name } }
}";

const RECEIPT: &str = "mutation($input: SubmitAttendanceReceiptInput!) {
    submitAttendanceReceipt(input: $input) { id name title mobile orgUnit { name } meeting { venue } }
}";

fn assignment(town: &str, name: &str, starts: &str, ends: Option<&str>) -> Value {
    json!({ "input": {
        "townId": town, "supervisorName": name, "university": "东莞理工学院",
        "mobile": "138 0000 1111", "startsOn": starts, "endsOn": ends
    } })
}

fn meeting(district: &str, visit: Option<&str>) -> Value {
    json!({ "input": {
        "districtId": district, "heldOn": "2017-10-26", "venue": "石碣", "visitOrgUnitId": visit,
        "agenda": "工作交流；参与线上话题；讲解目标；督导；培训", "receiptsDueOn": "2017-10-23"
    } })
}

/// A receipt: a 书记 comes as the secretary, anyone else as an operator.
fn receipt(meeting: &Value, unit: &str, name: &str) -> Value {
    let role = if name.ends_with("书记") {
        "SECRETARY"
    } else {
        "OPERATOR"
    };
    json!({ "input": { "meetingId": meeting, "orgUnitId": unit, "name": name, "title": "团委书记", "mobile": "13900001111", "role": role } })
}

fn deputy_of(meeting: &Value, unit: &str) -> Value {
    let mut r = receipt(meeting, unit, "王副书记");
    r["input"]["role"] = json!("DEPUTY");
    r
}

both_databases! {
    async fn a_receipt_sent_after_its_due_day_is_flagged_late_and_the_rules_may_refuse_it(app) {
        let f = fixture(&app).await;
        let late_fields = "mutation($input: SubmitAttendanceReceiptInput!) {
            submitAttendanceReceipt(input: $input) { id submittedAt late } }";
        // The first meetings: receipts due on 23 October 2017.
        let past = app.data(CREATE_MEETING, meeting(&f.district, None)).await["createSupervisionMeeting"]["id"].clone();
        let sent = app.data(late_fields, receipt(&past, &f.town, "张书记")).await["submitAttendanceReceipt"].clone();
        assert_eq!(sent["late"], true, "{sent}");
        assert!(sent["submittedAt"].is_string());
        // A meeting a month ahead, its receipts due in three weeks: on time.
        let today = chrono::Utc::now().date_naive();
        let ahead = json!({ "input": {
            "districtId": f.district, "heldOn": (today + chrono::Duration::days(30)).to_string(), "venue": "厚街",
            "receiptsDueOn": (today + chrono::Duration::days(21)).to_string()
        } });
        let coming = app.data(CREATE_MEETING, ahead).await["createSupervisionMeeting"]["id"].clone();
        let on_time = app.data(late_fields, receipt(&coming, &f.town, "张书记")).await;
        assert_eq!(on_time["submitAttendanceReceipt"]["late"], false);

        // Rules that refuse late receipts: the late one is refused, nothing written.
        let script = std::fs::read_to_string(crate::helpers::shipped_rules().join("supervision/2017.rhai")).unwrap();
        let tests = std::fs::read_to_string(crate::helpers::shipped_rules().join("supervision/2017.tests.json")).unwrap();
        let strict = script
            .replace("late_receipts: \"accept\"", "late_receipts: \"refuse\"")
            .replace("version: \"2017.1\"", "version: \"2017.2\"");
        assert!(strict.contains("\"refuse\"") && strict.contains("2017.2"));
        let published = app
            .data(
                "mutation($s: String!, $t: String) { publishRuleSet(path: \"supervision/2017.rhai\", source: $s, tests: $t) { changed } }",
                json!({ "s": strict, "t": tests.replace("\"late_receipts\": \"accept\"", "\"late_receipts\": \"refuse\"") }),
            )
            .await;
        assert_eq!(published["publishRuleSet"]["changed"], true);
        let before = app.count("meeting_attendance").await;
        let refused = app.graphql(late_fields, receipt(&past, &f.town, "刘干事")).await;
        let error = &refused["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
        assert_eq!(error["extensions"]["field"], "meetingId");
        assert!(error["message"].as_str().unwrap().contains("due 2017-10-23"), "{refused}");
        assert_eq!(app.count("meeting_attendance").await, before);
        let still = app.data(late_fields, receipt(&coming, &f.town, "刘干事")).await;
        assert_eq!(still["submitAttendanceReceipt"]["late"], false, "on time is still welcome");
    }

    async fn a_unit_sends_at_most_its_secretary_or_deputy_and_two_operators_as_the_rules_say(app) {
        let f = fixture(&app).await;
        let id = app.data(CREATE_MEETING, meeting(&f.district, None)).await["createSupervisionMeeting"]["id"].clone();
        let sent = app.data(RECEIPT, receipt(&id, &f.town, "张书记")).await;
        assert_eq!(sent["submitAttendanceReceipt"]["name"], "张书记");
        app.data(RECEIPT, receipt(&id, &f.town, "刘干事")).await;
        app.data(RECEIPT, receipt(&id, &f.town, "陈干事")).await;
        let before = app.count("meeting_attendance").await;

        let (code, message) = app.error(RECEIPT, receipt(&id, &f.town, "黄干事")).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("at most 2"), "{message}");
        let mut deputy = receipt(&id, &f.town, "李副书记");
        deputy["input"]["role"] = json!("DEPUTY");
        let (code, message) = app.error(RECEIPT, deputy.clone()).await;
        assert_eq!(code, "BAD_USER_INPUT", "the secretary and the deputy share one place");
        assert!(message.contains("at most 1"), "{message}");
        assert_eq!(app.count("meeting_attendance").await, before, "nothing written");

        // Another unit has its own places; a changed role is checked as well.
        app.data(RECEIPT, deputy_of(&id, &f.city_unit)).await;
        let operator = app.data(RECEIPT, receipt(&id, &f.city_unit, "周干事")).await;
        let (code, _) = app
            .error(
                "mutation($id: ID!) { updateAttendanceReceipt(id: $id, input: {role: SECRETARY}) { role } }",
                json!({ "id": operator["submitAttendanceReceipt"]["id"] }),
            )
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        let roles = app
            .data("query($id: ID!) { supervisionMeeting(id: $id) { attendance { nodes { role } } } }", json!({ "id": id }))
            .await;
        let roles: Vec<&str> = roles["supervisionMeeting"]["attendance"]["nodes"].as_array().unwrap().iter().map(|r| r["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["SECRETARY", "OPERATOR", "OPERATOR", "DEPUTY", "OPERATOR"]);
    }

    async fn supervisors_are_assigned_from_december_2017_as_the_rules_say(app) {
        let f = fixture(&app).await;
        let before = app.count("supervisor_assignment").await;
        let (code, message) = app.error(ASSIGN, assignment(&f.town, "李同学", "2017-11-30", None)).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("2017-12"), "{message}");
        assert_eq!(app.count("supervisor_assignment").await, before);
        app.data(ASSIGN, assignment(&f.town, "李同学", "2017-12-01", None)).await;
    }

    async fn a_supervisor_is_assigned_to_a_town_and_listed_by_district_and_day(app) {
        let f = fixture(&app).await;
        let first = app.data(ASSIGN, assignment(&f.town, "李同学", "2017-12-01", Some("2017-12-31"))).await;
        let a = &first["assignSupervisor"];
        assert_eq!(a["town"]["name"], "石碣");
        assert_eq!(a["mobile"], "13800001111");
        // The next period of the same town may start the day after.
        app.data(ASSIGN, assignment(&f.town, "王同学", "2018-01-01", None)).await;
        app.data(ASSIGN, assignment(&f.other_town, "陈同学", "2017-12-01", None)).await;

        let q = "query($filter: SupervisorAssignmentFilter) {
            supervisorAssignments(filter: $filter, orderBy: SUPERVISOR_NAME) { totalCount nodes { supervisorName town { name } } }
        }";
        let list = |filter: Value| {
            let app = &app;
            async move { app.data(q, json!({ "filter": filter })).await["supervisorAssignments"].clone() }
        };
        assert_eq!(list(json!({ "townId": f.town })).await["totalCount"], 2);
        assert_eq!(list(json!({ "districtId": f.other_district })).await["nodes"], json!([{ "supervisorName": "陈同学", "town": { "name": "厚街" } }]));
        let on_day = list(json!({ "townId": f.town, "activeOn": "2018-03-01" })).await;
        assert_eq!(on_day["nodes"], json!([{ "supervisorName": "王同学", "town": { "name": "石碣" } }]));
        assert_eq!(list(json!({ "startsFrom": "2018-01-01" })).await["totalCount"], 1);
        assert_eq!(list(json!({ "startsTo": "2017-12-01" })).await["totalCount"], 2);

        let changed = app
            .data(UPDATE_ASSIGNMENT, json!({ "id": a["id"], "input": { "endsOn": "2017-12-20", "mobile": null, "university": "广东医科大学" } }))
            .await;
        assert_eq!(changed["updateSupervisorAssignment"]["endsOn"], "2017-12-20");
        assert_eq!(changed["updateSupervisorAssignment"]["mobile"], Value::Null);
        let one = app.data("query($id: ID!) { supervisorAssignment(id: $id) { university } }", json!({ "id": a["id"] })).await;
        assert_eq!(one["supervisorAssignment"]["university"], "广东医科大学");
    }

    async fn overlapping_assignments_and_assignments_to_units_that_are_not_towns_are_refused(app) {
        let f = fixture(&app).await;
        let first = app.data(ASSIGN, assignment(&f.town, "李同学", "2017-12-01", Some("2017-12-31"))).await;
        let open = app.data(ASSIGN, assignment(&f.town, "王同学", "2018-01-01", None)).await;
        let before = app.count("supervisor_assignment").await;
        let cases = [
            assignment(&f.town, "赵同学", "2017-12-15", Some("2018-01-10")),
            assignment(&f.town, "赵同学", "2017-11-01", Some("2017-12-01")),
            assignment(&f.town, "赵同学", "2019-06-01", None),
            assignment(&f.home, "赵同学", "2017-12-01", None),
            assignment(&f.city, "赵同学", "2017-12-01", None),
            assignment("987654", "赵同学", "2017-12-01", None),
            assignment(&f.other_town, "赵同学", "2017-12-10", Some("2017-12-01")),
            assignment(&f.other_town, " ", "2017-12-01", None),
        ];
        for input in cases {
            let (code, message) = app.error(ASSIGN, input.clone()).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
        }
        let (_, message) = app.error(ASSIGN, assignment(&f.town, "赵同学", "2017-12-15", Some("2017-12-20"))).await;
        assert!(message.contains("李同学"), "{message}");
        // Moving the first period into the open-ended one is refused as well.
        let (code, _) = app
            .error(UPDATE_ASSIGNMENT, json!({ "id": first["assignSupervisor"]["id"], "input": { "endsOn": null } }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        let (code, _) = app
            .error(UPDATE_ASSIGNMENT, json!({ "id": open["assignSupervisor"]["id"], "input": { "startsOn": "2017-12-31" } }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert_eq!(app.count("supervisor_assignment").await, before);
        let kept = app.data("query($id: ID!) { supervisorAssignment(id: $id) { endsOn } }", json!({ "id": first["assignSupervisor"]["id"] })).await;
        assert_eq!(kept["supervisorAssignment"]["endsOn"], "2017-12-31");
    }

    async fn a_meeting_collects_receipts_from_the_towns_and_city_units_of_its_district(app) {
        let f = fixture(&app).await;
        let created = app.data(CREATE_MEETING, meeting(&f.district, Some(f.home.as_str()))).await;
        let m = created["createSupervisionMeeting"].clone();
        assert_eq!(m["visitOrgUnit"]["name"], "石碣青年之家");
        assert_eq!(m["district"]["code"], "d1");
        let id = m["id"].clone();

        let r = app.data(RECEIPT, receipt(&id, &f.town, "张书记")).await;
        assert_eq!(r["submitAttendanceReceipt"]["meeting"]["venue"], "石碣");
        app.data(RECEIPT, receipt(&id, &f.town, "刘干事")).await;
        app.data(RECEIPT, receipt(&id, &f.city_unit, "黄老师")).await;

        let detail = app
            .data("query($id: ID!) { supervisionMeeting(id: $id) { attendanceCount attendance { nodes { name orgUnit { name } } } } }", json!({ "id": id }))
            .await;
        let m = &detail["supervisionMeeting"];
        assert_eq!(m["attendanceCount"], 3);
        assert_eq!(m["attendance"]["nodes"][2], json!({ "name": "黄老师", "orgUnit": { "name": "莞香花" } }));

        let q = "query($filter: AttendanceReceiptFilter) { attendanceReceipts(filter: $filter, orderBy: NAME) { totalCount nodes { name } } }";
        let count = |filter: Value| {
            let app = &app;
            async move { app.data(q, json!({ "filter": filter })).await["attendanceReceipts"]["totalCount"].clone() }
        };
        assert_eq!(count(json!({ "meetingId": id })).await, 3);
        assert_eq!(count(json!({ "townId": f.town })).await, 2);
        assert_eq!(count(json!({ "orgUnitId": f.city_unit })).await, 1);
        assert_eq!(count(json!({ "districtId": f.district, "heldFrom": "2017-10-26", "heldTo": "2017-10-26" })).await, 3);
        assert_eq!(count(json!({ "districtId": f.other_district })).await, 0);

        let receipt_id = r["submitAttendanceReceipt"]["id"].clone();
        let fixed = app
            .data("mutation($id: ID!) { updateAttendanceReceipt(id: $id, input: {title: \"团委副书记\", remarks: \"分管\"}) { title } }", json!({ "id": receipt_id }))
            .await;
        assert_eq!(fixed["updateAttendanceReceipt"]["title"], "团委副书记");
        let one = app.data("query($id: ID!) { attendanceReceipt(id: $id) { name title remarks } }", json!({ "id": receipt_id })).await;
        assert_eq!(one["attendanceReceipt"], json!({ "name": "张书记", "title": "团委副书记", "remarks": "分管" }));

        let moved = app
            .data("mutation($id: ID!) { updateSupervisionMeeting(id: $id, input: {heldOn: \"2017-10-27\", visitOrgUnitId: null}) { heldOn visitOrgUnit { name } } }", json!({ "id": id }))
            .await;
        assert_eq!(moved["updateSupervisionMeeting"], json!({ "heldOn": "2017-10-27", "visitOrgUnit": null }));
        let mq = "query($filter: SupervisionMeetingFilter) { supervisionMeetings(filter: $filter) { totalCount nodes { venue } } }";
        let by_town = app.data(mq, json!({ "filter": { "townId": f.town, "heldFrom": "2017-10-01" } })).await;
        assert_eq!(by_town["supervisionMeetings"]["totalCount"], 1);
        let other = app.data(mq, json!({ "filter": { "townId": f.other_town } })).await;
        assert_eq!(other["supervisionMeetings"]["totalCount"], 0);
    }

    async fn duplicate_receipts_and_receipts_or_meetings_outside_the_district_are_refused(app) {
        let f = fixture(&app).await;
        let id = app.data(CREATE_MEETING, meeting(&f.district, None)).await["createSupervisionMeeting"]["id"].clone();
        app.data(RECEIPT, receipt(&id, &f.town, "张书记")).await;
        let before = app.count("meeting_attendance").await;
        let mut bad_mobile = receipt(&id, &f.town, "周干事");
        bad_mobile["input"]["mobile"] = json!("12345");
        let cases = [
            (receipt(&id, &f.town, "张书记"), "already"),
            (receipt(&id, &f.school, "钱老师"), "town or city-level unit"),
            (receipt(&id, &f.home, "孙站长"), "town or city-level unit"),
            (receipt(&id, &f.other_town, "李书记"), "district"),
            (receipt(&json!("987654"), &f.town, "李书记"), "does not exist"),
            (bad_mobile, "mobile"),
        ];
        for (input, expected) in cases {
            let (code, message) = app.error(RECEIPT, input.clone()).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
            assert!(message.contains(expected), "{message}");
        }
        assert_eq!(app.count("meeting_attendance").await, before);

        let meetings = app.count("supervision_meeting").await;
        let mut late_receipts = meeting(&f.district, None);
        late_receipts["input"]["receiptsDueOn"] = json!("2017-10-30");
        for input in [meeting(&f.district, Some(f.other_town.as_str())), late_receipts, meeting("987654", None)] {
            let (code, message) = app.error(CREATE_MEETING, input.clone()).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}: {message}");
        }
        let (code, message) = app
            .error("mutation($id: ID!, $d: ID) { updateSupervisionMeeting(id: $id, input: {districtId: $d}) { id } }", json!({ "id": id, "d": f.other_district }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert_eq!(app.count("supervision_meeting").await, meetings);
    }
}
