//! Weekly and monthly reports through the server: the `report` query, the workbook, the CSV
//! and the page agree with the `ranking` query for Oct–Dec 2017 of the demo data; reports
//! read stored rankings; city administrators read every report and town administrators
//! only their own town's; bad addresses get a coded error.

use std::io::{Cursor, Read};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use qii_domain::identity::{Role, Scope};
use serde_json::{json, Value};

use crate::{both_databases, helpers::TestApp};

const REPORT: &str = "query($k: ReportKind!, $p: Period!, $t: ID) {
  report(kind: $k, period: $p, town: $t) {
    kind period previousPeriod title storedAt version contentHash town { id code name }
    dimensions { key label weight } indicators { key label dimension weight }
    ranking { town { id name } rank previousRank rankChange arrow total previousTotal totalChange
              dimensions indicators { raw standardised contribution } }
    details { town { town { id name } rank total } missed
              targets { metric label actual target met gap } trend { period total rank }
              advice { title cheap total rank gain } }
    highlights { contestMonth topActivities { rank title orgUnit score awarded }
                 topExperts { rank name answers score }
                 risers { town { name } rankChange } fallers { town { name } rankChange } } } }";

const RANKING: &str = "query($p: Period!) { ranking(period: $p) { storedAt baseline
  entries(first: 100) { nodes { rank baselineRank rankChange total orgUnit { id name } } } } }";

async fn report(app: &TestApp, kind: &str, period: &str, town: Option<&str>) -> Value {
    app.data(REPORT, json!({ "k": kind, "p": period, "t": town }))
        .await["report"]
        .clone()
}

/// GETs a report address with `token` (none: anonymously).
async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the server answers")
}

async fn get_ok(app: &TestApp, path: &str) -> reqwest::Response {
    let response = get(app, path, Some(&app.token)).await;
    if response.status() != 200 {
        panic!(
            "{path}: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    response
}

/// The rows of a sheet of a workbook.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = workbook.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn sheet_names(bytes: &[u8]) -> Vec<String> {
    let workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    workbook.sheet_names()
}

/// The XML of the `n`-th worksheet (from 1) of a workbook.
fn sheet_xml(bytes: &[u8], n: usize) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut file = zip.by_name(&format!("xl/worksheets/sheet{n}.xml")).unwrap();
    let mut xml = String::new();
    file.read_to_string(&mut xml).unwrap();
    xml
}

