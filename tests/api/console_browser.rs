//! The rule console in a real browser: headless Chromium, driven over the DevTools
//! protocol, opens `/console/rules` with a rule administrator's token in the address,
//! breaks `qii/v2.rhai` and finds each error marked at its line, fixes it as version 2.1,
//! previews the towns' scores, publishes it and rolls it back — and the server's rules
//! follow each step. A city administrator then reads the change's diff in the history.
//!
//! Chromium is found as for the report page (`reports_browser`): Debian's `chromium`, or
//! `QII_CHROMIUM`; under CI a missing browser fails the test, elsewhere the test says so and
//! passes. With `QII_CONSOLE_SCREENSHOT=1` the run also writes `docs/console.png`.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use async_graphql::futures_util::{SinkExt, StreamExt};
use base64::Engine;
use qii_domain::identity::Role;
use serde_json::{json, Value};
use tokio_tungstenite::{connect_async, tungstenite::Message, MaybeTlsStream, WebSocketStream};

use crate::{
    both_databases,
    reports_browser::{chromium, pixels_like, FLAGS},
};

/// The width the console is laid out at: wide enough for its two columns.
const WIDTH: u32 = 1360;

/// How long one step of the page may take on a busy two-core machine.
const STEP: Duration = Duration::from_secs(60);

const CHECK: &str = "query($path: String!, $source: String!, $tests: String) {
    checkRuleDraft(path: $path, source: $source, tests: $tests) { ok errors { line message } } }";
const VERSIONS: &str = "{ ruleVersions { version } }";

/// A browser of the test's own, with a fresh profile and the DevTools protocol on a free
/// port. Dropping it ends the process and removes the profile.
struct Chromium {
    child: Child,
    profile: PathBuf,
    log: PathBuf,
    /// `ws://127.0.0.1:PORT/devtools/browser/…`, as the browser printed it.
    endpoint: String,
}

impl Chromium {
    async fn launch(browser: &Path) -> Chromium {
        let profile = std::env::temp_dir().join(format!("qii-console-{}", uuid::Uuid::new_v4()));
        let log = profile.with_extension("log");
        // Standard error goes to a file, read for the address: a pipe nobody drains
        // would stall the browser once full.
        let stderr = std::fs::File::create(&log).expect("the browser's log file");
        let child = Command::new(browser)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--window-size={WIDTH},1000"))
            .args([
                "--remote-debugging-port=0",
                "--hide-scrollbars",
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("chromium starts");
        let mut chromium = Chromium {
            child,
            profile,
            log,
            endpoint: String::new(),
        };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&chromium.log).unwrap_or_default();
            if let Some(url) = text
                .lines()
                .find_map(|line| line.split("DevTools listening on ").nth(1))
            {
                chromium.endpoint = url.trim().to_owned();
                return chromium;
            }
            if let Ok(Some(status)) = chromium.child.try_wait() {
                panic!("chromium exited ({status}) before it listened: {text}");
            }
            assert!(
                started.elapsed() < STEP,
                "chromium did not open DevTools: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new tab at `url`, and a DevTools connection to it.
    async fn open(&self, url: &str) -> Page {
        let mut browser = Cdp::connect(&self.endpoint).await;
        let target = browser
            .call("Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let id = target["targetId"].as_str().expect("a target id");
        let root = self
            .endpoint
            .split("/devtools/")
            .next()
            .expect("a DevTools address");
        let mut page = Page(Cdp::connect(&format!("{root}/devtools/page/{id}")).await);
        page.0
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": WIDTH, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
            )
            .await;
        page.0.call("Page.navigate", json!({ "url": url })).await;
        page
    }

    /// Asks the browser to close, and waits a little for it to.
    async fn close(mut self) {
        let mut browser = Cdp::connect(&self.endpoint).await;
        browser.send("Browser.close", json!({})).await;
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        std::fs::remove_dir_all(&self.profile).ok();
        std::fs::remove_file(&self.log).ok();
    }
}

/// One DevTools protocol connection: commands out, their answers back (events skipped).
struct Cdp {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    next: u64,
}

impl Cdp {
    async fn connect(url: &str) -> Cdp {
        let (socket, _) = connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("DevTools at {url} refused the connection: {e}"));
        Cdp { socket, next: 0 }
    }

    /// Sends a command without waiting for its answer; its id.
    async fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next += 1;
        let message = json!({ "id": self.next, "method": method, "params": params });
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap_or_else(|e| panic!("{method} could not be sent: {e}"));
        self.next
    }

    /// Runs a command; its result.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params).await;
        loop {
            let frame = tokio::time::timeout(STEP, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("{method} was not answered"))
                .unwrap_or_else(|| panic!("DevTools closed the connection during {method}"))
                .unwrap_or_else(|e| panic!("DevTools connection failed during {method}: {e}"));
            let Message::Text(text) = frame else {
                continue;
            };
            let message: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
            if message["id"] != id {
                continue;
            }
            assert!(
                message.get("error").is_none(),
                "{method} failed: {}",
                message["error"]
            );
            return message["result"].clone();
        }
    }
}

