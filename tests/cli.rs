//! The `qii` binary as an operator runs it: serving until SIGTERM, loading the demo data,
//! importing figures and daily visits ([`visits`]), printing the schema.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

fn qii(data_dir: &PathBuf) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qii"));
    command
        .env_remove("DATABASE_URL")
        .env("QII_DATA_DIR", data_dir);
    command
}

fn fresh_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qii-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            child.kill().ok();
            panic!("qii did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_schema_command_prints_the_checked_in_sdl() {
    let dir = fresh_dir();
    let out = qii(&dir).arg("schema").output().unwrap();
    assert!(out.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), checked_in);
}

#[test]
fn the_demo_loads_once_into_the_embedded_database_and_a_second_run_changes_nothing() {
    let dir = fresh_dir();
    let first = qii(&dir)
        .args(["demo", "--scale", "0.05"])
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        dir.join("qii.db").exists(),
        "the embedded database lives in the data dir"
    );
    let second = qii(&dir)
        .args(["demo", "--scale", "0.05"])
        .output()
        .unwrap();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already loaded"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_demo_scale_out_of_range_is_refused_with_a_message() {
    let dir = fresh_dir();
    let out = qii(&dir).args(["demo", "--scale", "0"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scale"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn serve_answers_over_http_and_stops_cleanly_on_sigterm() {
    let dir = fresh_dir();
    let mut child = qii(&dir)
        .args(["serve", "--addr", "127.0.0.1:0", "--log", "info"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("qii logs its address").unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: qii\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_for_exit(&mut child, Duration::from_secs(20));
    assert!(
        exit.success(),
        "qii exits with success after SIGTERM: {exit}"
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rules_check_passes_on_the_shipped_rules_and_fails_with_the_line_of_a_broken_one() {
    let dir = fresh_dir();
    let shipped = qii(&dir)
        .args([
            "rules",
            "check",
            "--dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/rules"),
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&shipped.stdout);
    assert!(shipped.status.success(), "{out}");
    assert!(
        out.contains("qii/v2.rhai") && out.contains("0 failed"),
        "{out}"
    );

    std::fs::write(dir.join("broken.rhai"), "fn index() {\n  let = 1;\n}\n").unwrap();
    let broken = qii(&dir)
        .args(["rules", "check", "--dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(!broken.status.success());
    assert!(out.contains("broken.rhai:2:"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn score_ranks_the_32_towns_with_the_version_in_effect_and_refuses_a_period_without_one() {
    let dir = fresh_dir();
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    assert!(qii(&dir)
        .args(["demo", "--scale", "0.05"])
        .output()
        .unwrap()
        .status
        .success());
    let out = qii(&dir)
        .args(["score", "--period", "2017-10", "--rules-dir", rules])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("qii 2.0.1 [") && header.contains("2017-10"),
        "{header}"
    );
    assert!(lines.next().unwrap().starts_with("stored "), "{text}");
    let ranked: Vec<&str> = lines.skip(1).collect();
    assert_eq!(ranked.len(), 32, "{text}");
    assert!(ranked[0].trim_start().starts_with("1 "), "{text}");

    let none = qii(&dir)
        .args(["score", "--period", "2017-09", "--rules-dir", rules])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr)
        .contains("no version of rule set `qii` is in effect for 2017-09"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs `qii` to success and returns its standard output.
fn run_ok(dir: &PathBuf, args: &[&str]) -> String {
    let out = qii(dir).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "qii {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn rules_publish_history_and_rollback_and_snapshots_from_the_command_line() {
    let dir = fresh_dir();
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    run_ok(&dir, &["demo", "--scale", "0.05"]);
    let v3 = std::fs::read_to_string(format!("{rules}/qii/v2.rhai"))
        .unwrap()
        .replace("version: \"2.0.1\"", "version: \"3.0\"")
        .replace("effective_from: \"2017-10\"", "effective_from: \"2018-01\"");
    let file = dir.join("v3.rhai");
    std::fs::write(&file, v3).unwrap();
    // Its test cases, beside it: v2's, which v3 (the same weights) passes too.
    std::fs::copy(
        format!("{rules}/qii/v2.tests.json"),
        dir.join("v3.tests.json"),
    )
    .unwrap();

    // Outside the rules folder the path in the rules tree must be given.
    let unplaced = qii(&dir)
        .args([
            "rules",
            "publish",
            file.to_str().unwrap(),
            "--rules-dir",
            rules,
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!unplaced.status.success());
    assert!(String::from_utf8_lossy(&unplaced.stderr).contains("--path qii/v3.rhai"));

    let out = run_ok(
        &dir,
        &[
            "rules",
            "publish",
            file.to_str().unwrap(),
            "--path",
            "qii/v3.rhai",
            "--rules-dir",
            rules,
        ],
    );
    assert!(out.contains("release 2 is in force"), "{out}");
    let history = run_ok(&dir, &["rules", "history", "--rules-dir", rules]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(
        lines[0].starts_with('*') && lines[0].contains("qii/v3.rhai published"),
        "{history}"
    );
    assert!(lines[1].contains("folder"), "{history}");
    let january = run_ok(
        &dir,
        &["score", "--period", "2018-01", "--rules-dir", rules],
    );
    assert!(january.starts_with("qii 3.0 ["), "{january}");
    let explained: serde_json::Value = serde_json::from_str(&run_ok(
        &dir,
        &[
            "score",
            "--period",
            "2018-01",
            "--json",
            "--rules-dir",
            rules,
        ],
    ))
    .unwrap();
    assert_eq!(explained["version"], "3.0");
    let first = &explained["units"][0];
    assert_eq!(first["rank"], 1);
    let indicators = first["indicators"].as_array().unwrap();
    let sum: f64 = indicators
        .iter()
        .map(|i| i["contribution"].as_f64().unwrap())
        .sum();
    assert!(
        (sum - first["total"].as_f64().unwrap()).abs() < 1e-6,
        "{first}"
    );
    assert!(indicators
        .iter()
        .all(|i| i.get("raw").is_some() && i["weight"].is_number()));

    // A broken script is refused with its line, and nothing changes.
    std::fs::write(dir.join("v4.rhai"), "fn index() {\n  let = 1;\n}\n").unwrap();
    let broken = qii(&dir)
        .args([
            "rules",
            "publish",
            dir.join("v4.rhai").to_str().unwrap(),
            "--path",
            "qii/v4.rhai",
            "--rules-dir",
            rules,
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("qii/v4.rhai:2:"));

    // The refusal is in the history, marked, and takes the next release number.
    let history = run_ok(&dir, &["rules", "history", "--rules-dir", rules]);
    let first = history.lines().next().unwrap_or_default();
    assert!(
        first.starts_with('x') && first.contains("refused: qii/v4.rhai published"),
        "{history}"
    );
    let out = run_ok(&dir, &["rules", "rollback", "--rules-dir", rules]);
    assert!(out.contains("release 4 is in force"), "{out}");
    let february = run_ok(
        &dir,
        &["score", "--period", "2018-02", "--rules-dir", rules],
    );
    assert!(february.starts_with("qii 2.0.1 ["), "{february}");

    let snapshots = run_ok(
        &dir,
        &[
            "snapshot",
            "--every",
            "month",
            "--span",
            "2017-Q4",
            "--rules-dir",
            rules,
        ],
    );
    let stored: Vec<&str> = snapshots
        .lines()
        .filter(|l| l.ends_with(", stored"))
        .collect();
    assert_eq!(stored.len(), 3, "{snapshots}");
    assert!(
        stored[0].starts_with("2017-10: 32 units ranked with qii 2.0.1"),
        "{snapshots}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A data dir holding the demo structure (the 32 towns and their units, by code).
fn dir_with_demo() -> PathBuf {
    let dir = fresh_dir();
    let demo = qii(&dir)
        .args(["demo", "--scale", "0.01"])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    dir
}

fn import(dir: &PathBuf, args: &[&str]) -> (bool, String, String) {
    let out = qii(dir)
        .arg("import")
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_reads_figures_from_csv_or_json_and_a_second_run_replaces_them() {
    let dir = dir_with_demo();
    let csv = dir.join("figures.csv");
    std::fs::write(
        &csv,
        "org_unit,period,key,value\n\
         town-shijie,2017-10,provincial_visits,1200\n\
         town-houjie,2017-10,provincial_visits,800.5\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap();
    let (ok, out, err) = import(&dir, &[csv, "--source", "provincial-platform"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("2 row(s) imported, 2 inserted, 0 replaced; keys: provincial_visits"),
        "{out}"
    );
    let (ok, out, _) = import(&dir, &[csv]);
    assert!(ok && out.contains("0 inserted, 2 replaced"), "{out}");

    let json = dir.join("figures.data");
    std::fs::write(
        &json,
        r#"[{"org_unit": "town-shijie", "period": "2017-11", "key": "provincial_visits", "value": 90},
            {"org_unit": "town-shijie", "period": "2017-10", "key": "provincial_visits", "value": "1300"}]"#,
    )
    .unwrap();
    let json = json.to_str().unwrap();
    let (ok, _, err) = import(&dir, &[json]);
    assert!(
        !ok && err.contains("--format"),
        "an unknown extension: {err}"
    );
    let (ok, out, err) = import(&dir, &[json, "--format", "json"]);
    assert!(ok && out.contains("1 inserted, 1 replaced"), "{out}{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_import_with_a_bad_row_lists_every_problem_exits_non_zero_and_writes_nothing() {
    let dir = dir_with_demo();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "org_unit,period,key,value\n\
         town-shijie,2017-11,reach,10\n\
         nowhere,2017-13,reach,1\n\
         town-houjie,2017-11,valid_visits,NaN\n",
    )
    .unwrap();
    let (ok, out, err) = import(&dir, &[bad.to_str().unwrap()]);
    assert!(!ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("row 2 (line 3) org_unit: "), "{out}");
    assert!(
        lines[1].starts_with("row 2 (line 3) period: `2017-13`"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("row 3 (line 4) key: `valid_visits` is computed"),
        "{out}"
    );
    assert!(lines[3].starts_with("row 3 (line 4) value: "), "{out}");
    assert!(
        err.contains("2 of 3 row(s)") && err.contains("nothing was written"),
        "{err}"
    );

    // Had the good row been written, importing it again would replace it.
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "org_unit,period,key,value\ntown-shijie,2017-11,reach,10\n",
    )
    .unwrap();
    let (ok, out, err) = import(&dir, &[good.to_str().unwrap()]);
    assert!(ok && out.contains("1 inserted, 0 replaced"), "{out}{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_writes_the_city_workbook_and_every_towns_or_one_towns_and_refuses_a_wrong_period() {
    let dir = dir_with_demo();
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let out = dir.join("reports");
    let out_text = out.to_str().unwrap();
    let args = [
        "report",
        "--kind",
        "monthly",
        "--period",
        "2017-11",
        "--rules-dir",
        rules,
    ];
    let printed = run_ok(&dir, &[&args[..], &["--out", out_text]].concat());
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 33, "the city's and the 32 towns': {files:?}");
    assert!(files.contains(&"qii-monthly-2017-11.xlsx".to_owned()));
    assert!(files.contains(&"qii-monthly-2017-11-虎门.xlsx".to_owned()));
    assert_eq!(printed.lines().count(), 33, "{printed}");
    for file in &files {
        let bytes = std::fs::read(out.join(file)).unwrap();
        assert_eq!(&bytes[..2], b"PK", "{file} is an xlsx (zip) file");
    }

    let one = dir.join("one");
    let town = [
        &args[..],
        &["--town", "town-humen", "--out", one.to_str().unwrap()],
    ]
    .concat();
    run_ok(&dir, &town);
    let files: Vec<_> = std::fs::read_dir(&one).unwrap().collect();
    assert_eq!(files.len(), 1);
    assert!(one.join("qii-monthly-2017-11-虎门.xlsx").exists());

    let wrong = qii(&dir)
        .args([
            "report",
            "--kind",
            "weekly",
            "--period",
            "2017-11",
            "--rules-dir",
            rules,
        ])
        .args(["--out", dir.join("wrong").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        message.contains("a weekly report covers one ISO week"),
        "{message}"
    );
    assert!(!dir.join("wrong").exists(), "nothing is written");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn queries_register_lists_and_removes_and_a_broken_document_registers_nothing() {
    let dir = fresh_dir();
    let ops = dir.join("operations");
    std::fs::create_dir_all(ops.join("screens")).unwrap();
    let districts = "{ districts { nodes { name } } }";
    std::fs::write(ops.join("districts.graphql"), districts).unwrap();
    std::fs::write(
        ops.join("screens/towns.gql"),
        "query Towns { orgUnits(first: 5) { nodes { name } } }",
    )
    .unwrap();
    std::fs::write(ops.join("screens/broken.graphql"), "{ districts { nmae } }").unwrap();
    let ops_arg = ops.to_str().unwrap();

    let refused = qii(&dir)
        .args(["queries", "register", ops_arg])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("nothing was registered"), "{stderr}");
    assert!(
        stderr.contains("broken.graphql (line 1, column"),
        "{stderr}"
    );
    assert!(run_ok(&dir, &["queries", "list"]).contains("0 registered operation(s)"));

    std::fs::remove_file(ops.join("screens/broken.graphql")).unwrap();
    let registered = run_ok(&dir, &["queries", "register", ops_arg]);
    assert!(
        registered.contains("2 document(s): 2 registered, 0 already registered"),
        "{registered}"
    );
    let hash = qii_domain::service::persisted::sha256_hex(districts);
    let listed = run_ok(&dir, &["queries", "list"]);
    assert!(listed.contains(&hash), "{listed}");
    assert!(listed.contains("Towns"), "{listed}");
    assert!(listed.contains("2 registered operation(s)"), "{listed}");

    let missing = qii(&dir)
        .args(["queries", "remove", &hash, &"0".repeat(64)])
        .output()
        .unwrap();
    assert!(!missing.status.success(), "an unknown hash removes nothing");
    let removed = run_ok(&dir, &["queries", "remove", &hash]);
    assert!(removed.contains("1 operation(s) removed"), "{removed}");
    assert!(run_ok(&dir, &["queries", "list"]).contains("1 registered operation(s)"));
}

/// Runs SQL on the embedded database of `dir` directly, as an operator's tool would.
fn sql(dir: &std::path::Path, statement: &str) {
    use sea_orm::ConnectionTrait;
    let url = format!("sqlite://{}?mode=rw", dir.join("qii.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = sea_orm::Database::connect(&url).await.unwrap();
        db.execute_unprepared(statement).await.unwrap();
        db.close().await.unwrap();
    });
}

#[test]
fn rollups_verify_finds_a_difference_and_rebuild_mends_it() {
    let dir = dir_with_demo();
    assert!(run_ok(&dir, &["rollups", "verify"]).contains("rollups agree with the raw events"));

    // A kept figure and a kept count changed behind the triggers' back.
    sql(
        &dir,
        "UPDATE figure_rollup SET questions = questions + 7 \
         WHERE rowid = (SELECT MIN(rowid) FROM figure_rollup WHERE grain = 'm')",
    );
    sql(
        &dir,
        "UPDATE activity SET like_count = like_count + 1 WHERE id = (SELECT MIN(id) FROM activity)",
    );
    let out = qii(&dir).args(["rollups", "verify"]).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("questions is"), "{stdout}");
    assert!(stdout.contains(": like_count is"), "{stdout}");
    assert!(stderr.contains("qii rollups rebuild"), "{stderr}");

    // Bad spans are refused before anything is touched.
    for args in [
        &["rollups", "rebuild", "--from", "2017-13-01"][..],
        &[
            "rollups",
            "rebuild",
            "--from",
            "2017-12-01",
            "--to",
            "2017-11-01",
        ][..],
    ] {
        let out = qii(&dir).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is not a day") || stderr.contains("is after"),
            "{args:?}: {stderr}"
        );
    }

    assert!(run_ok(&dir, &["rollups", "rebuild"]).contains("rebuilt"));
    assert!(run_ok(&dir, &["rollups", "verify"]).contains("agree"));
    // A span alone, as after a correction of one month's events.
    assert!(run_ok(
        &dir,
        &[
            "rollups",
            "rebuild",
            "--from",
            "2017-10-01",
            "--to",
            "2017-10-31"
        ]
    )
    .contains("rebuilt"));
    assert!(run_ok(&dir, &["rollups", "verify", "--from", "2017-10-01"]).contains("agree"));
    assert!(run_ok(&dir, &["rollups", "verify"]).contains("agree"));
}

#[path = "support/ws.rs"]
mod ws;

#[path = "cli/visits.rs"]
mod visits;

/// Starts `qii serve` on a free port with `env`, its log drained in the background so
/// that it never blocks on a full pipe: the process and its address.
fn serve(dir: &PathBuf, env: &[(&str, &str)]) -> (Child, String) {
    let mut command = qii(dir);
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--log", "info"])
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("qii logs its address").unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    (child, addr)
}

/// Sends one GraphQL request; the `data` of an answer that must succeed.
async fn data(
    base: &str,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_postgres_database_push_each_others_writes_and_releases() {
    use serde_json::json;
    let Ok(admin_url) = std::env::var("QII_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set QII_TEST_DATABASE_URL"
        );
        return;
    };
    let name = format!("qii_t_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (server_part, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{server_part}/{name}");
    const SECRET: &str = "two-processes-secret-of-32-characters!";
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("QII_JWT_SECRET", SECRET),
        ("QII_RULES_DIR", rules),
        ("QII_RATE_LIMIT_PER_MINUTE", "0"),
        ("QII_LIVE_DEBOUNCE", "200ms"),
        // Only the announcements can bring a release within the test.
        ("QII_RULES_POLL", "1h"),
    ];
    let dir = fresh_dir();
    // One after the other: the first migrates the database.
    let (mut first, first_addr) = serve(&dir, &env);
    let (mut second, second_addr) = serve(&dir, &env);
    let (a, b) = (
        format!("http://{first_addr}"),
        format!("http://{second_addr}"),
    );
    let auth = qii_domain::auth::Authenticator::with_secret(
        SECRET,
        &qii_domain::config::AuthConfig::default(),
    )
    .unwrap();
    let token = auth
        .issue(
            "ops",
            &qii_domain::identity::Role::CityAdmin,
            Duration::from_secs(3600),
        )
        .token;

    let district = data(&a, &token, "mutation { createDistrict(input: {code: \"d1\", name: \"第一片区\", nameEn: \"d1\"}) { id } }", json!({})).await["createDistrict"]["id"].clone();
    let unit = "mutation($input: CreateOrgUnitInput!) { createOrgUnit(input: $input) { id } }";
    let city = data(
        &a,
        &token,
        unit,
        json!({ "input": { "code": "city", "name": "团市委", "kind": "CITY" } }),
    )
    .await["createOrgUnit"]["id"]
        .clone();
    let mut towns = Vec::new();
    for (code, town) in [("town-shijie", "石碣"), ("town-houjie", "厚街")] {
        let input = json!({ "input": { "code": code, "name": town, "kind": "TOWN", "parentId": city, "districtId": district } });
        towns.push(
            data(&a, &token, unit, input).await["createOrgUnit"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let local = chrono::Utc::now() + chrono::Duration::hours(8);
    let (month, today) = (
        local.format("%Y-%m").to_string(),
        local.format("%Y-%m-%d").to_string(),
    );
    let wait = Duration::from_secs(30);
    let mut live = ws::Ws::connect(&b, Some(&token))
        .await
        .expect("connected to the second server");
    live.subscribe(
        "releases",
        "subscription { ruleReleaseChanged { id action } }",
        json!({}),
    )
    .await;
    live.subscribe(
        "ranking",
        "subscription($p: Period!) { rankingUpdated(period: $p) { initial moved { orgUnitId rank previousRank } } }",
        json!({ "p": month }),
    )
    .await;
    let initial = live.data("ranking", wait).await["rankingUpdated"].clone();
    assert_eq!(initial["initial"], true);
    assert_eq!(initial["moved"].as_array().unwrap().len(), 2);

    // A write on the first server moves the ranking the second one pushes.
    let visits = "mutation($rows: [DailyVisitRowInput!]!) { recordDailyVisits(input: {rows: $rows}) { inserted } }";
    data(
        &a,
        &token,
        visits,
        json!({ "rows": [{ "orgUnitId": towns[1], "day": today, "visits": 900 }] }),
    )
    .await;
    let update = live.data("ranking", wait).await["rankingUpdated"].clone();
    assert_eq!(update["initial"], false);
    let moved = update["moved"].as_array().unwrap();
    let houjie = moved
        .iter()
        .find(|m| m["orgUnitId"] == towns[1].as_str())
        .expect("厚街 moved");
    assert_eq!(houjie["rank"], 1);

    // A release published on the first server is in force on the second at once.
    let publish = "mutation($path: String!, $source: String!, $tests: String) { publishRuleSet(path: $path, source: $source, tests: $tests) { release { id } } }";
    let tests = std::fs::read_to_string(format!("{rules}/qii/v2.tests.json")).unwrap();
    let v3 = std::fs::read_to_string(format!("{rules}/qii/v2.rhai"))
        .unwrap()
        .replace("version: \"2.0.1\"", "version: \"3.0\"")
        .replace("effective_from: \"2017-10\"", "effective_from: \"2018-01\"");
    let published = data(
        &a,
        &token,
        publish,
        json!({ "path": "qii/v3.rhai", "source": v3, "tests": tests }),
    )
    .await;
    let sent = Instant::now();
    let release = live.data("releases", wait).await["ruleReleaseChanged"].clone();
    eprintln!(
        "the second server put the release in force {:?} after the first answered",
        sent.elapsed()
    );
    assert_eq!(release["id"], published["publishRuleSet"]["release"]["id"]);
    assert_eq!(release["action"], "publish");

    for child in [&mut first, &mut second] {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(wait_for_exit(child, Duration::from_secs(20)).success());
    }
    sea_orm::ConnectionTrait::execute_unprepared(
        &admin,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    )
    .await
    .ok();
    std::fs::remove_dir_all(&dir).ok();
}

/// A stand-in OpenTelemetry collector: answers every HTTP request 200 and keeps each one's
/// path, content type and body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Vec<u8>)>>>;

fn collector() -> (String, Received) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let received: Received = Default::default();
    let kept = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .to_owned();
                    let (mut length, mut content_type) = (0usize, String::new());
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap_or((line, ""));
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "content-type" => content_type = value.trim().to_owned(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    kept.lock().unwrap().push((path, content_type, body));
                    writer
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                        .unwrap();
                }
            });
        }
    });
    (format!("http://{addr}"), received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exports_traces_over_otlp_continuing_the_callers_trace() {
    let (endpoint, received) = collector();
    let dir = fresh_dir();
    let (mut child, addr) = serve(&dir, &[("QII_OTLP_ENDPOINT", endpoint.as_str())]);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&serde_json::json!({ "query": "query Districts { districts { name } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Stopping flushes the traces still held.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_for_exit(&mut child, Duration::from_secs(20)).success());

    let received = received.lock().unwrap();
    assert!(!received.is_empty(), "the collector received traces");
    let (path, content_type, _) = &received[0];
    assert_eq!(path, "/v1/traces");
    assert_eq!(content_type, "application/x-protobuf");
    let bodies: Vec<u8> = received
        .iter()
        .flat_map(|(_, _, body)| body.clone())
        .collect();
    let contains = |needle: &[u8]| bodies.windows(needle.len()).any(|w| w == needle);
    let trace_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&trace_id[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(
        contains(&trace_bytes),
        "the request's spans continue the caller's trace"
    );
    assert!(contains(b"qii"), "the service is named");
    assert!(
        contains(b"graphql") && contains(b"Districts"),
        "the operation has its span"
    );
    std::fs::remove_dir_all(&dir).ok();
}
