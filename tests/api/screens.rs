//! Each screen the front-ends build (`SCREENS.md`) is one request: it answers with what the
//! screen shows, every list in it a page.

use qii_domain::identity::Role;
use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp};

fn nodes(v: &Value) -> &Vec<Value> {
    v["nodes"].as_array().expect("a connection")
}

/// A Youth Home that has service requests.
async fn busy_home(app: &TestApp) -> String {
    let data = app
        .data(
            "{ serviceRequests(first: 1) { nodes { youthHome { id } } } }",
            json!({}),
        )
        .await;
    data["serviceRequests"]["nodes"][0]["youthHome"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const RANKING_BOARD: &str = "query($p: Period!, $d: ID) { ranking(period: $p) {
    period version contentHash baseline
    entries(filter: {districtId: $d}, first: 40) { totalCount nodes {
        rank rankChange total orgUnit { id name district { id } } dimensions { key label contribution } } } } }";

const TOWN_TREND: &str = "query($t: ID!) { scoreHistory(orgUnitId: $t, span: \"2017-Q4\") {
    period version contentHash entry { rank total dimensions { key contribution } indicators { key raw contribution } } } }";

const COMPLIANCE_MAP: &str = "query($p: Period!) { complianceBoard(period: $p, first: 40) {
    totalCount nodes { town { id name } missed rows { metric label actual target met gap } } } }";

const INCENTIVE_DESK: &str = "{ incentiveApplications(filter: {status: SUBMITTED}, first: 20) {
    totalCount nodes { id activityName status scale orgUnit { name }
        eligibility { intent eligible reason amount grants ruleVersion { version hash } } } } }";

const DESIGN_CONTEST: &str = "query($m: String!) { designContest(month: $m) {
    showcaseSize awardedSize ruleVersion { version hash }
    entries(first: 30) { totalCount nodes { rank score showcased awarded activity { title orgUnit { name } }
        signups checkins likes averageRating loopComplete } } } }";

const MY_TOWN: &str = "query($t: ID!, $p: Period!, $from: DateTime, $to: DateTime) {
    ranking(period: $p) { version entries(filter: {orgUnitIds: [$t]}) { nodes {
        rank rankChange total dimensions { key contribution } indicators { key raw standardised weight contribution } } } }
    compliance(period: $p, orgUnitId: $t) { metric label actual target met gap }
    activities(filter: {townId: $t, startsFrom: $from, startsBefore: $to}, first: 50) { totalCount nodes {
        title eligibility { countsTowardIndex reasons } loopCompleteness { complete missing } } } }";

const MY_ACTIVITIES: &str = "query($t: ID!, $from: DateTime, $to: DateTime) {
    activities(filter: {townId: $t, startsFrom: $from, startsBefore: $to}, orderBy: STARTS_AT, direction: DESC, first: 20) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id title startsAt capacity signupCount spotsLeft loopCompleteness { stepsDone complete missing }
                eligibility { countsTowardIndex reasons } orgUnit { name } } } }";

const MY_YOUTH_HOMES: &str = "query($t: ID!, $from: DateTime, $to: DateTime) { orgUnit(id: $t) {
    youthHomes(first: 20) { totalCount nodes { name
        activities(filter: {startsFrom: $from, startsBefore: $to}, first: 10) { totalCount nodes { title signupCount } }
        serviceRequests(filter: {statuses: [SUBMITTED, REVIEWED, INTERVENING]}, first: 10) {
            totalCount nodes { title status ageInDays } } } } } }";

const MY_EXPERTS: &str = "query($t: ID!, $p: Period!) {
    orgUnit(id: $t) { experts(first: 50) { totalCount nodes { id name field answerCount } } }
    expertEvaluation(period: $p, orgUnitId: $t) { ruleVersion { version }
        entries(first: 50) { nodes { rank score answers interactionRate expert { id name } } } } }";

const INBOX: &str = "query($h: ID!) { serviceRequests(filter: {youthHomeId: $h}, orderBy: SUBMITTED_AT, first: 20) {
    totalCount nodes { id title status ageInDays nextStatuses applicant { nickname }
        history { fromStatus toStatus at actor note } } } }";

const HOME_ACTIVITIES: &str = "query($h: ID!) { orgUnit(id: $h) { activities(first: 20) { totalCount nodes {
    title capacity signupCount checkinCount reviewCount averageRating photosAfterEnd
    loopSteps { published hasSignups hasCheckins hasComments hasReviews hasPhotosAfterEnd started ended } } } } }";

const PUBLIC_LIST: &str = "query($t: ID, $from: DateTime) {
    activities(filter: {townId: $t, startsFrom: $from}, orderBy: STARTS_AT, first: 20) {
        totalCount nodes { id title category startsAt capacity signupCount spotsLeft place orgUnit { name } } } }";

