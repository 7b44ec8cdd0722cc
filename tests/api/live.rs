//! Subscriptions over WebSocket (`/graphql/ws`, `graphql-transport-ws`): live rankings that
//! push what a write moved, rule releases as they are put in force, across the servers of
//! one database, under the limits of every other request.

use std::{collections::BTreeSet, time::Duration};

use serde_json::{json, Value};

use crate::{
    both_databases,
    helpers::{qii_v3, TestApp},
    service_requests::fixture,
    ws::{Event, Ws},
};

/// Long enough for a busy two-core machine; the debounce of test servers is 200 ms.
const WAIT: Duration = Duration::from_secs(30);

const LIVE: &str = "subscription($p: Period!, $d: ID) {
    rankingUpdated(period: $p, districtId: $d) {
        ruleSet version contentHash period level initial unitsRanked movedCount
        moved(first: 50) { orgUnitId name rank total previousRank previousTotal }
    }
}";

const RELEASES: &str = "subscription { ruleReleaseChanged { id action actor } }";

const RECORD_VISITS: &str = "mutation($rows: [DailyVisitRowInput!]!) {
    recordDailyVisits(input: {rows: $rows}) { inserted }
}";

const PUBLISH: &str = "mutation($path: String!, $source: String!, $tests: String) {
    publishRuleSet(path: $path, source: $source, tests: $tests) { changed release { id } }
}";

/// This month and today in Asia/Shanghai: a period still running, ranked afresh on every
/// change.
fn now_in_shanghai() -> (String, String) {
    let local = chrono::Utc::now() + chrono::Duration::hours(8);
    (
        local.format("%Y-%m").to_string(),
        local.format("%Y-%m-%d").to_string(),
    )
}

/// The ids of the units an update lists as moved.
fn moved_units(update: &Value) -> BTreeSet<String> {
    update["moved"]
        .as_array()
        .expect("a list of moves")
        .iter()
        .map(|m| m["orgUnitId"].as_str().expect("an id").to_owned())
        .collect()
}

/// The move of `unit` in an update.
fn move_of<'a>(update: &'a Value, unit: &str) -> &'a Value {
    update["moved"]
        .as_array()
        .expect("a list of moves")
        .iter()
        .find(|m| m["orgUnitId"] == unit)
        .unwrap_or_else(|| panic!("{unit} moved: {update:#}"))
}

