//! Named unique constraints (`uq_*`) reach a client as field errors: the database's last line
//! of defence speaks like the services' own checks.

use qii_domain::error::{unique, ServiceError};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{json, Value};

use crate::{
    activity_loop::{city, member, upcoming, SIGN_UP},
    both_databases,
    helpers::TestApp,
};

/// The `uq_*` indexes of the migrated database: name, table and columns in index order.
async fn constraints_in(app: &TestApp) -> Vec<(String, String, String)> {
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT m.name, m.tbl_name, (SELECT group_concat(name, ',') FROM \
             (SELECT name FROM pragma_index_info(m.name) ORDER BY seqno)) \
             FROM sqlite_master m WHERE m.type = 'index' AND m.name LIKE 'uq\\_%' ESCAPE '\\'"
        }
        _ => {
            "SELECT i.relname::text, t.relname::text, string_agg(a.attname::text, ',' ORDER BY k.n) \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE i.relname LIKE 'uq\\_%' AND t.relnamespace = current_schema()::regnamespace \
             GROUP BY i.relname, t.relname"
        }
    };
    let rows = app
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    let mut found: Vec<(String, String, String)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get_by_index(0).unwrap(),
                row.try_get_by_index(1).unwrap(),
                row.try_get_by_index(2).unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

both_databases! {
    async fn every_unique_constraint_of_the_database_has_a_field_error(app) {
        let mut known: Vec<(String, String, String)> = unique::CONSTRAINTS
            .iter()
            .map(|u| (u.name.to_owned(), u.table.to_owned(), u.columns.join(",")))
            .collect();
        known.sort();
        assert_eq!(
            constraints_in(&app).await,
            known,
            "qii_domain::error::unique::CONSTRAINTS lists every uq_* index as migrated"
        );
    }

    async fn a_write_that_runs_into_a_unique_constraint_names_the_field(app) {
        let insert = "INSERT INTO member (nickname, mobile, registered_at) \
                      VALUES ('青年', '13800000000', '2026-01-01T00:00:00+00:00')";
        app.db.execute_unprepared(insert).await.unwrap();
        let clash = app.db.execute_unprepared(insert).await.unwrap_err();
        let error = async_graphql::Error::from(ServiceError::Database(clash));
        let extensions = serde_json::to_value(&error.extensions).unwrap();
        assert_eq!(extensions["code"], "BAD_USER_INPUT", "{extensions}");
        assert_eq!(extensions["field"], "mobile", "{extensions}");
        assert_eq!(error.message, "another member already has this mobile number");
    }

    async fn one_member_signing_up_eight_times_at_once_gets_one_sign_up_and_field_errors(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let member = member(&app, "青年").await;
        let url = format!("{}/graphql", app.base);
        let requests: Vec<_> = (0..8)
            .map(|_| {
                let (client, url, token) = (app.client.clone(), url.clone(), app.token.clone());
                let body = json!({ "query": SIGN_UP, "variables": { "a": activity, "m": member } });
                tokio::spawn(async move {
                    let response = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                    response.json::<Value>().await.unwrap()
                })
            })
            .collect();
        let mut accepted = 0;
        for request in requests {
            let response = request.await.unwrap();
            let error = &response["errors"][0];
            if error.is_null() {
                accepted += 1;
                continue;
            }
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{response:#}");
            assert_eq!(error["extensions"]["field"], "memberId", "{response:#}");
        }
        assert_eq!(accepted, 1);
        assert_eq!(app.count("activity_signup").await, 1);
    }
}
