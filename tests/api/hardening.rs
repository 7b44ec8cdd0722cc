//! Requests built to knock a server over. Each is refused with a code a person can act
//! on, or answered, and the server keeps answering everyone else.

use serde_json::{json, Value};

use crate::{
    both_databases,
    helpers::{shipped_rules, TestApp},
};

/// A cycle through relations: each level a page of the one above.
const CYCLE: &str = "{ districts { nodes { towns { nodes { district { towns { nodes { district {
    towns { nodes { district { towns { nodes { name } } } } } } } } } } } } } }";

/// Fan-out through sign-ups and members' home towns, back to activities.
const FAN_OUT: &str = "{ orgUnits(first: 100) { nodes { activities { nodes { signups { nodes {
    member { homeTown { activities { nodes { signups { nodes { member { homeTown { name } } } } } } } } } } } } } } }";

/// The cycle as it was written when relations were plain lists.
const OLD_CYCLE: &str = "{ districts { towns { district { towns { district { towns { district {
    towns { district { towns { district { towns { name } } } } } } } } } } } } }";

fn code_of(response: &Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no code>")
        .to_owned()
}

/// The shipped QII v2 with a slow but legal loop in `index()`: each step copies a
/// 60,000-character string, so the operation limit is far away when the time limit hits.
fn slow_index() -> String {
    let source = std::fs::read_to_string(shipped_rules().join("qii/v2.rhai")).unwrap();
    let slow = "fn index() {\n    let s = \"\";\n    for i in 0..60000 { s += \"x\"; }\n    \
                let n = 0;\n    for i in 0..400000 { n += s.to_upper().len(); }\n";
    assert!(source.contains("fn index() {\n"));
    source.replacen("fn index() {\n", slow, 1)
}

const PREVIEW: &str =
    "query($s: String!) { previewRanking(source: $s, period: \"2017-10\") { version } }";