const PUBLIC_DETAIL: &str = "query($a: ID!) { activity(id: $a) {
    title description capacity signupCount spotsLeft averageRating likeCount
    photos(first: 12) { totalCount nodes { url caption afterEnd } }
    comments(first: 20, direction: DESC) { totalCount nodes { body createdAt member { nickname } } } } }";

const QUESTIONS_AND_TOPICS: &str = "{
    questions(first: 10, direction: DESC) { totalCount nodes { id title answerCount
        answers(first: 5) { nodes { body byExpert author { __typename ... on Expert { name field } } } } } }
    topics(first: 10, direction: DESC) { totalCount nodes { title participationCount commentCount closed
        comments(first: 3) { nodes { body } } } } }";

const RULE_SETS: &str = "{ ruleVersions { ruleSet version effectiveFrom contentHash script }
    ruleReleases(first: 10) { id action actor createdAt inForce note files { path } } }";

const PARTNER_PULL: &str = "query($p: Period!) { ranking(period: $p, level: TOWN) {
    ruleSet version contentHash storedAt outdated
    entries(first: 100) { totalCount pageInfo { hasNextPage } nodes {
        orgUnit { id code } rank total indicators { key dimension raw standardised weight contribution } } } } }";

both_databases! {
    async fn the_city_committees_screens_are_one_request_each(app) {
        app.load_demo(0.05).await;
        let districts = app.data("{ districts { nodes { id } } }", json!({})).await;
        let district = districts["districts"]["nodes"][1]["id"].clone();

        let board = app.data(RANKING_BOARD, json!({ "p": "2017-11", "d": district })).await;
        let ranking = &board["ranking"];
        assert_eq!(ranking["baseline"], "2017-10");
        let entries = nodes(&ranking["entries"]);
        assert!(!entries.is_empty() && entries.len() < 32, "one district's towns");
        assert_eq!(ranking["entries"]["totalCount"].as_u64().unwrap() as usize, entries.len());
        for e in entries {
            assert_eq!(e["orgUnit"]["district"]["id"], district);
            assert!(!e["dimensions"].as_array().unwrap().is_empty());
        }
        assert!(entries.iter().any(|e| e["rankChange"].is_i64()));

        let town = entries[0]["orgUnit"]["id"].clone();
        let trend = app.data(TOWN_TREND, json!({ "t": town })).await;
        let points = trend["scoreHistory"].as_array().unwrap();
        let periods: Vec<&str> = points.iter().map(|p| p["period"].as_str().unwrap()).collect();
        assert_eq!(periods, ["2017-10", "2017-11", "2017-12"]);
        assert_eq!(points[1]["entry"]["rank"], entries[0]["rank"]);
        assert!(!points[0]["entry"]["indicators"].as_array().unwrap().is_empty());

        let map = app.data(COMPLIANCE_MAP, json!({ "p": "2017-11" })).await;
        let rows = nodes(&map["complianceBoard"]);
        assert_eq!(rows.len(), 32);
        assert!(rows.iter().all(|r| !r["rows"].as_array().unwrap().is_empty()));

        let desk = app.data(INCENTIVE_DESK, json!({})).await;
        let applications = nodes(&desk["incentiveApplications"]);
        assert!(applications.iter().all(|a| a["status"] == "SUBMITTED"));
        assert!(applications.iter().all(|a| !a["eligibility"].as_array().unwrap().is_empty()));

        let contest = app.data(DESIGN_CONTEST, json!({ "m": "2017-11" })).await;
        let contest = &contest["designContest"];
        let entries = nodes(&contest["entries"]);
        assert!(!entries.is_empty());
        let showcased = entries.iter().filter(|e| e["showcased"] == true).count() as i64;
        assert!(showcased <= contest["showcaseSize"].as_i64().unwrap());
        assert!(entries.windows(2).all(|w| w[0]["rank"].as_i64() <= w[1]["rank"].as_i64()));
    }

    async fn a_towns_screens_are_one_request_each(app) {
        app.load_demo(0.05).await;
        let town = app.unit_id("town-shijie").await;
        let token = app.token_for(Role::TownAdmin(town.parse().unwrap()), "shijie-admin");
        let token = Some(token.as_str());
        let month = json!({ "t": town, "p": "2017-11", "from": "2017-10-31T16:00:00Z", "to": "2017-11-30T16:00:00Z" });

        let mine = app.data_as(token, MY_TOWN, month.clone()).await;
        let entry = nodes(&mine["ranking"]["entries"]);
        assert_eq!(entry.len(), 1, "the town's own line");
        assert!(!entry[0]["indicators"].as_array().unwrap().is_empty());
        let behind: Vec<&Value> = mine["compliance"].as_array().unwrap().iter().filter(|r| r["met"] == false).collect();
        assert!(behind.iter().all(|r| r["gap"].as_f64().unwrap() > 0.0), "a missed target says by how much");
        let activities = nodes(&mine["activities"]);
        assert!(!activities.is_empty());
        for a in activities {
            if a["eligibility"]["countsTowardIndex"] == false {
                assert!(!a["eligibility"]["reasons"].as_array().unwrap().is_empty(), "{a}");
            }
        }

        let list = app.data_as(token, MY_ACTIVITIES, month.clone()).await;
        assert!(!nodes(&list["activities"]).is_empty());

        let homes = app.data_as(token, MY_YOUTH_HOMES, month.clone()).await;
        let homes = nodes(&homes["orgUnit"]["youthHomes"]);
        assert!(!homes.is_empty());
        for home in homes {
            for r in nodes(&home["serviceRequests"]) {
                assert!(["SUBMITTED", "REVIEWED", "INTERVENING"].contains(&r["status"].as_str().unwrap()));
                assert!(r["ageInDays"].as_i64().unwrap() >= 0);
            }
        }

        let experts = app.data_as(token, MY_EXPERTS, json!({ "t": town, "p": "2017-11" })).await;
        let recruited: Vec<&Value> = nodes(&experts["orgUnit"]["experts"]).iter().map(|e| &e["id"]).collect();
        for e in nodes(&experts["expertEvaluation"]["entries"]) {
            assert!(recruited.contains(&&e["expert"]["id"]), "only the town's experts: {e}");
        }
    }

    async fn a_youth_homes_public_rule_and_partner_screens_are_one_request_each(app) {
        app.load_demo(0.05).await;
        let home = busy_home(&app).await;
        let token = app.token_for(Role::YouthHomeAdmin(home.parse().unwrap()), "home-admin");
        let token = Some(token.as_str());
        let inbox = app.data_as(token, INBOX, json!({ "h": home })).await;
        let requests = nodes(&inbox["serviceRequests"]);
        assert!(!requests.is_empty());
        for r in requests {
            let history = r["history"].as_array().unwrap();
            assert!(!history.is_empty(), "a request starts its history when submitted");
            assert_eq!(history.last().unwrap()["toStatus"], r["status"]);
        }
        let loops = app.data_as(token, HOME_ACTIVITIES, json!({ "h": home })).await;
        assert!(loops["orgUnit"]["activities"]["totalCount"].is_i64());

        let town = app.unit_id("town-humen").await;
        let list = app.data_as(None, PUBLIC_LIST, json!({ "t": town, "from": "2017-11-01T00:00:00Z" })).await;
        let listed = nodes(&list["activities"]);
        assert!(!listed.is_empty());
        let detail = app.data_as(None, PUBLIC_DETAIL, json!({ "a": listed[0]["id"] })).await;
        assert_eq!(detail["activity"]["title"], listed[0]["title"]);
        assert!(detail["activity"]["photos"]["totalCount"].is_i64());

        let qa = app.data_as(None, QUESTIONS_AND_TOPICS, json!({})).await;
        assert!(!nodes(&qa["questions"]).is_empty());
        assert!(qa["topics"]["totalCount"].is_i64());

        let rules = app.data_as(Some(&app.token_for(Role::RuleAdmin, "rules")), RULE_SETS, json!({})).await;
        let versions = rules["ruleVersions"].as_array().unwrap();
        assert!(versions.iter().any(|v| v["ruleSet"] == "qii" && v["version"] == "2.0.1"));
        assert!(versions.iter().all(|v| v["contentHash"].as_str().unwrap().len() == 64));

        let pull = app.data_as(Some(&app.partner_token()), PARTNER_PULL, json!({ "p": "2017-10" })).await;
        let ranking = &pull["ranking"];
        assert!(ranking["storedAt"].is_string(), "an ended month is pulled as stored");
        let entries = nodes(&ranking["entries"]);
        assert_eq!(entries.len(), 32);
        assert_eq!(ranking["entries"]["pageInfo"]["hasNextPage"], false);
        assert!(entries.iter().all(|e| e["orgUnit"]["code"].is_string()));
    }
}

