//! The change feed of stored rankings: a partner pulls only what changed since its cursor,
//! and never misses a change, however writes and pulls interleave.

use std::collections::BTreeSet;

use qii_domain::identity::Role;
use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp};

const CHANGES: &str = "query($after: String, $since: DateTime, $first: Int) {
    scoreChanges(after: $after, first: $first, filter: { since: $since }) {
        nodes { id kind ruleSet level period version contentHash inEffectHash snapshotId changedAt }
        pageInfo { endCursor hasNextPage } } }";

/// Pulls every page after `cursor` as `token`; the changes and the cursor to keep.
async fn pull(app: &TestApp, token: &str, cursor: Option<String>) -> (Vec<Value>, Option<String>) {
    let mut cursor = cursor;
    let mut changes = Vec::new();
    loop {
        let page = app
            .data_as(Some(token), CHANGES, json!({ "after": cursor, "first": 3 }))
            .await["scoreChanges"]
            .clone();
        changes.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if let Some(end) = page["pageInfo"]["endCursor"].as_str() {
            cursor = Some(end.to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return (changes, cursor);
        }
    }
}

fn kinds(changes: &[Value]) -> Vec<(String, String)> {
    changes
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["period"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn read_ranking(app: &TestApp, period: &str) {
    app.data(
        "query($p: Period!) { ranking(period: $p) { storedAt } }",
        json!({ "p": period }),
    )
    .await;
}

both_databases! {
    async fn a_partner_pulls_only_what_changed_since_its_cursor(app) {
        app.load_demo(0.05).await;
        let partner = app.partner_token();

        let (none, cursor) = pull(&app, &partner, None).await;
        assert!(none.is_empty(), "{none:?}");
        assert!(cursor.is_none());

        // The first read of an ended month stores it; a later read stores nothing.
        read_ranking(&app, "2017-10").await;
        read_ranking(&app, "2017-10").await;
        let (first, cursor) = pull(&app, &partner, None).await;
        assert_eq!(kinds(&first), vec![("STORED".into(), "2017-10".into())]);
        assert_eq!(first[0]["ruleSet"], "qii");
        assert_eq!(first[0]["level"], "TOWN");
        assert_eq!(first[0]["contentHash"].as_str().unwrap().len(), 64);
        let (nothing_new, same) = pull(&app, &partner, cursor.clone()).await;
        assert!(nothing_new.is_empty());
        assert_eq!(same, cursor);

        // Stored, recomputed: each comes once, after the cursor.
        read_ranking(&app, "2017-11").await;
        app.data("mutation { recomputeRanking(period: \"2017-10\") { version } }", json!({})).await;
        let (second, cursor) = pull(&app, &partner, cursor).await;
        assert_eq!(
            kinds(&second),
            vec![("STORED".into(), "2017-11".into()), ("RECOMPUTED".into(), "2017-10".into())]
        );
        assert_ne!(second[1]["snapshotId"], first[0]["snapshotId"], "a recomputed ranking is a new snapshot");

        // A rule release outdates the rankings it scores differently; rolling it back
        // makes them current again.
        let edited = crate::helpers::qii_v2_revised();
        crate::helpers::publish_rules(&app, "qii/v2.rhai", &edited).await;
        // A second replica puts the same release in force as it starts: it finds the
        // feed up to date and adds nothing.
        let replica = app.replica().await;
        let (outdated, cursor) = pull(&replica, &partner, cursor).await;
        let mut found = kinds(&outdated);
        found.sort();
        assert_eq!(
            found,
            vec![("OUTDATED".into(), "2017-10".into()), ("OUTDATED".into(), "2017-11".into())]
        );
        assert!(outdated.iter().all(|c| c["inEffectHash"].as_str().is_some_and(|h| h != c["contentHash"])));
        app.data("mutation { rollbackRuleSet(ruleSet: \"qii\") { release { id } } }", json!({})).await;
        let (current, _) = pull(&app, &partner, cursor).await;
        let mut found = kinds(&current);
        found.sort();
        assert_eq!(
            found,
            vec![("CURRENT".into(), "2017-10".into()), ("CURRENT".into(), "2017-11".into())]
        );

        // A first pull may start from a time instead of a cursor.
        let since = second[0]["changedAt"].as_str().unwrap().to_owned();
        let from_time = app.data_as(Some(&partner), CHANGES, json!({ "since": since, "first": 100 })).await;
        let listed = from_time["scoreChanges"]["nodes"].as_array().unwrap();
        assert_eq!(listed.first().map(|c| &c["id"]), Some(&second[0]["id"]));

        // Those who may read rankings may read the feed: not a partner without
        // `scores:read`.
        let other = app.token_for(Role::Partner(vec![]), "partner-without-scores");
        let refused = app.graphql_as(Some(&other), CHANGES, json!({})).await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
    }

    async fn pulls_interleaved_with_writes_lose_nothing_and_repeat_nothing(app) {
        app.load_demo(0.05).await;
        let partner = app.partner_token();
        let periods = [
            "2017-10", "2017-11", "2017-12", "2017-W41", "2017-W42", "2017-W43", "2017-W44",
            "2017-W45", "2017-W46", "2017-W47", "2017-Q4",
        ];
        // Writers store and recompute rankings while the partner keeps pulling.
        let writers = {
            let base = app.base.clone();
            let token = app.token.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut tasks = Vec::new();
                for (i, period) in periods.iter().enumerate() {
                    let (client, base, token) = (client.clone(), base.clone(), token.clone());
                    let period = (*period).to_owned();
                    tasks.push(tokio::spawn(async move {
                        let query = if i % 2 == 0 {
                            "query($p: Period!) { ranking(period: $p) { storedAt } }"
                        } else {
                            "mutation($p: Period!) { recomputeRanking(period: $p) { storedAt } }"
                        };
                        for _ in 0..2 {
                            client
                                .post(format!("{base}/graphql"))
                                .bearer_auth(&token)
                                .json(&json!({ "query": query, "variables": { "p": period } }))
                                .send()
                                .await
                                .unwrap();
                        }
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
            })
        };
        let mut seen = Vec::new();
        let mut cursor = None;
        while !writers.is_finished() {
            let (changes, next) = pull(&app, &partner, cursor).await;
            seen.extend(changes);
            cursor = next;
        }
        writers.await.unwrap();
        let (rest, _) = pull(&app, &partner, cursor).await;
        seen.extend(rest);

        let ids: Vec<i64> = seen.iter().map(|c| c["id"].as_str().unwrap().parse().unwrap()).collect();
        let unique: BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "no change twice: {ids:?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
        assert_eq!(ids.len() as i64, app.count("score_change").await, "every change pulled");
        // Every stored ranking's snapshot appears in the feed.
        let snapshots: BTreeSet<String> = seen.iter().map(|c| c["snapshotId"].as_str().unwrap().to_owned()).collect();
        assert!(snapshots.len() as i64 >= app.count("score_snapshot").await);
    }
}
