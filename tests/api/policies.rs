//! The policies the rule scripts declare beyond weights and thresholds — what makes a
//! question valid and whether answers to other questions count, whether a heavyweight
//! activity counts before its application is approved, which date puts an activity in a
//! period, and which activities a target counts — each changed by publishing a script alone:
//! the outcome flips at once, in the figures the database keeps (read through the server's
//! ranking preview, and checked against a count from the raw events), on the pages that
//! explain them, in the lists and in compliance. No rebuild, no restart.

use chrono::{DateTime, TimeZone, Utc};
use entities::{
    activity, activity_photo, activity_signup, answer,
    enums::{ActivityCategory, ActivityKind, ModerationStatus},
    member, question,
};
use qii_domain::scoring::{raw_table, Figures, Level};
use qii_engine::{period::Period, rules::activity::ActivityRules};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{json, Value};

use crate::{
    both_databases,
    compliance::row,
    helpers::{shipped_rules, TestApp},
    service_requests::{fixture, Fixture},
};

const PUBLISH: &str = "mutation($path: String!, $source: String!) {
    publishRuleSet(path: $path, source: $source) { changed } }";

/// A scoring script that only reads the figures the policies move, so that its preview
/// shows them per town.
const PROBE: &str = r#"
fn index() {
    #{
        name: "qii",
        version: "probe",
        effective_from: "2017-09",
        dimensions: [
            #{ key: "d", indicators: [
                #{ key: "valid_questions", raw: "valid_questions", weight: 20.0 },
                #{ key: "answers", raw: "answers", weight: 20.0 },
                #{ key: "eligible_activities", raw: "eligible_activities", weight: 20.0 },
                #{ key: "youth_home_activities", raw: "youth_home_activities", weight: 20.0 },
                #{ key: "youth_home_signups", raw: "youth_home_signups", weight: 20.0 },
            ] },
        ],
    }
}
"#;

const FIGURE_KEYS: &[&str] = &[
    "valid_questions",
    "answers",
    "eligible_activities",
    "youth_home_activities",
    "youth_home_signups",
];

/// Noon in Shanghai on a day of 2017.
fn day(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2017, month, day, 4, 0, 0).unwrap()
}

fn id(text: &str) -> i64 {
    text.parse().unwrap()
}

fn shipped(path: &str) -> String {
    std::fs::read_to_string(shipped_rules().join(path)).unwrap()
}

/// The shipped activity rules with `from` replaced by `to` (which must be there).
fn activity_rules_with(edits: &[(&str, &str)]) -> String {
    let mut source = shipped("eligibility/activity.rhai");
    for (from, to) in edits {
        assert!(
            source.contains(from),
            "the shipped activity rules say `{from}`"
        );
        source = source.replace(from, to);
    }
    source
}

/// The activity rules `source` declares, read in the script pool as the server reads them.
async fn rules_of(source: &str) -> ActivityRules {
    let sandbox = qii_engine::rules::Sandbox::new();
    let script = sandbox
        .compile("eligibility/activity.rhai", source)
        .unwrap();
    let reader = sandbox.clone();
    sandbox
        .run(move || ActivityRules::from_script(&reader, &script))
        .await
        .unwrap()
        .unwrap()
}

async fn publish(app: &TestApp, path: &str, source: &str) {
    let published = app
        .data(PUBLISH, json!({ "path": path, "source": source }))
        .await;
    assert_eq!(published["publishRuleSet"]["changed"], true);
}