const SIGNUPS_BY_TOWN_AND_MONTH: &str =
    "{ activityStats(measure: SIGNUPS, groupBy: [TOWN, MONTH], period: \"2017-Q4\", first: 100) {
    totalCount pageInfo { hasNextPage } nodes { town { id name } period count } } }";

both_databases! {
    async fn sign_ups_per_town_per_month_are_one_grouped_request(app) {
        use sea_orm::EntityTrait;
        app.load_demo(0.05).await;
        let before = app.statements.get();
        let data = app.data(SIGNUPS_BY_TOWN_AND_MONTH, json!({})).await;
        let statements = app.statements.get() - before;
        let stats = &data["activityStats"];
        assert_eq!(stats["pageInfo"]["hasNextPage"], false);
        let mut got: Vec<(String, String, i64)> = nodes(stats)
            .iter()
            .map(|g| (g["town"]["id"].as_str().unwrap_or("none").to_owned(), g["period"].as_str().unwrap().to_owned(), g["count"].as_i64().unwrap()))
            .collect();
        got.sort();
        assert_eq!(stats["totalCount"].as_u64().unwrap() as usize, got.len());
        // The grouped statement, the towns and the count of groups: however many rows.
        assert!(statements <= 3, "{statements} statements");

        // The same counts from the rows themselves.
        let units: std::collections::HashMap<i64, entities::org_unit::Model> = entities::org_unit::Entity::find()
            .all(&app.db).await.unwrap().into_iter().map(|u| (u.id, u)).collect();
        let activities: std::collections::HashMap<i64, i64> = entities::activity::Entity::find()
            .all(&app.db).await.unwrap().into_iter().map(|a| (a.id, a.org_unit_id)).collect();
        let mut expected: std::collections::BTreeMap<(String, String), i64> = Default::default();
        for s in entities::activity_signup::Entity::find().all(&app.db).await.unwrap() {
            let local = s.signed_up_at + chrono::Duration::hours(8);
            let month = local.format("%Y-%m").to_string();
            if !["2017-10", "2017-11", "2017-12"].contains(&month.as_str()) {
                continue;
            }
            let unit = &units[&activities[&s.activity_id]];
            let town = if unit.kind == entities::enums::OrgUnitKind::Town { Some(unit.id) } else { unit.town_id };
            // Sign-ups for units above the towns form a group of their own.
            let town = town.map_or("none".to_owned(), |t| t.to_string());
            *expected.entry((town, month)).or_default() += 1;
        }
        let expected: Vec<(String, String, i64)> = expected.into_iter().map(|((t, m), n)| (t, m, n)).collect();
        assert!(!expected.is_empty());
        assert_eq!(got, expected);
    }

    async fn kept_sign_up_counts_equal_the_rows_through_bulk_writes_and_deletes(app) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use entities::{activity, activity_signup, member};
        app.load_demo(0.05).await;
        let check = || async {
            let mut counted: std::collections::HashMap<i64, i64> = Default::default();
            for s in activity_signup::Entity::find().all(&app.db).await.unwrap() {
                *counted.entry(s.activity_id).or_default() += 1;
            }
            let activities = activity::Entity::find().all(&app.db).await.unwrap();
            assert!(!activities.is_empty());
            for a in &activities {
                assert_eq!(a.signup_count, counted.get(&a.id).copied().unwrap_or(0), "activity {}", a.id);
            }
            activities
        };
        // As loaded by the demo (bulk inserts).
        let activities = check().await;
        // A multi-row insert into two activities, then a multi-row delete.
        let members: Vec<i64> = member::Entity::find().all(&app.db).await.unwrap().into_iter().map(|m| m.id).collect();
        let taken: std::collections::HashSet<(i64, i64)> = activity_signup::Entity::find().all(&app.db).await.unwrap()
            .into_iter().map(|s| (s.activity_id, s.member_id)).collect();
        let (a, b) = (activities[0].id, activities[1].id);
        let fresh: Vec<(i64, i64)> = members.iter().flat_map(|m| [(a, *m), (b, *m)]).filter(|k| !taken.contains(k)).take(6).collect();
        assert_eq!(fresh.len(), 6);
        let rows = fresh.iter().map(|(activity_id, member_id)| activity_signup::ActiveModel {
            activity_id: sea_orm::Set(*activity_id),
            member_id: sea_orm::Set(*member_id),
            signed_up_at: sea_orm::Set(chrono::Utc::now()),
            ..Default::default()
        });
        activity_signup::Entity::insert_many(rows).exec_without_returning(&app.db).await.unwrap();
        check().await;
        let fresh_members: Vec<i64> = fresh.iter().filter(|(act, _)| *act == a).map(|(_, m)| *m).collect();
        activity_signup::Entity::delete_many()
            .filter(activity_signup::Column::ActivityId.eq(a))
            .filter(activity_signup::Column::MemberId.is_in(fresh_members))
            .exec(&app.db).await.unwrap();
        check().await;
        // Through the API as well: the list shows the kept count.
        let listed = app.data("query($id: ID!) { activity(id: $id) { signupCount } }", json!({ "id": b.to_string() })).await;
        let counted = activity_signup::Entity::find().filter(activity_signup::Column::ActivityId.eq(b)).all(&app.db).await.unwrap().len();
        assert_eq!(listed["activity"]["signupCount"].as_u64().unwrap() as usize, counted);
    }
}