/// A tab of the browser.
struct Page(Cdp);

impl Page {
    /// The value of a JavaScript expression in the page (promises awaited).
    async fn eval(&mut self, expression: &str) -> Value {
        let answer = self
            .0
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
            )
            .await;
        if let Some(thrown) = answer.get("exceptionDetails") {
            panic!(
                "`{expression}` threw: {}",
                thrown["exception"]["description"]
                    .as_str()
                    .unwrap_or(&thrown.to_string())
            );
        }
        answer["result"]["value"].clone()
    }

    /// Waits until `condition` holds in the page; `what` and the console's state if never.
    async fn wait_for(&mut self, what: &str, condition: &str) {
        let started = Instant::now();
        // Until the page has loaded, its elements may not be there yet.
        let expression = format!(
            "(() => {{ try {{ return Boolean({condition}); }} catch (_) {{ return false; }} }})()"
        );
        loop {
            if self.eval(&expression).await == true {
                return;
            }
            if started.elapsed() > STEP {
                let seen = self
                    .eval(
                        "[document.body.dataset.ready, document.querySelector('#banner').textContent, \
                          document.querySelector('#check-status').textContent, \
                          document.querySelector('#errors').textContent, \
                          document.querySelector('#preview').textContent.slice(0, 300), \
                          document.querySelector('#publish-result').textContent, \
                          document.querySelector('#rollback-result').textContent].join(' | ')",
                    )
                    .await;
                panic!("{what}: never happened; the console shows {seen}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Replaces the first `from` in a text box by `to`, as typing would (an `input` event).
    async fn edit(&mut self, id: &str, from: &str, to: &str) {
        let done = self
            .eval(&format!(
                "(() => {{ const area = document.getElementById({id}); const from = {from};
                   if (!area.value.includes(from)) return false;
                   area.value = area.value.replace(from, () => {to});
                   area.dispatchEvent(new Event('input', {{ bubbles: true }})); return true; }})()",
                id = json!(id),
                from = json!(from),
                to = json!(to),
            ))
            .await;
        assert_eq!(done, true, "#{id} holds {from:?}");
    }

    /// Sets a text box's whole value, as pasting would.
    async fn fill(&mut self, id: &str, value: &str) {
        self.eval(&format!(
            "(() => {{ const area = document.getElementById({id}); area.value = {value};
               area.dispatchEvent(new Event('input', {{ bubbles: true }})); }})()",
            id = json!(id),
            value = json!(value),
        ))
        .await;
    }

    async fn click(&mut self, selector: &str) {
        let clicked = self
            .eval(&format!(
                "(() => {{ const el = document.querySelector({s}); if (!el || el.disabled) return false;
                   el.click(); return true; }})()",
                s = json!(selector)
            ))
            .await;
        assert_eq!(clicked, true, "{selector} is there to click");
    }

    async fn text(&mut self, selector: &str) -> String {
        self.eval(&format!(
            "document.querySelector({}).textContent",
            json!(selector)
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// A PNG of the page's top `height` pixels.
    async fn screenshot(&mut self, height: u32) -> Vec<u8> {
        let shot = self
            .0
            .call(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1 } }),
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("the screenshot is base64")
    }
}

/// The 1-based line of the first line of `source` holding `needle`.
fn line_of(source: &str, needle: &str) -> u64 {
    let at = source
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is in the shipped file"));
    assert_eq!(
        source.matches(needle).count(),
        1,
        "{needle:?} is there once"
    );
    source[..at].matches('\n').count() as u64 + 1
}

