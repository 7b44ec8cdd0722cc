//! `/metrics`: the figures an operator's Prometheus scrapes, in its text format —
//! operations by name and outcome with latency histograms, the database pool, scoring
//! times, and the rule release in force.
//!
//! Operation names come from clients, so they are bounded: a name that is not a GraphQL
//! name counts as `(invalid)`, and past [`MAX_OPERATIONS`] distinct names every new one
//! counts as `(other)`.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write,
    sync::Mutex,
    time::Duration,
};

use qii_domain::metrics::{Histogram, SCORING};

/// Distinct operation names kept apart; the rest are counted together.
pub const MAX_OPERATIONS: usize = 200;
/// Longest operation name kept.
const NAME_MAX: usize = 100;

#[derive(Default)]
struct OperationFigures {
    /// Answers by outcome: `ok`, or the first error's code.
    outcomes: BTreeMap<String, u64>,
    duration: Histogram,
}

/// What the server counts about the operations it answers.
#[derive(Default)]
pub struct Metrics {
    operations: Mutex<HashMap<String, OperationFigures>>,
}

impl Metrics {
    /// Counts one answered operation.
    pub fn record(&self, operation: &str, outcome: &str, took: Duration) {
        let mut operations = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        let key = if operations.contains_key(operation) || operations.len() < MAX_OPERATIONS {
            operation
        } else {
            "(other)"
        };
        let figures = operations.entry(key.to_owned()).or_default();
        *figures.outcomes.entry(outcome.to_owned()).or_default() += 1;
        figures.duration.observe(took);
    }

    /// Everything in Prometheus's text format.
    pub fn render(&self, pool: (u32, usize), release: Option<i64>, versions: &[String]) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP qii_operations_total GraphQL operations answered, by operation name and outcome (ok or the error code).\n\
             # TYPE qii_operations_total counter\n",
        );
        let operations = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<&String> = operations.keys().collect();
        names.sort();
        for name in &names {
            for (outcome, count) in &operations[*name].outcomes {
                let _ = writeln!(
                    out,
                    "qii_operations_total{{operation=\"{name}\",outcome=\"{outcome}\"}} {count}"
                );
            }
        }
        out.push_str(
            "# HELP qii_operation_duration_seconds Time to answer a GraphQL operation, by operation name.\n\
             # TYPE qii_operation_duration_seconds histogram\n",
        );
        for name in &names {
            operations[*name].duration.render(
                "qii_operation_duration_seconds",
                &format!("operation=\"{name}\""),
                &mut out,
            );
        }
        drop(operations);
        let (open, idle) = pool;
        let _ = write!(
            out,
            "# HELP qii_db_connections Connections of the request pool, by state.\n\
             # TYPE qii_db_connections gauge\n\
             qii_db_connections{{state=\"idle\"}} {idle}\n\
             qii_db_connections{{state=\"in_use\"}} {}\n",
            (open as usize).saturating_sub(idle)
        );
        out.push_str(
            "# HELP qii_scoring_duration_seconds Time to score one ranking (figures read and scripts run).\n\
             # TYPE qii_scoring_duration_seconds histogram\n",
        );
        SCORING.render("qii_scoring_duration_seconds", "", &mut out);
        out.push_str(
            "# HELP qii_rules_release The rule release in force on this server (its id).\n\
             # TYPE qii_rules_release gauge\n",
        );
        if let Some(release) = release {
            let _ = writeln!(out, "qii_rules_release {release}");
        }
        out.push_str(
            "# HELP qii_rules_version_info The rule versions of the release in force.\n\
             # TYPE qii_rules_version_info gauge\n",
        );
        for version in versions {
            let _ = writeln!(
                out,
                "qii_rules_version_info{{version=\"{}\"}} 1",
                escape(version)
            );
        }
        out
    }
}