fn number(cell: &Data) -> f64 {
    match cell {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

/// A page's HTML with the template's escapes of `/` and `&` undone, to find addresses in.
fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&amp;", "&")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

both_databases! {
    async fn reports_of_october_to_december_agree_with_the_ranking_query_in_graphql_excel_csv_and_the_page(app) {
        app.load_demo(0.05).await;
        for month in ["2017-10", "2017-11", "2017-12"] {
            let report = report(&app, "MONTHLY", month, None).await;
            let ranking = app.data(RANKING, json!({ "p": month })).await["ranking"].clone();
            let entries = ranking["entries"]["nodes"].as_array().unwrap();
            let lines = report["ranking"].as_array().unwrap();
            assert_eq!(lines.len(), 32, "{month}: every town");
            assert_eq!(report["title"], format!("东莞市 · {month} 青年之声影响力指数月报"));
            assert!(report["storedAt"].is_string(), "{month}: an ended month is stored");
            assert_eq!(report["storedAt"], ranking["storedAt"]);
            assert_eq!(report["previousPeriod"], ranking["baseline"]);
            for (line, entry) in lines.iter().zip(entries) {
                assert_eq!(line["town"]["id"], entry["orgUnit"]["id"], "{month}: same order");
                assert_eq!(line["rank"], entry["rank"]);
                assert_eq!(line["previousRank"], entry["baselineRank"]);
                assert_eq!(line["rankChange"], entry["rankChange"]);
                assert!(close(line["total"].as_f64().unwrap(), entry["total"].as_f64().unwrap()));
                let arrow = match entry["rankChange"].as_i64() {
                    None => "",
                    Some(c) if c > 0 => "↑",
                    Some(c) if c < 0 => "↓",
                    Some(_) => "→",
                };
                assert_eq!(line["arrow"], arrow);
                let sum: f64 = line["indicators"].as_array().unwrap().iter()
                    .map(|i| i["contribution"].as_f64().unwrap()).sum();
                assert!((sum - line["total"].as_f64().unwrap()).abs() < 1e-6, "the indicators add up to the total");
            }
            assert_eq!(report["indicators"].as_array().unwrap().len(), 14);
            assert_eq!(report["indicators"][10]["label"], "有效访问量");
            assert_eq!(report["details"].as_array().unwrap().len(), 32);
            if month == "2017-10" {
                assert!(report["previousPeriod"].is_null(), "no version scores September");
                assert!(lines.iter().all(|l| l["arrow"] == ""));
            } else {
                let moved = lines.iter().filter(|l| l["rankChange"].as_i64().unwrap() != 0).count();
                assert!(moved > 0, "{month}: towns move");
                assert!(!report["highlights"]["risers"].as_array().unwrap().is_empty());
                assert!(!report["highlights"]["fallers"].as_array().unwrap().is_empty());
            }
            let months = match month { "2017-10" => 1, "2017-11" => 2, _ => 3 };
            let trend = report["details"][0]["trend"].as_array().unwrap();
            assert_eq!(trend.len(), months, "{month}: the trend covers the months v2 scores");
            assert_eq!(trend.last().unwrap()["total"], report["details"][0]["town"]["total"]);
            let missed: i64 = report["details"].as_array().unwrap().iter().map(|d| d["missed"].as_i64().unwrap()).sum();
            assert!(missed > 0, "{month}: some targets are missed");

            // The workbook: the ranking sheet first, then one sheet per town.
            let xlsx = get_ok(&app, &format!("/reports/monthly/{month}.xlsx")).await;
            assert_eq!(xlsx.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
            let disposition = xlsx.headers()["content-disposition"].to_str().unwrap().to_owned();
            assert!(disposition.contains(&format!("qii-monthly-{month}.xlsx")), "{disposition}");
            let bytes = xlsx.bytes().await.unwrap();
            let names = sheet_names(&bytes);
            assert_eq!(names.len(), 1 + 32 + 2, "{names:?}");
            assert_eq!(names[0], "全市排名");
            assert_eq!(names[1], lines[0]["town"]["name"].as_str().unwrap(), "towns in rank order");
            let rows = sheet(&bytes, "全市排名");
            assert_eq!(text(&rows[0][0]), "排名");
            assert_eq!(text(&rows[0][2]), "得分");
            assert_eq!(text(&rows[0][4]), "名次变化");
            for (row, line) in rows[1..].iter().zip(lines) {
                assert_eq!(number(&row[0]), line["rank"].as_f64().unwrap());
                assert_eq!(text(&row[1]), line["town"]["name"].as_str().unwrap());
                assert!(close(number(&row[2]), line["total"].as_f64().unwrap()));
                match line["rankChange"].as_f64() {
                    Some(change) => assert_eq!(number(&row[4]), change),
                    None => assert_eq!(row[4], Data::Empty),
                }
            }
            let ranking_xml = sheet_xml(&bytes, 1);
            assert!(ranking_xml.contains(r#"<pane xSplit="2" ySplit="1""#), "frozen header row and names");
            assert!(ranking_xml.contains("<conditionalFormatting"), "missed targets coloured");
            let town_xml = sheet_xml(&bytes, 2);
            assert!(town_xml.contains(r#"ySplit="2""#) && town_xml.contains("<conditionalFormatting") && town_xml.contains("未达标"), "the town's sheet freezes its line and colours missed targets");

            // The CSV: one row per town, the same numbers.
            let csv = get_ok(&app, &format!("/reports/monthly/{month}.csv")).await.text().await.unwrap();
            let csv = csv.trim_start_matches('\u{feff}');
            let mut reader = csv::Reader::from_reader(csv.as_bytes());
            // One description of the columns serves the sheet and the CSV alike.
            let csv_headings: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
            let sheet_headings: Vec<String> = rows[0].iter().map(text).collect();
            let ranked = sheet_headings.len() - 1; // the sheet ends with the missed targets
            assert_eq!(csv_headings[..ranked], sheet_headings[..ranked]);
            assert_eq!(sheet_headings.last().map(String::as_str), Some("未达标目标数"));
            let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            assert_eq!(records.len(), 32);
            for (record, line) in records.iter().zip(lines) {
                assert_eq!(&record[1], line["town"]["name"].as_str().unwrap());
                let total: f64 = record[2].parse().unwrap();
                assert!((total - line["total"].as_f64().unwrap()).abs() < 1e-4);
            }

            // The page: every town with its score, and the charts.
            let page = get_ok(&app, &format!("/reports/monthly/{month}")).await;
            assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
            assert_eq!(page.headers()["cache-control"], "no-store");
            let html = page.text().await.unwrap();
            assert!(html.contains(&format!("{month} 青年之声影响力指数月报")));
            assert_eq!(html.matches("class=\"bar").count(), 32 + 14, "a bar per town and per indicator");
            // The page shows the same columns in the same order, less those a sheet has room for.
            assert!(html.contains("<th>排名</th><th>镇街</th><th>得分</th><th>名次变化</th><th>得分变化</th>"), "the page's table headings");
            assert!(html.matches("<td class=\"name\">").count() >= 32, "a row per town");
            for line in lines {
                assert!(html.contains(&format!("{}. {}", line["rank"], line["town"]["name"].as_str().unwrap())));
                assert!(html.contains(&format!("{:.2}", line["total"].as_f64().unwrap())));
            }
        }
    }

    async fn a_towns_report_has_its_targets_trend_and_highlights_and_its_own_workbook(app) {
        app.load_demo(0.05).await;
        let humen = app.unit_id("town-humen").await;
        let report = report(&app, "MONTHLY", "2017-12", Some(&humen)).await;
        assert_eq!(report["town"]["name"], "虎门");
        assert_eq!(report["title"], "虎门 · 2017-12 青年之声影响力指数月报");
        assert_eq!(report["ranking"].as_array().unwrap().len(), 32, "the whole ranking, for its place");
        let details = report["details"].as_array().unwrap();
        assert_eq!(details.len(), 1);
        assert_eq!(details[0]["town"]["town"]["id"], humen.as_str());
        let periods: Vec<&str> = details[0]["trend"].as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect();
        assert_eq!(periods, ["2017-10", "2017-11", "2017-12"]);
        let targets = details[0]["targets"].as_array().unwrap();
        assert!(!targets.is_empty());
        for t in targets {
            let met = t["actual"].as_f64().map(|a| a >= t["target"].as_f64().unwrap());
            assert_eq!(t["met"].as_bool(), met, "{t}");
        }
        assert_eq!(details[0]["missed"], targets.iter().filter(|t| t["met"] == false).count());
        assert_eq!(report["highlights"]["contestMonth"], "2017-12");
        // The first three actions of the town's improvement plan.
        let advice = details[0]["advice"].as_array().unwrap();
        let plan = app
            .data(
                "query($u: ID!) { improvementPlan(orgUnitId: $u, period: \"2017-12\") { actions(first: 3) { nodes { title total rank } } } }",
                json!({ "u": humen }),
            )
            .await;
        let top: Vec<&Value> = plan["improvementPlan"]["actions"]["nodes"].as_array().unwrap().iter().collect();
        assert_eq!(advice.len(), 3);
        for (a, p) in advice.iter().zip(&top) {
            assert_eq!((&a["title"], &a["total"], &a["rank"]), (&p["title"], &p["total"], &p["rank"]));
        }

        for path in ["/reports/monthly/2017-12/虎门.xlsx", "/reports/monthly/2017-12/town-humen.xlsx", &format!("/reports/monthly/2017-12/{humen}.xlsx")] {
            let bytes = get_ok(&app, path).await.bytes().await.unwrap();
            let names = sheet_names(&bytes);
            assert_eq!(names, ["虎门", "全市排名", "亮点", "说明"], "{path}");
            let rows = sheet(&bytes, "虎门");
            assert_eq!(text(&rows[1][1]), "虎门");
            assert!(close(number(&rows[1][2]), details[0]["town"]["total"].as_f64().unwrap()));
            let heading = rows.iter().position(|r| matches!(r.first(), Some(Data::String(s)) if s == "改进建议")).expect("the advice");
            assert_eq!(text(&rows[heading + 1][0]), advice[0]["title"].as_str().unwrap());
        }
        let html = unescaped(&get_ok(&app, "/reports/monthly/2017-12/虎门").await.text().await.unwrap());
        assert!(html.contains("id=\"trend-chart\""));
        assert!(html.contains("改进建议") && html.contains(advice[0]["title"].as_str().unwrap()), "the advice on the page");
        assert_eq!(html.matches("class=\"trend-dot\"").count(), 3);
        assert_eq!(html.matches("class=\"bar mine\"").count(), 1, "the town's bar stands out");
        assert!(html.contains("href=\"/reports/monthly/2017-12/%E8%99%8E%E9%97%A8.xlsx\""), "downloads of the same report");
        let csv = get_ok(&app, "/reports/monthly/2017-12/虎门.csv").await.text().await.unwrap();
        assert_eq!(csv.lines().count(), 2, "the header and the town's row");
    }

    async fn a_districts_report_holds_its_towns_with_their_city_rank_and_their_place_among_them(app) {
        app.load_demo(0.05).await;
        let city = report(&app, "MONTHLY", "2017-11", None).await;
        let districts = app.data("{ districts(first: 10) { nodes { id code name } } }", json!({})).await;
        let d2 = districts["districts"]["nodes"].as_array().unwrap().iter().find(|d| d["code"] == "D2").unwrap().clone();
        let towns = app
            .data("query($d: ID) { orgUnits(filter: { kind: TOWN, districtId: $d }, first: 100) { nodes { id } } }", json!({ "d": d2["id"] }))
            .await;
        let mut members: Vec<String> = towns["orgUnits"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
        members.sort();
        assert!(members.len() > 3, "{towns}");

        let district = app
            .data(
                "query($d: ID) { report(kind: MONTHLY, period: \"2017-11\", district: $d) {
                    title district { code name } ranking { town { id } rank place total } details { town { town { id } } } } }",
                json!({ "d": d2["id"] }),
            )
            .await["report"]
            .clone();
        assert_eq!(district["title"], format!("东莞市{} · 2017-11 青年之声影响力指数月报", d2["name"].as_str().unwrap()));
        assert_eq!(district["district"]["code"], "D2");
        let lines = district["ranking"].as_array().unwrap();
        let mut shown: Vec<String> = lines.iter().map(|l| l["town"]["id"].as_str().unwrap().to_owned()).collect();
        shown.sort();
        assert_eq!(shown, members, "the district's towns, and only those");
        assert_eq!(district["details"].as_array().unwrap().len(), members.len());
        // Each town keeps its city rank and score; its place counts the district's towns above it.
        for line in lines {
            let id = &line["town"]["id"];
            let in_city = city["ranking"].as_array().unwrap().iter().find(|l| &l["town"]["id"] == id).unwrap();
            assert_eq!((&line["rank"], &line["total"]), (&in_city["rank"], &in_city["total"]));
            let above = lines.iter().filter(|o| o["rank"].as_i64() < line["rank"].as_i64()).count() as i64;
            assert_eq!(line["place"].as_i64(), Some(above + 1), "{line}");
        }
        assert_eq!(lines[0]["place"], 1);
        assert!(city["ranking"][0]["place"].is_null() || city["ranking"][0].get("place").is_none());

        // The workbook, the CSV and the page of the same report, by the district's code.
        let csv = get_ok(&app, "/reports/monthly/2017-11.csv?district=D2").await.text().await.unwrap();
        assert_eq!(csv.lines().count(), members.len() + 1, "{csv}");
        assert!(csv.lines().next().unwrap().contains("片区内名次"));
        let bytes = get_ok(&app, "/reports/monthly/2017-11.xlsx?district=D2").await.bytes().await.unwrap();
        assert_eq!(sheet(&bytes, "全市排名").len(), members.len() + 1);
        let html = unescaped(&get_ok(&app, "/reports/monthly/2017-11?district=D2").await.text().await.unwrap());
        assert!(html.contains("片区内名次") && html.contains("?district=D2"), "the page and its downloads are the district's");

        // Refused: a district and a town at once, an unknown district, a town administrator.
        let (code, message) = app
            .error("query($d: ID, $t: ID) { report(kind: MONTHLY, period: \"2017-11\", district: $d, town: $t) { title } }",
                json!({ "d": d2["id"], "t": members[0] }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        let (code, _) = app
            .error("{ report(kind: MONTHLY, period: \"2017-11\", district: \"99999\") { title } }", json!({}))
            .await;
        assert_eq!(code, "NOT_FOUND");
        let unknown = get(&app, "/reports/monthly/2017-11?district=D9", Some(&app.token)).await;
        assert_eq!(unknown.status(), 400);
        let town_admin = app.token_for(Role::TownAdmin(members[0].parse().unwrap()), "district-town-admin");
        let (code, _) = app
            .error_as(Some(&town_admin), "query($d: ID) { report(kind: MONTHLY, period: \"2017-11\", district: $d) { title } }", json!({ "d": d2["id"] }))
            .await;
        assert_eq!(code, "FORBIDDEN");
    }

    async fn a_weekly_report_covers_an_iso_week_and_a_wrong_period_or_address_is_refused(app) {
        app.load_demo(0.02).await;
        let weekly = report(&app, "WEEKLY", "2017-W45", None).await;
        assert_eq!(weekly["kind"], "WEEKLY");
        assert_eq!(weekly["previousPeriod"], "2017-W44");
        assert_eq!(weekly["title"], "东莞市 · 2017-W45 青年之声影响力指数周报");
        assert_eq!(weekly["highlights"]["contestMonth"], "2017-11", "the month the week ends in");
        assert_eq!(weekly["details"][0]["trend"].as_array().unwrap().len(), 6);
        get_ok(&app, "/reports/weekly/2017-W45").await;

        let (code, message) = app.error(REPORT, json!({ "k": "WEEKLY", "p": "2017-11" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("a weekly report covers one ISO week: give one such as 2017-W45, not the month `2017-11`"), "{message}");
        let (code, message) = app.error(REPORT, json!({ "k": "MONTHLY", "p": "2017-Q4" })).await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("one month"), "{message}");

        for (path, status, code) in [
            ("/reports/monthly/2017-W45", 400, "BAD_USER_INPUT"),
            ("/reports/monthly/2017-13.xlsx", 400, "BAD_USER_INPUT"),
            ("/reports/daily/2017-11", 404, "NOT_FOUND"),
            ("/reports/monthly/2017-11/no-such-town.xlsx", 400, "BAD_USER_INPUT"),
            ("/reports/monthly/2017-09", 422, "RULE_ERROR"),
        ] {
            let response = get(&app, path, Some(&app.token)).await;
            assert_eq!(response.status(), status, "{path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{path}: {body}");
            assert!(!body["errors"][0]["message"].as_str().unwrap().is_empty());
        }
        let body: Value = get(&app, "/reports/monthly/2017-11/no-such-town", Some(&app.token)).await.json().await.unwrap();
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("there is no town `no-such-town`"), "{body}");
    }

    async fn a_report_read_again_after_the_rules_change_shows_the_stored_numbers(app) {
        app.load_demo(0.02).await;
        let before = report(&app, "MONTHLY", "2017-11", None).await;
        let source = std::fs::read_to_string(crate::helpers::shipped_rules().join("qii/v2.rhai")).unwrap()
            .replace("weight: 15.0, transform: [\"log1p\"]", "weight: 5.0, transform: [\"log1p\"]")
            .replace("indicator(\"work_integration\", \"eligible_activities\", 40.0)", "indicator(\"work_integration\", \"eligible_activities\", 50.0)")
            .replace("version: \"2.0.1\"", "version: \"2.1\"");
        let published = crate::helpers::publish_rules(&app, "qii/v2.rhai", &source).await;
        assert_eq!(published["changed"], true);
        let after = report(&app, "MONTHLY", "2017-11", None).await;
        assert_eq!(after["ranking"], before["ranking"], "the stored ranking is read back");
        assert_eq!(after["storedAt"], before["storedAt"]);
        assert_eq!(after["contentHash"], before["contentHash"]);
        let xlsx = get_ok(&app, "/reports/monthly/2017-11.xlsx").await.bytes().await.unwrap();
        let rows = sheet(&xlsx, "全市排名");
        assert!(close(number(&rows[1][2]), before["ranking"][0]["total"].as_f64().unwrap()));
        // Recomputing applies the new weights, and the report follows.
        app.data("mutation { recomputeRanking(period: \"2017-11\") { storedAt } }", json!({})).await;
        let recomputed = report(&app, "MONTHLY", "2017-11", None).await;
        assert_ne!(recomputed["contentHash"], before["contentHash"]);
        assert_ne!(recomputed["ranking"], before["ranking"]);
    }

    async fn city_admins_read_every_report_and_town_admins_only_their_towns(app) {
        app.load_demo(0.02).await;
        let humen = app.unit_id("town-humen").await;
        let shilong = app.unit_id("town-shilong").await;
        let home = app.unit_id("yh-humen-1").await;
        let town_admin = app.token_for(Role::TownAdmin(humen.parse().unwrap()), "humen-admin");
        let home_admin = app.token_for(Role::YouthHomeAdmin(home.parse().unwrap()), "home-admin");
        let rule_admin = app.token_for(Role::RuleAdmin, "rules");
        let member = app.token_for(Role::Member(1), "member");
        let partner = app.token_for(Role::Partner(vec![Scope::ScoresRead]), "partner");
        let vars = |t: Option<&str>| json!({ "k": "MONTHLY", "p": "2017-11", "t": t });

        // A town admin asking for "the report" gets its own town's.
        let own = app.data_as(Some(&town_admin), REPORT, vars(None)).await["report"].clone();
        assert_eq!(own["town"]["id"], humen.as_str());
        assert_eq!(own["details"].as_array().unwrap().len(), 1);
        app.data_as(Some(&town_admin), REPORT, vars(Some(&humen))).await;
        let (code, message) = app.error_as(Some(&town_admin), REPORT, vars(Some(&shilong))).await;
        assert_eq!(code, "FORBIDDEN");
        assert!(message.contains("that town's administrators"), "{message}");
        for (token, code) in [(&home_admin, "FORBIDDEN"), (&rule_admin, "FORBIDDEN"), (&member, "FORBIDDEN"), (&partner, "FORBIDDEN")] {
            assert_eq!(app.error_as(Some(token), REPORT, vars(None)).await.0, code);
            assert_eq!(app.error_as(Some(token), REPORT, vars(Some(&humen))).await.0, code);
        }
        assert_eq!(app.error_as(None, REPORT, vars(None)).await.0, "UNAUTHENTICATED");
        // The city admin reads the city's and any town's.
        let city = app.data(REPORT, vars(None)).await["report"].clone();
        assert!(city["town"].is_null());
        app.data(REPORT, vars(Some(&shilong))).await;

        // The same over the report addresses, in every format.
        for suffix in ["", ".xlsx", ".csv"] {
            let own = format!("/reports/monthly/2017-11/虎门{suffix}");
            let other = format!("/reports/monthly/2017-11/石龙{suffix}");
            let whole = format!("/reports/monthly/2017-11{suffix}");
            assert_eq!(get(&app, &own, Some(&town_admin)).await.status(), 200, "{own}");
            assert_eq!(get(&app, &other, Some(&town_admin)).await.status(), 403, "{other}");
            assert_eq!(get(&app, &whole, Some(&town_admin)).await.status(), 403, "{whole}");
            for token in [&home_admin, &rule_admin, &member, &partner] {
                let response = get(&app, &own, Some(token)).await;
                assert_eq!(response.status(), 403, "{own}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
            }
            let anonymous = get(&app, &whole, None).await;
            assert_eq!(anonymous.status(), 401, "{whole}");
            assert!(anonymous.headers().contains_key("www-authenticate"));
            assert_eq!(get(&app, &whole, Some(&app.token)).await.status(), 200);
            assert_eq!(get(&app, &other, Some(&app.token)).await.status(), 200);
        }
        let forged = get(&app, "/reports/monthly/2017-11", Some("not-a-token")).await;
        assert_eq!(forged.status(), 401);

        // A browser opening a link passes the token in the address; the page's downloads
        // keep it.
        let link = format!("{}/reports/monthly/2017-11/虎门?access_token={town_admin}", app.base);
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        let html = unescaped(&page.text().await.unwrap());
        let download = format!("/reports/monthly/2017-11/%E8%99%8E%E9%97%A8.xlsx?access_token={town_admin}");
        assert!(html.contains(&download), "the download link keeps the token");
        let xlsx = app.client.get(format!("{}{download}", app.base)).send().await.unwrap();
        assert_eq!(xlsx.status(), 200);
        let bad = app.client.get(format!("{}/reports/monthly/2017-11?access_token=forged", app.base)).send().await.unwrap();
        assert_eq!(bad.status(), 401);
        let other = app.client.get(format!("{}/reports/monthly/2017-11/石龙?access_token={town_admin}", app.base)).send().await.unwrap();
        assert_eq!(other.status(), 403);
    }
}