/// The figures of `town` for `period` as the server ranks them (from what the database
/// keeps), after checking them against a count from the raw events under `rules`.
async fn figures(app: &TestApp, town: &str, period: &str, rules: &str) -> Value {
    let data = app
        .data(
            "query($s: String!, $p: Period!) { previewRanking(source: $s, period: $p) {
                entries(first: 100) { nodes { orgUnit { id } indicators { key raw } } } } }",
            json!({ "s": PROBE, "p": period }),
        )
        .await;
    let entry = data["previewRanking"]["entries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["orgUnit"]["id"] == town)
        .cloned();
    let mut kept = serde_json::Map::new();
    for key in FIGURE_KEYS {
        let raw = entry.as_ref().and_then(|e| {
            e["indicators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["key"] == *key)
                .and_then(|i| i["raw"].as_f64())
        });
        kept.insert((*key).into(), json!(raw.unwrap_or(0.0)));
    }
    // The same figures counted from the events with the rules as published.
    let period: Period = period.parse().unwrap();
    let rules = rules_of(rules).await;
    let table = raw_table(&app.db, &period, Level::Town, Figures::Events(&rules), &[])
        .await
        .unwrap();
    let at = table.units.iter().position(|u| *u == id(town)).unwrap();
    for key in FIGURE_KEYS {
        let counted = table.figures[*key][at].unwrap_or(0.0);
        assert_eq!(
            kept[*key], counted,
            "`{key}` of {period}: kept {} but counted {counted} from the events",
            kept[*key]
        );
    }
    Value::Object(kept)
}

async fn member_id(app: &TestApp) -> i64 {
    member::ActiveModel {
        nickname: Set("青年".into()),
        registered_at: Set(day(9, 1)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

/// A question to `unit` asked on 10 October, with one answer by `member`.
async fn question_with_answer(
    app: &TestApp,
    unit: &str,
    member: i64,
    title: &str,
    status: ModerationStatus,
) -> i64 {
    let q = question::ActiveModel {
        asker_id: Set(member),
        addressed_to_id: Set(Some(id(unit))),
        title: Set(title.into()),
        body: Set(String::new()),
        status: Set(status),
        asked_at: Set(day(10, 10)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    answer::ActiveModel {
        question_id: Set(q.id),
        member_id: Set(Some(member)),
        body: Set("可以到青年之家咨询".into()),
        answered_at: Set(day(10, 11)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    q.id
}

/// An activity of `unit` from `starts` to `ends`, with a sign-up by `member` and a photo
/// uploaded after its end: one that counts by the shipped conditions.
pub(crate) async fn activity_that_counts(
    app: &TestApp,
    unit: &str,
    (starts, ends): (DateTime<Utc>, DateTime<Utc>),
    category: ActivityCategory,
    heavyweight: bool,
    member: i64,
) -> i64 {
    let a = activity::ActiveModel {
        org_unit_id: Set(id(unit)),
        title: Set("青年志愿者活动".into()),
        description: Set("说明".into()),
        kind: Set(ActivityKind::Offline),
        category: Set(category),
        starts_at: Set(starts),
        ends_at: Set(ends),
        signup_deadline: Set(None),
        place: Set(None),
        capacity: Set(None),
        heavyweight: Set(heavyweight),
        published_at: Set(starts - chrono::Duration::days(7)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    activity_signup::ActiveModel {
        activity_id: Set(a.id),
        member_id: Set(member),
        signed_up_at: Set(starts - chrono::Duration::days(1)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    activity_photo::ActiveModel {
        activity_id: Set(a.id),
        url: Set("photos/after.jpg".into()),
        caption: Set(None),
        uploaded_at: Set(ends + chrono::Duration::hours(1)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    a.id
}

async fn validity(app: &TestApp, question: i64) -> Value {
    app.data(
        "query($id: ID!) { question(id: $id) { validity { valid answersCount reasons } } }",
        json!({ "id": question.to_string() }),
    )
    .await["question"]["validity"]
        .clone()
}

async fn eligibility(app: &TestApp, activity: i64) -> Value {
    app.data(
        "query($id: ID!) { activity(id: $id) { eligibility { countsTowardIndex reasons } } }",
        json!({ "id": activity.to_string() }),
    )
    .await["activity"]["eligibility"]
        .clone()
}

/// The ids of the activities of `unit` counted in `period`, as the list gives them.
async fn counted_in(app: &TestApp, f: &Fixture, period: &str) -> Vec<String> {
    let data = app
        .data(
            "query($f: ActivityFilter) { activities(filter: $f, first: 50) { nodes { id } } }",
            json!({ "f": { "townId": f.town, "countedIn": period } }),
        )
        .await;
    data["activities"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Makes the fixture's Youth Home a registered one (在册), which the Youth Home target
/// applies to.
async fn register(app: &TestApp, f: &Fixture) {
    app.data(
        "mutation($id: ID!) { updateOrgUnit(id: $id, input: { registered: true }) { id } }",
        json!({ "id": f.home }),
    )
    .await;
}

both_databases! {
    async fn what_makes_a_question_valid_and_whether_its_answers_count_is_the_scripts_call(app) {
        let f = fixture(&app).await;
        let m = member_id(&app).await;
        let shipped = shipped("eligibility/activity.rhai");
        let mark = question_with_answer(&app, &f.town, m, "?", ModerationStatus::Visible).await;
        let real = question_with_answer(&app, &f.town, m, "青年创业补贴怎么申请？", ModerationStatus::Visible).await;
        let spam = question_with_answer(&app, &f.home, m, "加微信领红包，名额有限", ModerationStatus::Spam).await;

        let short = validity(&app, mark).await;
        assert_eq!(short["valid"], false, "{short}");
        assert_eq!(short["answersCount"], false);
        assert!(short["reasons"][0].as_str().unwrap().contains("shorter than 5 characters"), "{short}");
        assert_eq!(validity(&app, real).await, json!({ "valid": true, "answersCount": true, "reasons": [] }));
        assert_eq!(validity(&app, spam).await["valid"], false);
        let october = figures(&app, &f.town, "2017-10", &shipped).await;
        assert_eq!((october["valid_questions"].clone(), october["answers"].clone()), (json!(1.0), json!(1.0)));

        // Any question of one character or more, and answers to any question, count.
        let lenient = activity_rules_with(&[
            ("at_least_characters: 5,", "at_least_characters: 1,"),
            ("answers_need_valid_question: true,", "answers_need_valid_question: false,"),
        ]);
        publish(&app, "eligibility/activity.rhai", &lenient).await;
        assert_eq!(validity(&app, mark).await, json!({ "valid": true, "answersCount": true, "reasons": [] }));
        let spam_now = validity(&app, spam).await;
        assert_eq!((spam_now["valid"].clone(), spam_now["answersCount"].clone()), (json!(false), json!(true)));
        let october = figures(&app, &f.town, "2017-10", &lenient).await;
        assert_eq!(october["valid_questions"], 2.0, "the question mark counts now");
        assert_eq!(october["answers"], 3.0, "the answer to the spam question counts now");

        // The figures follow the question when a moderator marks it spam, by the rules in force.
        app.data(
            "mutation($id: ID!) { updateQuestion(id: $id, input: { status: SPAM }) { id } }",
            json!({ "id": real.to_string() }),
        )
        .await;
        let october = figures(&app, &f.town, "2017-10", &lenient).await;
        assert_eq!((october["valid_questions"].clone(), october["answers"].clone()), (json!(1.0), json!(3.0)));

        // And back to the shipped rules: only five characters or more, answers to valid ones.
        publish(&app, "eligibility/activity.rhai", &shipped).await;
        let october = figures(&app, &f.town, "2017-10", &shipped).await;
        assert_eq!((october["valid_questions"].clone(), october["answers"].clone()), (json!(0.0), json!(0.0)));
    }

    async fn whether_a_heavyweight_activity_counts_before_approval_is_the_scripts_call(app) {
        let f = fixture(&app).await;
        let m = member_id(&app).await;
        let shipped = shipped("eligibility/activity.rhai");
        let pending = activity_that_counts(&app, &f.home, (day(10, 14), day(10, 15)), ActivityCategory::Contest, true, m).await;

        let judged = eligibility(&app, pending).await;
        assert_eq!(judged["countsTowardIndex"], false);
        assert!(judged["reasons"][0].as_str().unwrap().contains("not approved"), "{judged}");
        let october = figures(&app, &f.town, "2017-10", &shipped).await;
        assert_eq!(october["eligible_activities"], 0.0);
        assert_eq!(october["youth_home_activities"], 0.0);
        assert_eq!(october["youth_home_signups"], 0.0, "its sign-ups count for nothing either");

        let on_application = activity_rules_with(&[("counts_once_approved: true,", "counts_once_approved: false,")]);
        publish(&app, "eligibility/activity.rhai", &on_application).await;
        assert_eq!(eligibility(&app, pending).await, json!({ "countsTowardIndex": true, "reasons": [] }));
        let october = figures(&app, &f.town, "2017-10", &on_application).await;
        assert_eq!(october["eligible_activities"], 1.0);
        assert_eq!(october["youth_home_activities"], 1.0);
        assert_eq!(october["youth_home_signups"], 1.0);
    }

    async fn the_date_that_puts_an_activity_in_a_period_is_the_scripts_call(app) {
        let f = fixture(&app).await;
        register(&app, &f).await;
        let m = member_id(&app).await;
        let shipped = shipped("eligibility/activity.rhai");
        // From 30 September to 2 October, and from 31 October to 1 November.
        let september = activity_that_counts(&app, &f.home, (day(9, 30), day(10, 2)), ActivityCategory::Themed, false, m).await;
        let halloween = activity_that_counts(&app, &f.home, (day(10, 31), day(11, 1)), ActivityCategory::Themed, false, m).await;

        // By their end (the shipped rules): the first in October, the second in November.
        let by_end = [
            figures(&app, &f.town, "2017-09", &shipped).await,
            figures(&app, &f.town, "2017-10", &shipped).await,
            figures(&app, &f.town, "2017-11", &shipped).await,
        ];
        for (figures, n) in by_end.iter().zip([0.0, 1.0, 1.0]) {
            assert_eq!(figures["eligible_activities"], n, "{by_end:?}");
            assert_eq!(figures["youth_home_activities"], n, "{by_end:?}");
        }
        assert_eq!(counted_in(&app, &f, "2017-10").await, vec![september.to_string()]);
        assert_eq!(counted_in(&app, &f, "2017-11").await, vec![halloween.to_string()]);
        let target = row(&app, &f.home, "2017-10", "non_volunteer_activities").await;
        assert_eq!(target["actual"], 1.0, "{target}");

        let by_start = activity_rules_with(&[("counted_by: \"end\"", "counted_by: \"start\"")]);
        publish(&app, "eligibility/activity.rhai", &by_start).await;
        let now = [
            figures(&app, &f.town, "2017-09", &by_start).await,
            figures(&app, &f.town, "2017-10", &by_start).await,
            figures(&app, &f.town, "2017-11", &by_start).await,
        ];
        for (figures, n) in now.iter().zip([1.0, 1.0, 0.0]) {
            assert_eq!(figures["eligible_activities"], n, "{now:?}");
            assert_eq!(figures["youth_home_activities"], n, "{now:?}");
        }
        assert_eq!(counted_in(&app, &f, "2017-09").await, vec![september.to_string()]);
        assert_eq!(counted_in(&app, &f, "2017-10").await, vec![halloween.to_string()]);
        assert_eq!(row(&app, &f.home, "2017-11", "non_volunteer_activities").await["actual"], 0.0);

        // A period that does not parse is refused, naming it.
        let bad = app
            .graphql(
                "query { activities(filter: { countedIn: \"2017-13\" }, first: 5) { nodes { id } } }",
                json!({}),
            )
            .await;
        assert!(bad["errors"][0]["message"].as_str().unwrap().contains("2017-13"), "{bad}");
    }

    async fn which_activities_the_youth_home_target_counts_is_the_targets_scripts_call(app) {
        let f = fixture(&app).await;
        register(&app, &f).await;
        let m = member_id(&app).await;
        activity_that_counts(&app, &f.home, (day(10, 14), day(10, 15)), ActivityCategory::VolunteerService, false, m).await;
        let volunteer_only = row(&app, &f.home, "2017-10", "non_volunteer_activities").await;
        assert_eq!((volunteer_only["actual"].clone(), volunteer_only["met"].clone()), (json!(0.0), json!(false)));

        let shipped = shipped("targets/2017q4.rhai");
        let any_activity = shipped
            .replace("except_categories: [\"volunteer_service\"]", "except_categories: []")
            .replace("version: \"2017q4.1\"", "version: \"2017q4.2\"");
        assert!(any_activity.contains("except_categories: []") && any_activity.contains("2017q4.2"));
        publish(&app, "targets/2017q4.rhai", &any_activity).await;
        let counted = row(&app, &f.home, "2017-10", "non_volunteer_activities").await;
        assert_eq!((counted["actual"].clone(), counted["met"].clone()), (json!(1.0), json!(true)));

        // A category the platform does not know is refused, naming the key.
        let typo = any_activity
            .replace("except_categories: []", "except_categories: [\"volunter_service\"]")
            .replace("2017q4.2", "2017q4.3");
        let refused = app
            .graphql(PUBLISH, json!({ "path": "targets/2017q4.rhai", "source": typo }))
            .await;
        let error = &refused["errors"][0];
        assert_eq!(error["extensions"]["code"], "RULE_ERROR", "{refused}");
        assert!(error["message"].as_str().unwrap().contains("volunter_service"), "{refused}");
        assert_eq!(row(&app, &f.home, "2017-10", "non_volunteer_activities").await["actual"], 1.0);
    }
}
