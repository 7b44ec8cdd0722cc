//! `qii import --visits`: the daily visits of the platform's logs imported from a CSV file,
//! all rows or none, on SQLite and on PostgreSQL, and then counted in the API's figures.

use std::{path::PathBuf, process::Command, time::Duration};

use serde_json::json;

use super::{data, fresh_dir, qii, serve, wait_for_exit};

const SECRET: &str = "visits-import-secret-of-32-characters!";

/// A test's database: the SQLite file of a fresh data dir, or a fresh PostgreSQL database
/// (then `DATABASE_URL` names it), dropped when the test ends.
struct Store {
    dir: PathBuf,
    env: Vec<(&'static str, String)>,
    postgres: Option<(sea_orm::DatabaseConnection, String)>,
}

impl Store {
    fn sqlite() -> Self {
        Self {
            dir: fresh_dir(),
            env: Vec::new(),
            postgres: None,
        }
    }

    /// None when no PostgreSQL server is configured (never under CI).
    async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("QII_TEST_DATABASE_URL") else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must set QII_TEST_DATABASE_URL"
            );
            return None;
        };
        let name = format!("qii_t_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let (server, _) = admin_url.rsplit_once('/').unwrap();
        Some(Self {
            dir: fresh_dir(),
            env: vec![("DATABASE_URL", format!("{server}/{name}"))],
            postgres: Some((admin, name)),
        })
    }

    /// Runs `qii ARGS` on this database: success, standard output, standard error.
    fn qii(&self, args: &[&str]) -> (bool, String, String) {
        let mut command = qii(&self.dir);
        command.args(args).env("RUST_BACKTRACE", "0");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let out = command.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Writes `text` to a file of the data dir; its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    async fn drop_database(self) {
        if let Some((admin, name)) = self.postgres {
            let drop = format!("DROP DATABASE {name} WITH (FORCE)");
            sea_orm::ConnectionTrait::execute_unprepared(&admin, &drop)
                .await
                .ok();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

async fn a_refused_file_writes_nothing_and_an_accepted_one_shows_in_the_figures(store: Store) {
    let (ok, _, err) = store.qii(&["demo", "--scale", "0.01"]);
    assert!(ok, "{err}");

    let bad = store.file(
        "bad.csv",
        "org_unit,day,visits\n\
         town-shijie,2018-01-02,120\n\
         nowhere,2018-01-02,5\n\
         town-houjie,2018-13-01,5\n\
         town-houjie,2018-01-03,-4\n\
         town-houjie,2018-01-04,12.5\n\
         town-shijie,2018-01-02,7\n\
         town-humen,2018-01-05\n",
    );
    let (ok, out, err) = store.qii(&["import", "--visits", &bad]);
    assert!(!ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let expected = [
        "row 2 (line 3) org_unit: no org unit has the code or id `nowhere`",
        "row 3 (line 4) day: `2018-13-01` is not a day",
        "row 4 (line 5) visits: visits must be zero or more, got -4",
        "row 5 (line 6) visits: `12.5` is not a whole number",
        "row 6 (line 7) day: duplicates row 1 (same org unit and day)",
        "row 7 (line 8) visits: the count of visits is missing",
    ];
    assert_eq!(lines.len(), expected.len(), "{out}");
    for (line, expected) in lines.iter().zip(expected) {
        assert!(line.starts_with(expected), "{line}\n  expected {expected}");
    }
    assert!(
        err.contains("6 of 7 row(s)") && err.contains("nothing was written"),
        "{err}"
    );

    let headless = store.file("headless.csv", "org_unit,day\ntown-shijie,2018-01-02\n");
    let (ok, _, err) = store.qii(&["import", "--visits", &headless]);
    assert!(!ok && err.contains("lacks `visits`"), "{err}");
    let (ok, _, err) = store.qii(&["import", "--visits", &headless, "--source", "logs"]);
    assert!(!ok && err.contains("--source"), "{err}");

    let good = store.file(
        "visits.csv",
        "org_unit,day,visits\n\
         town-shijie,2018-01-02,120\n\
         town-shijie,2018-01-03,80\n\
         town-houjie,2018-01-02,40\n",
    );
    let (ok, out, err) = store.qii(&["import", "--visits", &good]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(
            "3 row(s) imported, 3 inserted, 0 replaced; 2 org unit(s), 2018-01-02 to \
             2018-01-03, 240 valid visits in all"
        ),
        "had a row of the refused file been written, one would be replaced: {out}"
    );
    let (ok, out, _) = store.qii(&["import", "--visits", &good]);
    assert!(ok && out.contains("0 inserted, 3 replaced"), "{out}");

    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let mut env: Vec<(&str, &str)> = vec![
        ("QII_JWT_SECRET", SECRET),
        ("QII_RULES_DIR", rules),
        ("QII_RATE_LIMIT_PER_MINUTE", "0"),
    ];
    env.extend(store.env.iter().map(|(k, v)| (*k, v.as_str())));
    let (mut server, addr) = serve(&store.dir, &env);
    let base = format!("http://{addr}");
    let token = qii_domain::auth::Authenticator::with_secret(
        SECRET,
        &qii_domain::config::AuthConfig::default(),
    )
    .unwrap()
    .issue(
        "ops",
        &qii_domain::identity::Role::CityAdmin,
        Duration::from_secs(3600),
    )
    .token;
    let town = data(
        &base,
        &token,
        "{ orgUnit(code: \"town-shijie\") { id } }",
        json!({}),
    )
    .await["orgUnit"]["id"]
        .clone();
    let visits = data(
        &base,
        &token,
        "query($t: ID!) { dailyVisits(filter: {orgUnitId: $t, from: \"2018-01-01\"}) { nodes { day visits } } }",
        json!({ "t": town }),
    )
    .await;
    assert_eq!(
        visits["dailyVisits"]["nodes"],
        json!([{ "day": "2018-01-02", "visits": 120 }, { "day": "2018-01-03", "visits": 80 }])
    );
    let explained = data(
        &base,
        &token,
        "query($t: ID!) { explainScore(orgUnitId: $t, period: \"2018-01\") { indicators { key raw } } }",
        json!({ "t": town }),
    )
    .await;
    let indicators = explained["explainScore"]["indicators"].as_array().unwrap();
    let valid_visits = indicators
        .iter()
        .find(|i| i["key"] == "valid_visits")
        .unwrap();
    assert_eq!(valid_visits["raw"], 200.0, "{explained:#}");

    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_for_exit(&mut server, Duration::from_secs(20)).success());
    store.drop_database().await;
}

mod a_refused_file_writes_nothing_and_an_accepted_one_shows_in_the_figures {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        a_refused_file_writes_nothing_and_an_accepted_one_shows_in_the_figures(Store::sqlite())
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        if let Some(store) = Store::postgres().await {
            a_refused_file_writes_nothing_and_an_accepted_one_shows_in_the_figures(store).await;
        }
    }
}