/// The live side's figures: subscriptions, live rankings, the rollups they read.
pub fn render_live(live: &qii_domain::live::LiveFigures, out: &mut String) {
    use std::sync::atomic::Ordering::Relaxed;
    out.push_str(
        "# HELP qii_rollup_read_duration_seconds Time to read one period's figures from the rollups.\n\
         # TYPE qii_rollup_read_duration_seconds histogram\n",
    );
    qii_domain::metrics::ROLLUP_READS.render("qii_rollup_read_duration_seconds", "", out);
    let _ = write!(
        out,
        "# HELP qii_subscriptions_open Subscriptions open on this server.\n\
         # TYPE qii_subscriptions_open gauge\n\
         qii_subscriptions_open {}\n\
         # HELP qii_live_rankings Live rankings this server keeps (one per rule set, period and level followed).\n\
         # TYPE qii_live_rankings gauge\n\
         qii_live_rankings {}\n\
         # HELP qii_live_rankings_published_total Live rankings computed again and found moved.\n\
         # TYPE qii_live_rankings_published_total counter\n\
         qii_live_rankings_published_total {}\n\
         # HELP qii_live_changes_heard_total Writes announced by other servers and heard here.\n\
         # TYPE qii_live_changes_heard_total counter\n\
         qii_live_changes_heard_total {}\n",
        live.subscriptions.load(Relaxed),
        live.feeds.load(Relaxed),
        live.published.load(Relaxed),
        live.heard.load(Relaxed),
    );
    out.push_str(
        "# HELP qii_live_ranking_duration_seconds Time to compute a live ranking.\n\
         # TYPE qii_live_ranking_duration_seconds histogram\n",
    );
    live.computing
        .render("qii_live_ranking_duration_seconds", "", out);
}

/// A label value as Prometheus's text format writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The operation's name as metrics count it: `operationName` when given, else the name
/// of the document's first operation, else `(anonymous)`.
pub fn operation_name(request: &async_graphql::Request) -> String {
    let name = match &request.operation_name {
        Some(name) => Some(name.as_str()),
        None => first_operation_name(&request.query),
    };
    match name {
        None => "(anonymous)".into(),
        Some(name) if is_graphql_name(name) => name.into(),
        Some(_) => "(invalid)".into(),
    }
}

fn is_graphql_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= NAME_MAX
        && chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `Towns` in `query Towns($x: Int) { … }`; none for `{ … }` or `query { … }`. Comments
/// before the operation are skipped.
fn first_operation_name(query: &str) -> Option<&str> {
    let mut rest = query;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == '\u{feff}');
        if rest.starts_with('#') {
            rest = rest.split_once('\n').map_or("", |(_, after)| after);
            continue;
        }
        break;
    }
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|keyword| rest.strip_prefix(keyword))?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_read_from_the_document_and_bounded() {
        let named = |q: &str| operation_name(&async_graphql::Request::new(q));
        assert_eq!(named("query Towns($n: Int) { x }"), "Towns");
        assert_eq!(named("# a comment\n  mutation   SignUp{ x }"), "SignUp");
        assert_eq!(named("{ x }"), "(anonymous)");
        assert_eq!(named("query { x }"), "(anonymous)");
        assert_eq!(named("queryX { x }"), "(anonymous)");
        let with = async_graphql::Request::new("{ x }").operation_name("bad\"name");
        assert_eq!(operation_name(&with), "(invalid)");

        let metrics = Metrics::default();
        for i in 0..MAX_OPERATIONS + 5 {
            metrics.record(&format!("Op{i}"), "ok", Duration::from_millis(1));
        }
        let text = metrics.render((3, 1), Some(7), &["qii 2.0".into()]);
        assert!(
            text.contains("qii_operations_total{operation=\"(other)\",outcome=\"ok\"} 5"),
            "{text}"
        );
        assert!(text.contains("qii_db_connections{state=\"in_use\"} 2"));
        assert!(text.contains("qii_rules_release 7"));
        assert!(text.contains("qii_rules_version_info{version=\"qii 2.0\"} 1"));
    }
}