both_databases! {
    async fn a_live_ranking_pushes_every_unit_first_then_what_a_write_moved(app) {
        let f = fixture(&app).await;
        let (month, today) = now_in_shanghai();
        let mut ws = Ws::connect(&app.base, Some(&app.token)).await.expect("connected");
        ws.subscribe("all", LIVE, json!({ "p": month })).await;
        let first = ws.data("all", WAIT).await["rankingUpdated"].clone();
        assert_eq!(first["initial"], true);
        assert_eq!(first["period"], month.as_str());
        assert_eq!(first["level"], "TOWN");
        assert_eq!(first["version"], "2.0.1");
        assert_eq!(first["unitsRanked"], 2);
        assert_eq!(moved_units(&first), BTreeSet::from([f.town.clone(), f.other_town.clone()]));
        assert!(move_of(&first, &f.town)["previousRank"].is_null());

        // The other district follows its own town only.
        ws.subscribe("d2", LIVE, json!({ "p": month, "d": f.other_district })).await;
        let district = ws.data("d2", WAIT).await["rankingUpdated"].clone();
        assert_eq!(moved_units(&district), BTreeSet::from([f.other_town.clone()]));
        let tied = move_of(&first, &f.other_town)["rank"].clone();

        app.data(RECORD_VISITS, json!({ "rows": [
            { "orgUnitId": f.town, "day": today, "visits": 5000 },
        ] })).await;
        let update = ws.data("all", WAIT).await["rankingUpdated"].clone();
        assert_eq!(update["initial"], false);
        let town = move_of(&update, &f.town);
        assert_eq!(town["rank"], 1);
        assert!(town["total"].as_f64().unwrap() > town["previousTotal"].as_f64().unwrap(), "{update:#}");
        assert_eq!(update["movedCount"], update["moved"].as_array().unwrap().len());

        // Its town was passed: the district's subscriber hears of it, and of nothing else.
        let district = ws.data("d2", WAIT).await["rankingUpdated"].clone();
        assert_eq!(moved_units(&district), BTreeSet::from([f.other_town.clone()]));
        let other = move_of(&district, &f.other_town);
        assert_eq!(other["previousRank"], tied);
        assert_eq!(other["rank"], 2);

        let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("qii_subscriptions_open 2"), "{metrics}");
        assert!(metrics.contains("qii_live_rankings 1"), "one ranking computed for both: {metrics}");
        assert!(metrics.contains("qii_rollup_read_duration_seconds_count"), "{metrics}");

        ws.complete("d2").await;
        ws.complete("all").await;
    }

    async fn a_rule_release_reaches_its_subscribers_as_it_is_put_in_force(app) {
        let (month, _) = now_in_shanghai();
        let mut ws = Ws::connect(&app.base, Some(&app.token)).await.expect("connected");
        ws.subscribe("releases", RELEASES, json!({})).await;
        // Subscriptions start in order: once the ranking answers, releases are followed.
        ws.subscribe("ranking", LIVE, json!({ "p": month })).await;
        ws.data("ranking", WAIT).await;
        let published = app.data(PUBLISH, json!({ "path": "qii/v3.rhai", "source": qii_v3(), "tests": crate::helpers::qii_v3_tests() })).await;
        let release = ws.data("releases", WAIT).await["ruleReleaseChanged"].clone();
        assert_eq!(release["id"], published["publishRuleSet"]["release"]["id"]);
        assert_eq!(release["action"], "publish");
        assert_eq!(release["actor"], "city_admin:test-admin");
    }

    async fn subscriptions_keep_the_limits_and_the_access_rules_of_every_request(app) {
        let (month, _) = now_in_shanghai();
        // A token that does not verify is refused at `connection_init`.
        let refused = Ws::connect(&app.base, Some("not-a-token")).await;
        assert!(refused.is_err());

        // Anonymous callers may not read rankings, nor follow releases.
        let mut anonymous = Ws::connect(&app.base, None).await.expect("connected");
        anonymous.subscribe("r", LIVE, json!({ "p": month })).await;
        assert_eq!(anonymous.error_code("r", WAIT).await, "UNAUTHENTICATED");
        anonymous.subscribe("x", RELEASES, json!({})).await;
        assert_eq!(anonymous.error_code("x", WAIT).await, "UNAUTHENTICATED");

        // A partner reads rankings but not the rule releases.
        let mut partner = Ws::connect(&app.base, Some(&app.partner_token())).await.expect("connected");
        partner.subscribe("x", RELEASES, json!({})).await;
        assert_eq!(partner.error_code("x", WAIT).await, "FORBIDDEN");

        let mut ws = Ws::connect(&app.base, Some(&app.token)).await.expect("connected");
        // Queries and mutations go over HTTP.
        ws.subscribe("q", "{ districts { name } }", json!({})).await;
        assert_eq!(ws.error_code("q", WAIT).await, "BAD_REQUEST");
        ws.subscribe("m", "mutation { rollbackRuleSet { changed } }", json!({})).await;
        assert_eq!(ws.error_code("m", WAIT).await, "BAD_REQUEST");
        // Bad input is refused with its code, and the connection stays.
        ws.subscribe("p", LIVE, json!({ "p": "2017-13" })).await;
        assert_eq!(ws.error_code("p", WAIT).await, "BAD_USER_INPUT");
        ws.subscribe("early", LIVE, json!({ "p": "2001-01" })).await;
        let code = ws.error_code("early", WAIT).await;
        assert!(["RULE_ERROR", "BAD_USER_INPUT"].contains(&code.as_str()), "{code}");
        ws.subscribe("d", LIVE, json!({ "p": month, "d": "nonsense" })).await;
        assert_eq!(ws.error_code("d", WAIT).await, "BAD_USER_INPUT");
        ws.subscribe("parse", "subscription { rankingUpdated(", json!({})).await;
        assert_eq!(ws.error_code("parse", WAIT).await, "GRAPHQL_PARSE_FAILED");
        ws.subscribe("cost", "subscription { rankingUpdated(period: \"2017-11\") { moved(first: 5000) { rank } } }", json!({})).await;
        assert_eq!(ws.error_code("cost", WAIT).await, "BAD_USER_INPUT");
        ws.subscribe("ok", LIVE, json!({ "p": month })).await;
        assert_eq!(ws.data("ok", WAIT).await["rankingUpdated"]["initial"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_holds_so_many_subscriptions_and_allow_list_mode_covers_them() {
    let app = TestApp::sqlite_configured(|config| {
        config.live.max_per_connection = 1;
        config.live.max_rankings = 1;
    })
    .await;
    let (month, _) = now_in_shanghai();
    let mut ws = Ws::connect(&app.base, Some(&app.token))
        .await
        .expect("connected");
    ws.subscribe("one", LIVE, json!({ "p": month })).await;
    ws.data("one", WAIT).await;
    ws.subscribe("two", LIVE, json!({ "p": month })).await;
    assert_eq!(ws.error_code("two", WAIT).await, "TOO_MANY_SUBSCRIPTIONS");
    // The server follows one ranking at most: another period waits its turn, the same
    // one is shared.
    let mut other = Ws::connect(&app.base, Some(&app.token))
        .await
        .expect("connected");
    other
        .subscribe("older", LIVE, json!({ "p": "2017-11" }))
        .await;
    assert_eq!(other.error_code("older", WAIT).await, "RATE_LIMITED");
    other.subscribe("same", LIVE, json!({ "p": month })).await;
    assert_eq!(
        other.data("same", WAIT).await["rankingUpdated"]["initial"],
        true
    );
    other.complete("same").await;
    // A place is given back when a subscription completes.
    ws.complete("one").await;
    let mut freed = false;
    for attempt in 0..50 {
        let id = format!("again-{attempt}");
        ws.subscribe(&id, LIVE, json!({ "p": month })).await;
        match ws.next(&id, WAIT).await {
            Event::Next(payload) if payload.get("errors").is_none() => {
                freed = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert!(freed, "the completed subscription's place was given back");

    let strict = TestApp::sqlite_configured(|config| {
        config.persisted.mode = qii_domain::config::PersistedMode::AllowList;
    })
    .await;
    let mut ws = Ws::connect(&strict.base, Some(&strict.token))
        .await
        .expect("connected");
    ws.subscribe("live", LIVE, json!({ "p": month })).await;
    assert_eq!(
        ws.error_code("live", WAIT).await,
        "OPERATION_NOT_REGISTERED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_write_on_one_server_reaches_subscribers_on_another() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    let f = fixture(&app).await;
    let (month, today) = now_in_shanghai();
    // Polling for releases once an hour: only the announcements can bring them in time.
    let other = app
        .replica_configured(|config| config.rules_poll = Duration::from_secs(3600))
        .await;
    let mut ws = Ws::connect(&other.base, Some(&other.token))
        .await
        .expect("connected");
    ws.subscribe("releases", RELEASES, json!({})).await;
    ws.subscribe("all", LIVE, json!({ "p": month })).await;
    let first = ws.data("all", WAIT).await["rankingUpdated"].clone();
    assert_eq!(first["initial"], true);

    app.data(
        RECORD_VISITS,
        json!({ "rows": [{ "orgUnitId": f.other_town, "day": today, "visits": 700 }] }),
    )
    .await;
    let update = ws.data("all", WAIT).await["rankingUpdated"].clone();
    assert_eq!(move_of(&update, &f.other_town)["rank"], 1);

    let published = app
        .data(
            PUBLISH,
            json!({ "path": "qii/v3.rhai", "source": qii_v3(), "tests": crate::helpers::qii_v3_tests() }),
        )
        .await;
    let release = ws.data("releases", WAIT).await["ruleReleaseChanged"].clone();
    assert_eq!(release["id"], published["publishRuleSet"]["release"]["id"]);
}