fn versions(data: &Value) -> Vec<&str> {
    data["ruleVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect()
}

both_databases! {
    async fn a_rule_administrator_checks_previews_publishes_and_rolls_back_a_draft_in_the_console(app) {
        let Some(browser) = chromium() else {
            assert!(std::env::var_os("CI").is_none(), "CI needs Chromium for the rule console test (apt-get install chromium)");
            eprintln!("Chromium is not installed: the rule console was not checked in a browser");
            return;
        };
        app.load_demo(0.05).await;
        let v2 = std::fs::read_to_string(shipped_rules().join("qii/v2.rhai")).unwrap();
        let v2_tests = std::fs::read_to_string(shipped_rules().join("qii/v2.tests.json")).unwrap();
        let weight = "indicator(\"work_integration\", \"eligible_activities\", 40.0)";
        let weight_line = line_of(&v2, weight);
        let index_line = line_of(&v2, "fn index() {");
        let case_line = line_of(&v2_tests, "\"name\": \"work integration alone is worth 40 points\"");

        let chromium = Chromium::launch(&browser).await;
        let token = app.token_for(Role::RuleAdmin, "ruth");
        let mut page = chromium.open(&format!("{}/console/rules#token={token}", app.base)).await;
        page.wait_for("the console signs in and lists the files in force",
            "document.body.dataset.ready === 'true' && document.querySelector('#paths option[value=\"qii/v2.rhai\"]')").await;
        assert_eq!(page.eval("location.hash").await, "", "the token leaves the address");
        assert!(page.text("#whoami").await.contains("ruth"));
        assert!(page.text("#versions").await.contains("2017-10"), "v2.0's effective period");
        assert!(page.text("#history").await.contains("city administrators"), "a rule administrator is told the audit log is not theirs");

        // Pick the file: its source and test cases in force, and they pass.
        page.eval("(() => { const p = document.querySelector('#path'); p.value = 'qii/v2.rhai'; \
                   p.dispatchEvent(new Event('change')); })()").await;
        page.wait_for("v2.0 loads and passes its checks",
            "document.querySelector('#check-status').dataset.state === 'ok' && document.querySelector('#tests').value").await;
        assert_eq!(page.eval("document.querySelector('#source').value").await, v2.as_str());
        assert_eq!(page.eval("document.querySelector('#tests').value").await, v2_tests.as_str());

        // A syntax error: marked at its line, in the gutter and under the text.
        page.edit("source", weight, &weight.replace("\", 40.0", "\" 40.0")).await;
        let marked = |editor: &str, line: u64| format!(
            "document.querySelector('#check-status').dataset.state === 'errors' \
             && document.querySelector('#{editor}-gutter .error-line[data-line=\"{line}\"]') \
             && document.querySelector('#{editor}-marks .error-line[data-line=\"{line}\"] .error-mark')");
        page.wait_for("the syntax error is marked", &marked("source", weight_line)).await;
        let broken = page.eval("document.querySelector('#source').value").await;
        let api = app.data(CHECK, json!({ "path": "qii/v2.rhai", "source": broken, "tests": v2_tests })).await;
        assert_eq!(api["checkRuleDraft"]["errors"][0]["line"], weight_line, "the console marks where the API locates it: {api}");
        // Clicking the error puts the caret on its line.
        page.click(&format!("#errors button[data-line=\"{weight_line}\"]")).await;
        let caret = page.eval("(() => { const a = document.querySelector('#source'); \
            return document.activeElement === a ? a.value.slice(0, a.selectionStart).split('\\n').length : 0; })()").await;
        assert_eq!(caret, weight_line);

        // Weights that do not add up: the declaration's error, at `fn index()`.
        page.edit("source", "\" 40.0", "\", 45.0").await;
        page.wait_for("the weights' error is marked", &marked("source", index_line)).await;
        assert!(page.text("#errors").await.contains("add up to 105"), "{}", page.text("#errors").await);
        assert_eq!(page.eval("document.querySelector('#publish').disabled").await, true);

        // Two weights moved (still 100 in all) under a new label: the declaration reads, the
        // towns' scores change, and v2.0's case of 40 points for work integration fails — marked
        // at its name in the test cases.
        page.edit("source", "eligible_activities\", 45.0", "eligible_activities\", 30.0").await;
        page.edit("source", "weight: 15.0, transform: [\"log1p\"]", "weight: 25.0, transform: [\"log1p\"]").await;
        page.edit("source", "version: \"2.0.1\"", "version: \"2.1\"").await;
        page.wait_for("2.1 previews every town and its failing case is marked",
            &format!("{} && document.querySelectorAll('#preview .bar').length === 32", marked("tests", case_line))).await;
        assert_eq!(page.eval("document.querySelectorAll('#source-gutter .error-line').length").await, 0);
        assert_eq!(page.eval("document.querySelectorAll('#preview-table tbody tr').length").await, 32);
        let moved = page.eval("document.querySelectorAll('#preview .bar.up, #preview .bar.down').length").await;
        assert!(moved.as_u64().unwrap() > 0, "the new weights change scores");
        assert!(page.text("#preview-summary").await.contains("2017-10"), "the draft's first period by default");
        // How sure each town's rank is, under the rules in force and under the draft.
        page.wait_for("the ranks' certainty", "document.querySelectorAll('#preview-table td.certainty').length === 32").await;
        assert!(page.text("#preview-summary").await.contains("Mean rank shift"));

        // The screen as an administrator sees it: the failing case shown, the edited weights in view.
        page.click(&format!("#errors button[data-line=\"{case_line}\"]")).await;
        page.eval(&format!("(() => {{ const a = document.querySelector('#source'); a.scrollTop = {} * 20 + 8; \
            a.dispatchEvent(new Event('scroll')); window.scrollTo(0, 0); }})()", weight_line.saturating_sub(12))).await;
        let shot = page.screenshot(1250).await;
        assert_eq!(&shot[..8], b"\x89PNG\r\n\x1a\n");
        let green = pixels_like(&shot, [0x1e, 0x8e, 0x3e]);
        assert!(green > 2_000, "the preview's bars were drawn: {green} green pixels");
        let saved = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("console-{}.png", uuid::Uuid::new_v4()));
        std::fs::write(&saved, &shot).unwrap();
        eprintln!("screenshot: {}", saved.display());
        if std::env::var_os("QII_CONSOLE_SCREENSHOT").is_some_and(|v| v == "1") {
            std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/console.png"), &shot).unwrap();
        }

        // The first case holds under any weights; the others are about v2.0's.
        page.fill("tests", &qii_v3_tests()).await;
        page.wait_for("2.1 passes its checks", "document.querySelector('#check-status').dataset.state === 'ok'").await;
        assert_eq!(page.eval("document.querySelectorAll('.error-line').length").await, 0, "the marks are gone");
        assert!(page.text("#check-status").await.contains("qii 2.1"));

        // Publish with a note: 2.1 is in force, the releases say who made it and why.
        page.fill("note", "按市团委会议调整 Weights of the city's meeting").await;
        page.click("#publish").await;
        page.wait_for("the draft is published", "document.querySelector('#publish-result.ok')").await;
        let published = page.text("#publish-result").await;
        assert!(published.contains("qii/v2.rhai published: 按市团委会议调整 Weights of the city's meeting"), "{published}");
        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.1"]);
        page.wait_for("the releases show the new one in force",
            "document.querySelector('#releases tbody tr .in-force') \
             && document.querySelector('#releases tbody tr').textContent.includes('rule_admin:ruth')").await;

        // Roll back (two clicks: the second confirms): 2.0 is back.
        page.click("#rollback").await;
        assert!(page.text("#rollback").await.contains("qii"), "the button asks to confirm");
        page.click("#rollback").await;
        page.wait_for("qii is rolled back", "document.querySelector('#rollback-result.ok')").await;
        assert_eq!(versions(&app.data(VERSIONS, json!({})).await), ["2.0.1"]);

        // A city administrator reads the history: the diffs of the publish and the rollback.
        page.0.call("Page.navigate", json!({ "url": format!("{}/console/rules#token={}", app.base, app.token) })).await;
        page.wait_for("the history lists both changes with their diffs",
            "document.querySelectorAll('#history article').length >= 2 \
             && [...document.querySelectorAll('#history article[data-action=\"rules.publish\"] .diff .add')] \
                .some((line) => line.textContent.includes('30.0'))").await;
        assert_eq!(
            page.eval("document.querySelector('#history article').dataset.action").await,
            "rules.rollback",
            "newest first"
        );
        chromium.close().await;
    }
}