/// A POST of `body` (a JSON value) to the server's GraphQL endpoint, as `token`.
async fn post_json(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = client.post(format!("{base}/graphql")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request reaches the server")
}

both_databases! {
    async fn pages_of_pages_are_refused_by_what_they_could_return_before_they_run(app) {
        app.load_demo(0.02).await;
        for (what, query) in [("cycle", CYCLE), ("fan-out", FAN_OUT)] {
            let response = app.graphql_as(None, query, json!({})).await;
            assert_eq!(code_of(&response), "QUERY_TOO_COMPLEX", "{what}: {response}");
            let message = response["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("the query costs") && message.contains("at most 20000"), "{what}: {message}");
            assert!(response.get("data").is_none(), "{what} did not run: {response}");
        }
        let old = app.graphql_as(None, OLD_CYCLE, json!({})).await;
        assert_eq!(code_of(&old), "GRAPHQL_VALIDATION_FAILED", "{old}");

        // A fragment spread inside a page multiplies like the field it stands for.
        let fragments = "fragment People on Activity { signups(first: 100) { nodes { member { nickname } } } }
            { activities(first: 100) { nodes { ...People } } }";
        assert_eq!(code_of(&app.graphql(fragments, json!({})).await), "QUERY_TOO_COMPLEX");

        // Pages are bounded whatever is asked.
        for first in [100_000, -1] {
            let (code, message) = app
                .error("query($n: Int) { activities(first: $n) { totalCount } }", json!({ "n": first }))
                .await;
            assert_eq!(code, "BAD_USER_INPUT", "first: {first}: {message}");
        }
        let nested = app
            .error("{ orgUnits(first: 1) { nodes { activities(first: 500) { totalCount } } } }", json!({}))
            .await;
        assert_eq!(nested.0, "BAD_USER_INPUT", "{}", nested.1);

        // The deepest query the depth limit lets through, a page at every other level,
        // is answered (the server's threads have the stack for it).
        let mut deep = "name".to_owned();
        for _ in 0..6 {
            deep = format!("children(first: 1) {{ nodes {{ name {deep} }} }}");
        }
        let deep = format!("{{ orgUnits(first: 1) {{ nodes {{ {deep} }} }} }}");
        let answer = app.data_as(None, &deep, json!({})).await;
        assert!(answer["orgUnits"]["nodes"].is_array());

        // What fits is answered, nested pages with their own cursors and counts.
        let data = app
            .data(
                "{ orgUnits(filter: {kind: TOWN}, first: 5) { nodes { activities(first: 3) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { signups(first: 2) { totalCount nodes { id } } } } } } }",
                json!({}),
            )
            .await;
        let towns = data["orgUnits"]["nodes"].as_array().unwrap();
        assert_eq!(towns.len(), 5);
        for town in towns {
            let page = &town["activities"];
            let nodes = page["nodes"].as_array().unwrap();
            assert!(nodes.len() <= 3);
            let total = page["totalCount"].as_u64().unwrap() as usize;
            assert!(total >= nodes.len());
            assert_eq!(page["pageInfo"]["hasNextPage"], total > nodes.len());
        }
    }

    async fn aliases_and_batches_count_as_what_they_are(app) {
        let wide: Vec<String> = (0..25).map(|i| format!("a{i}: activities(first: 1) {{ totalCount }}")).collect();
        let response = app.graphql_as(None, &format!("{{ {} }}", wide.join(" ")), json!({})).await;
        assert_eq!(code_of(&response), "TOO_MANY_ROOT_FIELDS", "{response}");
        assert!(response.get("data").is_none());

        // Root fields spread from fragments count too.
        let spread = format!(
            "fragment Many on Query {{ {} }} {{ ...Many }}",
            (0..21).map(|i| format!("v{i}: viewer {{ role }}")).collect::<Vec<_>>().join(" ")
        );
        assert_eq!(code_of(&app.graphql(&spread, json!({})).await), "TOO_MANY_ROOT_FIELDS");

        // 200 sign-in guesses in one request are refused before any is tried.
        let guesses: Vec<String> = (0..200)
            .map(|i| format!("g{i}: login(username: \"nobody\", password: \"guess-{i}\") {{ accessToken }}"))
            .collect();
        let response = app.graphql_as(None, &format!("mutation {{ {} }}", guesses.join(" ")), json!({})).await;
        assert_eq!(code_of(&response), "TOO_MANY_ROOT_FIELDS", "{response}");

        // A batch is a list of operations: answered one by one, up to the configured size.
        let one = json!({ "query": "{ activities(first: 1) { totalCount } }" });
        let response = post_json(&app.client, &app.base, None, &json!([one, one, one])).await;
        assert_eq!(response.status(), 200);
        let answers: Value = response.json().await.unwrap();
        let answers = answers.as_array().unwrap();
        assert_eq!(answers.len(), 3);
        assert!(answers.iter().all(|a| a["data"]["activities"]["totalCount"] == 0));

        let eleven = Value::Array(vec![one.clone(); 11]);
        let response = post_json(&app.client, &app.base, None, &eleven).await;
        assert_eq!(response.status(), 400);
        assert_eq!(code_of(&response.json().await.unwrap()), "BATCH_TOO_LARGE");

        let five_wide = json!({ "query": format!("{{ {} }}", wide[..5].join(" ")) });
        let batch = Value::Array(vec![five_wide; 5]);
        let response = post_json(&app.client, &app.base, None, &batch).await;
        assert_eq!(response.status(), 400);
        assert_eq!(code_of(&response.json().await.unwrap()), "TOO_MANY_ROOT_FIELDS");

        let empty = post_json(&app.client, &app.base, None, &json!([])).await;
        assert_eq!(empty.status(), 400);
        let code = code_of(&empty.json().await.unwrap());
        assert!(code == "BATCH_TOO_LARGE" || code == "BAD_REQUEST", "{code}");
    }

    async fn slow_scripts_run_off_the_request_workers_and_stop_at_their_time_limit(app) {
        let source = slow_index();
        let start = |source: String| {
            let (client, base, token) = (app.client.clone(), app.base.clone(), app.token.clone());
            tokio::spawn(async move {
                let body = json!({ "query": PREVIEW, "variables": { "s": source } });
                post_json(&client, &base, Some(&token), &body).await.json::<Value>().await.unwrap()
            })
        };
        let (a, b) = (start(source.clone()), start(source.clone()));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Both scripts hold the pool; the server still answers at once.
        let health = app.client.get(format!("{}/healthz", app.base)).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let listed = app.data_as(None, "{ activities(first: 1) { totalCount } }", json!({})).await;
        assert_eq!(listed["activities"]["totalCount"], 0);
        assert!(!a.is_finished() && !b.is_finished(), "the previews were still running");
        for answer in [a.await.unwrap(), b.await.unwrap()] {
            assert_eq!(code_of(&answer), "RULE_ERROR", "{answer}");
            let message = answer["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("ran longer than"), "{message}");
        }
    }

    async fn odd_inputs_are_refused_as_bad_input_and_write_nothing(app) {
        app.load_demo(0.02).await;
        let members = app.count("member").await;
        let town = app.unit_id("town-shijie").await;
        let register = "mutation($n: String!, $t: ID!) { registerMember(input: {nickname: $n, homeTownId: $t}) { id } }";
        for nickname in ["青年\u{0}一号".to_owned(), "x".repeat(300_001)] {
            let (code, message) = app.error_as(None, register, json!({ "n": nickname, "t": town })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
        }
        assert_eq!(app.count("member").await, members);

        let search = "query($s: String) { activities(filter: {search: $s}) { totalCount } }";
        let (code, message) = app.error_as(None, search, json!({ "s": "%_".repeat(25_000) })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert!(message.contains("200"), "{message}");
        // Wildcards are searched for as themselves.
        let literal = app.data_as(None, search, json!({ "s": "%" })).await;
        assert_eq!(literal["activities"]["totalCount"], 0);

        let since = "query($d: DateTime) { activities(filter: {startsFrom: $d}) { totalCount } }";
        for date in ["+10000-01-01T00:00:00Z", "-4714-01-01T00:00:00Z", "0000-01-01T00:00:00Z"] {
            let response = app.graphql_as(None, since, json!({ "d": date })).await;
            let code = code_of(&response);
            assert!(
                code == "BAD_USER_INPUT" || code == "GRAPHQL_VALIDATION_FAILED",
                "{date}: {response}"
            );
            assert!(response["data"]["activities"].is_null(), "{date}: {response}");
        }

        // Odd ids, numbers and periods: each a client error, none an internal one.
        let odd: [(&str, Value); 9] = [
            // A variable left out is null, which a defaulted argument of a non-null type
            // cannot take.
            ("query($l: RankingLevel) { ranking(period: \"2017-10\", level: $l) { version } }", json!({})),
            ("query($id: ID!) { activity(id: $id) { id } }", json!({ "id": "１２" })),
            ("query($id: ID!) { activity(id: $id) { id } }", json!({ "id": "99999999999999999999999" })),
            ("query($id: ID!) { activity(id: $id) { id } }", json!({ "id": "-1" })),
            ("query($p: Period!) { ranking(period: $p) { version } }", json!({ "p": "2017-10-\u{0}" })),
            ("query($p: Period!) { ranking(period: $p) { version } }", json!({ "p": "99999-01" })),
            ("query($c: String) { orgUnit(code: $c) { id } }", json!({ "c": "\u{0}" })),
            ("query($a: String) { activities(after: $a) { totalCount } }", json!({ "a": "not a cursor" })),
            ("query($a: String) { activities(after: $a) { totalCount } }", json!({ "a": "eyJrIjpudWxsfQ" })),
        ];
        for (query, variables) in odd {
            let response = app.graphql(query, variables.clone()).await;
            if let Some(errors) = response.get("errors") {
                let code = errors[0]["extensions"]["code"].as_str().unwrap_or("<no code>");
                assert!(code != "INTERNAL" && code != "<no code>", "{variables}: {response}");
            }
        }

        // A value written in the query that its type cannot read (a date that is no date,
        // inside an input object): the caller's mistake, named, and nothing written.
        let activities = app.count("activity").await;
        let unreadable = [
            format!("mutation {{ createActivity(input: {{orgUnitId: \"{town}\", title: \"t\", kind: OFFLINE, category: SOCIAL, startsAt: \"A\", endsAt: \"2017-11-18T06:00:00Z\", place: \"p\"}}) {{ id }} }}"),
            format!("mutation {{ createOrgUnit(input: {{code: \"x\", name: \"x\", kind: YOUTH_HOME, parentId: \"{town}\", foundedOn: \"2017-13-45\"}}) {{ id }} }}"),
            "{ supervisionMeetings(filter: {heldFrom: \"not a day\"}) { totalCount } }".to_owned(),
        ];
        for query in &unreadable {
            let response = app.graphql(query, json!({})).await;
            let code = code_of(&response);
            assert!(code == "BAD_USER_INPUT" || code == "GRAPHQL_VALIDATION_FAILED", "{query}: {response}");
            if code == "BAD_USER_INPUT" {
                let message = response["errors"][0]["message"].as_str().unwrap();
                assert!(message.contains("Failed to parse"), "{message}");
            }
        }
        assert_eq!(app.count("activity").await, activities);

        // A body nested past what the parser takes is a bad request, not a crash.
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let body = format!("{{\"query\": \"{{ viewer {{ role }} }}\", \"variables\": {{\"x\": {deep}}}}}");
        let response = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(app.data("{ viewer { role } }", json!({})).await["viewer"]["role"], "city_admin");
    }

    async fn concurrent_ranking_writes_and_first_reads_all_succeed(app) {
        app.load_demo(0.02).await;
        let mut tasks = Vec::new();
        let queries = [
            ("mutation { recomputeRanking(period: \"2017-10\") { version } }", 2),
            ("{ ranking(period: \"2017-11\") { version entries(first: 3) { nodes { rank } } } }", 8),
        ];
        for (query, times) in queries {
            for _ in 0..times {
                let (client, base, token) = (app.client.clone(), app.base.clone(), app.token.clone());
                tasks.push(tokio::spawn(async move {
                    let body = json!({ "query": query });
                    post_json(&client, &base, Some(&token), &body).await.json::<Value>().await.unwrap()
                }));
            }
        }
        for task in tasks {
            let answer = task.await.unwrap();
            assert!(answer.get("errors").is_none(), "{answer}");
        }
    }

    async fn a_request_without_a_query_or_that_cannot_execute_carries_no_data(app) {
        let empty = post_json(&app.client, &app.base, None, &json!({ "variables": {} })).await;
        assert_eq!(empty.status(), 400);
        let body: Value = empty.json().await.unwrap();
        assert_eq!(code_of(&body), "BAD_REQUEST");
        for (query, code) in [("{", "GRAPHQL_PARSE_FAILED"), ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED")] {
            let response = app
                .client
                .post(format!("{}/graphql", app.base))
                .header("accept", "application/graphql-response+json")
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{query}");
            let body: Value = response.json().await.unwrap();
            assert!(body.get("data").is_none(), "{query}: {body}");
            assert_eq!(code_of(&body), code, "{query}");
        }
    }
}

/// A server with limits set low enough to reach with small requests.
fn short_deadline(config: &mut qii_domain::config::Config) {
    config.limits.request_timeout = std::time::Duration::from_millis(300);
}

/// Three sign-ins a minute per address: the quota refills one every 20 s, far longer than
/// four password checks take even on a loaded machine.
fn few_sign_ins(config: &mut qii_domain::config::Config) {
    config.auth.login_per_minute = 3;
}

async fn address_throttle(app: TestApp) {
    let login = "mutation($u: String!) { login(username: $u, password: \"not the password\") { accessToken } }";
    let mut codes = Vec::new();
    for i in 0..4 {
        let response = app
            .graphql_as(None, login, json!({ "u": format!("nobody{i}") }))
            .await;
        codes.push(code_of(&response));
        if i == 3 {
            let message = response["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("address"), "{message}");
        }
    }
    assert!(
        codes[..3].iter().all(|c| c == "UNAUTHENTICATED"),
        "{codes:?}"
    );
    assert_eq!(codes[3], "RATE_LIMITED");
}

fn small_limits(config: &mut qii_domain::config::Config) {
    config.limits.max_response_bytes = 4096;
    config.auth.login_per_minute = 1000;
}

async fn deadline(app: TestApp) {
    // Past its deadline a request is stopped and answered TIMEOUT.
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": PREVIEW, "variables": { "s": slow_index() } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code_of(&body), "TIMEOUT", "{body}");
    assert_eq!(
        app.data("{ viewer { role } }", json!({})).await["viewer"]["role"],
        "city_admin"
    );
}

async fn limits(app: TestApp) {
    // An answer past the size cap is refused, a small one answered.
    app.load_demo(0.02).await;
    let large = app
        .graphql_as(
            None,
            "{ activities(first: 100) { nodes { title description } } }",
            json!({}),
        )
        .await;
    assert_eq!(code_of(&large), "RESPONSE_TOO_LARGE", "{large}");
    let small = app
        .data_as(None, "{ activities(first: 1) { totalCount } }", json!({}))
        .await;
    assert!(small["activities"]["totalCount"].as_i64().unwrap() > 0);

    // Guesses lock the account after five failures; an administrator lifts the lock.
    let created = app
        .data(
            "mutation { createUser(input: {username: \"hu.men\", displayName: \"虎门\", role: CITY_ADMIN,
                password: \"correct horse battery\"}) { id } }",
            json!({}),
        )
        .await;
    let user = created["createUser"]["id"].clone();
    let login =
        "mutation($p: String!) { login(username: \"hu.men\", password: $p) { accessToken } }";
    let mut codes = Vec::new();
    for i in 0..6 {
        codes.push(
            app.error_as(None, login, json!({ "p": format!("guess {i}") }))
                .await
                .0,
        );
    }
    assert_eq!(
        codes,
        ["UNAUTHENTICATED"; 5]
            .into_iter()
            .chain(["RATE_LIMITED"])
            .collect::<Vec<_>>()
    );
    let (code, message) = app
        .error_as(None, login, json!({ "p": "correct horse battery" }))
        .await;
    assert_eq!(code, "RATE_LIMITED", "the right password waits too");
    assert!(message.contains("locked"), "{message}");
    let users = "{ users(first: 10) { nodes { username lockedUntil } } }";
    let listed = app.data(users, json!({})).await;
    let row = listed["users"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "hu.men")
        .unwrap()
        .clone();
    assert!(row["lockedUntil"].is_string(), "{row}");
    let unlocked = app
        .data(
            "mutation($id: ID!) { unlockUser(id: $id) { lockedUntil } }",
            json!({ "id": user }),
        )
        .await;
    assert!(unlocked["unlockUser"]["lockedUntil"].is_null());
    let session = app
        .data_as(None, login, json!({ "p": "correct horse battery" }))
        .await;
    assert!(session["login"]["accessToken"].is_string());

    // Aliased guesses lock the account within the request: the right one, last, fails.
    let mut guesses: Vec<String> = (0..8)
        .map(|i| {
            format!("g{i}: login(username: \"hu.men\", password: \"guess {i}\") {{ accessToken }}")
        })
        .collect();
    guesses.push(
        "right: login(username: \"hu.men\", password: \"correct horse battery\") { accessToken }"
            .into(),
    );
    let response = app
        .graphql_as(
            None,
            &format!("mutation {{ {} }}", guesses.join(" ")),
            json!({}),
        )
        .await;
    assert!(
        !response.to_string().contains("accessToken\":\"ey"),
        "{response}"
    );
    let codes: Vec<&str> = response["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert!(codes.contains(&"UNAUTHENTICATED"), "{codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_stopped_on_sqlite() {
    deadline(TestApp::sqlite_configured(short_deadline).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_stopped_on_postgres() {
    if let Some(app) = TestApp::postgres_configured(short_deadline).await {
        deadline(app).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_from_one_address_are_throttled_on_sqlite() {
    address_throttle(TestApp::sqlite_configured(few_sign_ins).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_from_one_address_are_throttled_on_postgres() {
    if let Some(app) = TestApp::postgres_configured(few_sign_ins).await {
        address_throttle(app).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_caps_and_account_locks_hold_on_sqlite() {
    limits(TestApp::sqlite_configured(small_limits).await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_caps_and_account_locks_hold_on_postgres() {
    if let Some(app) = TestApp::postgres_configured(small_limits).await {
        limits(app).await
    }
}
