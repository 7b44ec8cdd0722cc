//! Figure rollups: for every org unit and Asia/Shanghai day, month and year, the figures that
//! scoring reads (sign-ups, questions, visits, …), so that ranking a period adds up a few
//! rows per unit instead of rescanning the events.
//!
//! Database triggers keep them, in the same transaction as every write that changes them,
//! whoever writes (the services, an import, a script in `psql`): an insert adds a row's
//! contribution, a delete takes it away, an update takes away what the old row gave and adds
//! what the new one gives, and a change of a parent (a question's addressee, an expert's
//! recruiting unit, an activity's approval as a heavyweight one) moves the contributions of
//! its children. Each activity keeps its loop counts (sign-ups, check-ins, comments, reviews,
//! photos, photos after the end, likes) the same way, and whether it counts toward the index
//! is read from those counts and the conditions of the activity rules in force, which the
//! server writes into `activity_rule_condition` (see `qii_domain::rollups`). The rest of
//! what the activity rules decide (what makes a question valid, whether a heavyweight
//! activity counts before approval, which date puts an activity in a period) the server
//! writes into `rule_setting` ([`SETTINGS`]), which the expressions below read as
//! `{setting:name}`; [`change_settings`] re-derives what a change of them moves.
//!
//! Everything here is generated from one declaration, [`FAMILIES`]: the triggers of both
//! databases and the rebuild from the raw events, so that what is kept and what a rebuild
//! computes cannot be two different things.
//!
//! Rows: `grain` is `d` (a day), `m` (the month starting on `day`), `y` (the year starting
//! on `day`), `M` and `Y` (a town's totals: the month or year rows of every unit under the
//! town, keyed by the town, so that ranking the towns reads one row per town), or, for the
//! cumulative columns ([`CUMULATIVE`]) only, `a` (all time, on [`FIRST_DAY`]); a month row is
//! the sum of its days, a year row the sum of its months and an all-time row the sum of its
//! years (so that a figure to date is the all-time row less the rows after the date, which are
//! few for a recent date), except `update_days` and `town_update_days`, which count the days
//! whose `published` / `town_published` is above zero (on a town's totals, the town's own
//! days). `town_published` is kept on the row of the publisher's
//! town, so that a town's update days count distinct days over everything below it.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, DbErr};

/// The SQL dialect a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn of(backend: DbBackend) -> Self {
        match backend {
            DbBackend::Postgres => Self::Postgres,
            _ => Self::Sqlite,
        }
    }

    /// The Asia/Shanghai day of an instant.
    fn local_day(self, instant: &str) -> String {
        match self {
            Self::Postgres => format!("(({instant}) AT TIME ZONE 'Asia/Shanghai')::date"),
            // Stored as RFC 3339 text in UTC; Shanghai has kept UTC+8 without DST since 1991.
            Self::Sqlite => format!("date({instant}, '+8 hours')"),
        }
    }

    /// The first day of the month or year of a day.
    fn start_of(self, day: &str, unit: &str) -> String {
        match self {
            Self::Postgres => format!("date_trunc('{unit}', ({day})::timestamp)::date"),
            Self::Sqlite => format!("date({day}, 'start of {unit}')"),
        }
    }

    /// The day after the month or year a row of `grain` starts on `day`.
    fn end_of_row(self, day: &str, grain: &str) -> String {
        match self {
            Self::Postgres => format!(
                "({day} + CASE WHEN {grain} IN ('m', 'M') THEN INTERVAL '1 month' ELSE INTERVAL '1 year' END)"
            ),
            Self::Sqlite => {
                format!("date({day}, CASE WHEN {grain} IN ('m', 'M') THEN '+1 month' ELSE '+1 year' END)")
            }
        }
    }

    /// A day (`YYYY-MM-DD`) as a date literal.
    fn date(self, day: &str) -> String {
        match self {
            Self::Postgres => format!("DATE '{day}'"),
            Self::Sqlite => format!("'{day}'"),
        }
    }

    fn greatest(self, a: &str, b: &str) -> String {
        match self {
            Self::Postgres => format!("GREATEST({a}, {b})"),
            Self::Sqlite => format!("max({a}, {b})"),
        }
    }

    /// `a` and `b` differ, nulls included.
    fn differ(self, a: &str, b: &str) -> String {
        match self {
            Self::Postgres => format!("{a} IS DISTINCT FROM {b}"),
            Self::Sqlite => format!("{a} IS NOT {b}"),
        }
    }
}

/// When a row happened: an instant (its local day is taken) or a day.
#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    Instant(&'a str),
    Day(&'a str),
    /// The later of two instants (a binding counts once the member is registered).
    Later(&'a str, &'a str),
}

/// One figure family: each row of `table` (written `{r}`) that meets `when` adds `amount` to
/// `column` on the rollup rows of the unit `unit` for the day of `at`. Expressions may name
/// the row's parent as `{p}` (the row of `parent.0` whose id is the row's `parent.1`) and the
/// unit as `ou`; `{counted_r}` / `{counted_p}` stand for "this activity counts for its
/// publisher" and `{eligible_r}` for "this activity meets the activity rules".
#[derive(Debug, Clone, Copy)]
pub struct Family<'a> {
    pub column: &'a str,
    pub table: &'a str,
    pub parent: Option<(&'a str, &'a str)>,
    pub unit: &'a str,
    pub at: At<'a>,
    pub amount: &'a str,
    pub when: &'a str,
    /// Columns of the row whose change moves its contribution.
    pub row_deps: &'a [&'a str],
    /// Columns of the parent whose change moves the contribution.
    pub parent_deps: &'a [&'a str],
}

/// Every family. The column names are those of `figure_rollup`.
pub const FAMILIES: &[Family<'static>] = &[
    Family {
        column: "questions",
        table: "question",
        parent: None,
        unit: "{r}.addressed_to_id",
        at: At::Instant("{r}.asked_at"),
        amount: "1",
        when: "{r}.status = 'visible' AND {long_enough_r}",
        row_deps: &["addressed_to_id", "asked_at", "status", "title", "body"],
        parent_deps: &[],
    },
    Family {
        column: "answers",
        table: "answer",
        parent: Some(("question", "question_id")),
        unit: "{p}.addressed_to_id",
        at: At::Instant("{r}.answered_at"),
        amount: "1",
        when: "({setting:answers_need_valid_question} = 0 OR ({p}.status = 'visible' AND {long_enough_p}))",
        row_deps: &["question_id", "answered_at"],
        parent_deps: &["addressed_to_id", "status", "title", "body"],
    },
    Family {
        column: "expert_answers",
        table: "answer",
        parent: Some(("expert", "expert_id")),
        unit: "{p}.recruited_by_id",
        at: At::Instant("{r}.answered_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["expert_id", "answered_at"],
        parent_deps: &["recruited_by_id"],
    },
    Family {
        column: "participations",
        table: "topic_participation",
        parent: Some(("topic", "topic_id")),
        unit: "{p}.org_unit_id",
        at: At::Instant("{r}.created_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["topic_id", "created_at"],
        parent_deps: &["org_unit_id"],
    },
    Family {
        column: "eligible_activities",
        table: "activity",
        parent: None,
        unit: "{r}.org_unit_id",
        at: At::Instant(
            "CASE WHEN {setting:eligible_activities_by_end} = 1 THEN {r}.ends_at ELSE {r}.starts_at END",
        ),
        amount: "1",
        when: "{counted_r} AND {eligible_r}",
        // And whether the activity meets the rules (its loop counts), see `moved`.
        row_deps: &[
            "org_unit_id",
            "starts_at",
            "ends_at",
            "heavyweight",
            "heavyweight_approved",
        ],
        parent_deps: &[],
    },
    Family {
        column: "home_activities",
        table: "activity",
        parent: None,
        unit: "{r}.org_unit_id",
        at: At::Instant(
            "CASE WHEN {setting:home_activities_by_end} = 1 THEN {r}.ends_at ELSE {r}.starts_at END",
        ),
        amount: "1",
        when: "{counted_r} AND ou.kind = 'youth_home'",
        row_deps: &[
            "org_unit_id",
            "starts_at",
            "ends_at",
            "heavyweight",
            "heavyweight_approved",
        ],
        parent_deps: &[],
    },
    Family {
        column: "home_signups",
        table: "activity_signup",
        parent: Some(("activity", "activity_id")),
        unit: "{p}.org_unit_id",
        at: At::Instant("{r}.signed_up_at"),
        amount: "1",
        when: "{counted_p} AND ou.kind = 'youth_home'",
        row_deps: &["activity_id", "signed_up_at"],
        parent_deps: &["org_unit_id", "heavyweight", "heavyweight_approved"],
    },
    Family {
        column: "home_comments",
        table: "activity_comment",
        parent: Some(("activity", "activity_id")),
        unit: "{p}.org_unit_id",
        at: At::Instant("{r}.created_at"),
        amount: "1",
        when: "{counted_p} AND ou.kind = 'youth_home'",
        row_deps: &["activity_id", "created_at"],
        parent_deps: &["org_unit_id", "heavyweight", "heavyweight_approved"],
    },
    Family {
        column: "home_rating",
        table: "activity_review",
        parent: Some(("activity", "activity_id")),
        unit: "{p}.org_unit_id",
        at: At::Instant("{r}.created_at"),
        amount: "{r}.rating",
        when: "{counted_p} AND ou.kind = 'youth_home'",
        row_deps: &["activity_id", "created_at", "rating"],
        parent_deps: &["org_unit_id", "heavyweight", "heavyweight_approved"],
    },
    Family {
        column: "experts",
        table: "expert",
        parent: None,
        unit: "{r}.recruited_by_id",
        at: At::Instant("{r}.joined_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["recruited_by_id", "joined_at"],
        parent_deps: &[],
    },
    Family {
        column: "registrations",
        table: "member",
        parent: None,
        unit: "{r}.home_town_id",
        at: At::Instant("{r}.registered_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["home_town_id", "registered_at"],
        parent_deps: &[],
    },
    Family {
        column: "bound",
        table: "member",
        parent: None,
        unit: "{r}.home_town_id",
        at: At::Later("{r}.registered_at", "{r}.mobile_bound_at"),
        amount: "1",
        when: "{r}.mobile_bound_at IS NOT NULL",
        row_deps: &["home_town_id", "registered_at", "mobile_bound_at"],
        parent_deps: &[],
    },
    Family {
        column: "visits",
        table: "daily_visit",
        parent: None,
        unit: "{r}.org_unit_id",
        at: At::Day("{r}.day"),
        amount: "{r}.visits",
        when: "TRUE",
        row_deps: &["org_unit_id", "day", "visits"],
        parent_deps: &[],
    },
    Family {
        column: "visit_rows",
        table: "daily_visit",
        parent: None,
        unit: "{r}.org_unit_id",
        at: At::Day("{r}.day"),
        amount: "1",
        when: "TRUE",
        row_deps: &["org_unit_id", "day"],
        parent_deps: &[],
    },
    Family {
        column: "published",
        table: "activity",
        parent: None,
        unit: "{r}.org_unit_id",
        at: At::Instant("{r}.published_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["org_unit_id", "published_at"],
        parent_deps: &[],
    },
    Family {
        column: "published",
        table: "topic",
        parent: None,
        unit: "{r}.org_unit_id",
        at: At::Instant("{r}.published_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["org_unit_id", "published_at"],
        parent_deps: &[],
    },
    Family {
        column: "published",
        table: "answer",
        parent: None,
        unit: "{r}.org_unit_id",
        at: At::Instant("{r}.answered_at"),
        amount: "1",
        when: "{r}.org_unit_id IS NOT NULL",
        row_deps: &["org_unit_id", "answered_at"],
        parent_deps: &[],
    },
    Family {
        column: "town_published",
        table: "activity",
        parent: Some(("org_unit", "org_unit_id")),
        unit: "{p}.town_id",
        at: At::Instant("{r}.published_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["org_unit_id", "published_at"],
        parent_deps: &["town_id"],
    },
    Family {
        column: "town_published",
        table: "topic",
        parent: Some(("org_unit", "org_unit_id")),
        unit: "{p}.town_id",
        at: At::Instant("{r}.published_at"),
        amount: "1",
        when: "TRUE",
        row_deps: &["org_unit_id", "published_at"],
        parent_deps: &["town_id"],
    },
    Family {
        column: "town_published",
        table: "answer",
        parent: Some(("org_unit", "org_unit_id")),
        unit: "{p}.town_id",
        at: At::Instant("{r}.answered_at"),
        amount: "1",
        when: "{r}.org_unit_id IS NOT NULL",
        row_deps: &["org_unit_id", "answered_at"],
        parent_deps: &["town_id"],
    },
];

/// The distinct-day columns: (the count kept per day, the days counted).
pub const DISTINCT_DAYS: &[(&str, &str)] = &[
    ("published", "update_days"),
    ("town_published", "town_update_days"),
];

/// Every figure column of `figure_rollup`, in table order.
pub const COLUMNS: &[&str] = &[
    "questions",
    "answers",
    "expert_answers",
    "participations",
    "eligible_activities",
    "home_activities",
    "home_signups",
    "home_comments",
    "home_rating",
    "experts",
    "registrations",
    "bound",
    "visits",
    "visit_rows",
    "published",
    "update_days",
    "town_published",
    "town_update_days",
];

/// A loop count kept on each activity: rows of `table` whose activity is `activity` (an
/// expression of the row `{r}`) and that meet `when` (which may name the activity's columns
/// unqualified).
struct Kept {
    column: &'static str,
    table: &'static str,
    activity: &'static str,
    when: &'static str,
    row_deps: &'static [&'static str],
    /// The rows as a recount reads them (`r`, joined to what leads to the activity), and
    /// the activity's id there.
    recount: (&'static str, &'static str),
}

/// `signup_count` is kept by its own triggers (an earlier migration).
const KEPT: &[Kept] = &[
    Kept {
        column: "checkin_count",
        table: "activity_checkin",
        activity: "(SELECT s.activity_id FROM activity_signup s WHERE s.id = {r}.signup_id)",
        when: "TRUE",
        row_deps: &["signup_id"],
        recount: (
            "activity_checkin r JOIN activity_signup s ON s.id = r.signup_id",
            "s.activity_id",
        ),
    },
    Kept {
        column: "comment_count",
        table: "activity_comment",
        activity: "{r}.activity_id",
        when: "TRUE",
        row_deps: &["activity_id"],
        recount: ("activity_comment r", "r.activity_id"),
    },
    Kept {
        column: "review_count",
        table: "activity_review",
        activity: "{r}.activity_id",
        when: "TRUE",
        row_deps: &["activity_id"],
        recount: ("activity_review r", "r.activity_id"),
    },
    Kept {
        column: "photo_count",
        table: "activity_photo",
        activity: "{r}.activity_id",
        when: "TRUE",
        row_deps: &["activity_id"],
        recount: ("activity_photo r", "r.activity_id"),
    },
    Kept {
        column: "photos_after_end_count",
        table: "activity_photo",
        activity: "{r}.activity_id",
        when: "{r}.uploaded_at > ends_at",
        row_deps: &["activity_id", "uploaded_at"],
        recount: ("activity_photo r", "r.activity_id"),
    },
    Kept {
        column: "like_count",
        table: "activity_like",
        activity: "{r}.activity_id",
        when: "TRUE",
        row_deps: &["activity_id"],
        recount: ("activity_like r", "r.activity_id"),
    },
];

/// The activity counts that an activity rule's figure reads, by the figure's name in the
/// rules (`signups`, `photos_after_end`, …).
pub const RULE_FIGURES: &[(&str, &str)] = &[
    ("signups", "signup_count"),
    ("checkins", "checkin_count"),
    ("comments", "comment_count"),
    ("reviews", "review_count"),
    ("photos", "photo_count"),
    ("photos_after_end", "photos_after_end_count"),
    ("likes", "like_count"),
];

/// "The activity `a` meets every condition of `conditions`" (a table or subquery with the
/// columns `figure` and `at_least`).
pub fn eligible(a: &str, conditions: &str) -> String {
    let figure = RULE_FIGURES
        .iter()
        .map(|(name, column)| format!(" WHEN '{name}' THEN {a}.{column}"))
        .collect::<String>();
    format!(
        "NOT EXISTS (SELECT 1 FROM {conditions} c WHERE c.at_least > CASE c.figure{figure} END)"
    )
}

/// What the activity rules decide beyond their conditions, each with the value that gives
/// what the rollups held before the rules decided it (a database migrated from then holds
/// these until the server puts its rules in force): the least number of characters of a
/// valid question; whether answers count only to valid questions (1) or to any (0); whether
/// a heavyweight activity counts only once approved (1); whether the index's activities and
/// the Youth Homes' activities are counted by the day they end (1) or start (0).
pub const SETTINGS: &[(&str, i64)] = &[
    ("question_min_characters", 0),
    ("answers_need_valid_question", 0),
    ("heavyweight_counts_once_approved", 1),
    ("eligible_activities_by_end", 1),
    ("home_activities_by_end", 0),
];

/// `CREATE TABLE rule_setting`, if it is not there yet.
pub const CREATE_SETTINGS: &str = "CREATE TABLE IF NOT EXISTS rule_setting (name TEXT NOT NULL \
     CONSTRAINT pk_rule_setting PRIMARY KEY, value BIGINT NOT NULL)";

/// The statements that write `values` (name, value) into `rule_setting`, replacing them.
pub fn write_settings(values: &[(&str, i64)]) -> Vec<String> {
    let mut out = vec!["DELETE FROM rule_setting".to_owned()];
    out.extend(values.iter().map(|(name, value)| {
        format!(
            "INSERT INTO rule_setting (name, value) VALUES ('{}', {value})",
            name.replace('\'', "''")
        )
    }));
    out
}

/// `expr` with every `{setting:name}` replaced by what `value` makes of the name.
fn settings_in(expr: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(at) = rest.find("{setting:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "{setting:".len()..];
        let end = after.find('}').expect("a setting placeholder is closed");
        out.push_str(&value(&after[..end]));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The value of the setting `name` as a statement reads it from `rule_setting`.
fn setting_read(name: &str) -> String {
    let fallback = SETTINGS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("`{name}` is one of the settings"))
        .1;
    format!("COALESCE((SELECT rs.value FROM rule_setting rs WHERE rs.name = '{name}'), {fallback})")
}

/// "The activity `a` counts for its publisher": an ordinary one always, a heavyweight one
/// once approved (when the rules say so).
fn counted(a: &str) -> String {
    format!(
        "({a}.heavyweight = FALSE OR {a}.heavyweight_approved = TRUE \
         OR {{setting:heavyweight_counts_once_approved}} = 0)"
    )
}

/// "The question `q` is long enough to be valid".
fn long_enough(q: &str) -> String {
    format!(
        "(LENGTH(TRIM({q}.title)) + LENGTH(TRIM({q}.body)) >= {{setting:question_min_characters}})"
    )
}

/// `expr` with the placeholders that stand for settings expanded and the settings taken
/// from `values` (name, value): the expression as it was, or will be, under those.
fn with_settings(expr: &str, values: &[(&str, i64)]) -> String {
    let expanded = expr
        .replace("{counted_r}", &counted("{r}"))
        .replace("{counted_p}", &counted("{p}"))
        .replace("{long_enough_r}", &long_enough("{r}"))
        .replace("{long_enough_p}", &long_enough("{p}"));
    settings_in(&expanded, |name| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| setting_read(name))
    })
}

/// "An approved application with the intent `heavyweight` names the activity `id`".
fn approved(id: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM incentive_application ia JOIN incentive_intent ii \
         ON ii.application_id = ia.id WHERE ia.activity_id = {id} \
         AND ia.status = 'approved' AND ii.intent = 'heavyweight')"
    )
}

fn render(expr: &str, r: &str, p: &str) -> String {
    with_settings(expr, &[])
        .replace("{eligible_r}", &eligible(r, "activity_rule_condition"))
        .replace("{r}", r)
        .replace("{p}", p)
}

impl Family<'_> {
    /// The local day of the row, `{r}` and `{p}` rendered.
    fn day(&self, d: Dialect, r: &str, p: &str) -> String {
        match self.at {
            At::Instant(at) => d.local_day(&render(at, r, p)),
            At::Day(day) => render(day, r, p),
            At::Later(a, b) => d.local_day(&d.greatest(&render(a, r, p), &render(b, r, p))),
        }
    }
}

/// Where the rows of a statement come from.
enum Source<'a> {
    /// One row of the family's table, as the trigger sees it (`NEW` or `OLD`).
    Row(&'a str),
    /// The family's rows whose parent is this row of the parent table (`NEW` or `OLD`).
    Children(&'a str),
    /// Every row of the table whose day falls within `[from, to]` (a rebuild).
    Range(&'a str, &'a str),
    /// Every row of the table, on the day, month and year rows.
    All,
}

/// Which rows the triggers keep: those of migration 21 (each unit's days, months and years),
/// or also the town totals and the all-time rows of the cumulative columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeping {
    PerUnit,
    WithTotals,
}

/// A grain a family's rows are kept on: its code, the span its day starts (`d`, `m`, `y`
/// or `a`), and whether its rows are the town's totals (keyed by the town).
struct Grain(char, char, bool);

const UNIT_GRAINS: &[Grain] = &[
    Grain('d', 'd', false),
    Grain('m', 'm', false),
    Grain('y', 'y', false),
];
const TOWN_GRAINS: &[Grain] = &[Grain('M', 'm', true), Grain('Y', 'y', true)];
const ALL_TIME: Grain = Grain('a', 'a', false);

/// The columns read as figures to date (registrations, bindings): kept on all-time rows too.
pub const CUMULATIVE: &[&str] = &["registrations", "bound"];

/// The grains `column` is kept on, as a subquery `g` with the columns `grain`, `span` and
/// `town` (1 for a town's total).
fn grains_of(column: &str, keeping: Keeping) -> String {
    let mut grains: Vec<&Grain> = UNIT_GRAINS.iter().collect();
    if keeping == Keeping::WithTotals {
        grains.extend(TOWN_GRAINS);
        if CUMULATIVE.contains(&column) {
            grains.push(&ALL_TIME);
        }
    }
    let rows: Vec<String> = grains
        .iter()
        .map(|Grain(code, span, town)| {
            format!(
                "SELECT '{code}' AS grain, '{span}' AS span, {} AS town",
                u8::from(*town)
            )
        })
        .collect();
    format!("({}) g", rows.join(" UNION ALL "))
}

/// `INSERT … ON CONFLICT DO UPDATE` adding `sign` × the family's rows of `source` to its
/// column of `target`, on the rows of every grain `kept` keeps (only the day rows for a
/// rebuild, which derives the others after), for the rows that also meet `guard`.
fn bump(
    d: Dialect,
    keeping: Keeping,
    f: &Family<'_>,
    source: Source,
    sign: &str,
    guard: &str,
    target: &str,
) -> String {
    let (r, p, from, mut cond) = match source {
        Source::Row(row) => {
            let (from, cond) = match f.parent {
                Some((table, key)) => (format!("{table} p, "), format!("p.id = {row}.{key} AND ")),
                None => (String::new(), String::new()),
            };
            (row.to_owned(), "p".to_owned(), from, cond)
        }
        Source::Children(parent) => {
            let (_, key) = f.parent.expect("children of a family with a parent");
            (
                "r".to_owned(),
                parent.to_owned(),
                format!("{} r, ", f.table),
                format!("r.{key} = {parent}.id AND "),
            )
        }
        Source::Range(..) | Source::All => {
            let (from, cond) = match f.parent {
                Some((table, key)) => (
                    format!("{} r JOIN {table} p ON p.id = r.{key}, ", f.table),
                    String::new(),
                ),
                None => (format!("{} r, ", f.table), String::new()),
            };
            ("r".to_owned(), "p".to_owned(), from, cond)
        }
    };
    let day = f.day(d, &r, &p);
    let column = f.column;
    let (amount, unit, when) = (
        render(f.amount, &r, &p),
        render(f.unit, &r, &p),
        render(f.when, &r, &p),
    );
    if let Source::Range(lo, hi) = source {
        // The day rows only: the rebuild derives the others from them.
        cond.push_str(&format!("{day} >= {lo} AND {day} <= {hi} AND "));
        return format!(
            "INSERT INTO {target} (org_unit_id, grain, day, town_id, kind, {column}) \
             SELECT ou.id, 'd', {day}, ou.town_id, ou.kind, {sign}SUM({amount}) \
             FROM {from}org_unit ou WHERE {cond}ou.id = {unit} AND ({when}) AND ({guard}) \
             GROUP BY ou.id, {day}, ou.town_id, ou.kind \
             ON CONFLICT (org_unit_id, grain, day) DO UPDATE SET {column} = {target}.{column} + excluded.{column}"
        );
    }
    let grain_day = format!(
        "CASE g.span WHEN 'd' THEN {day} WHEN 'm' THEN {} WHEN 'y' THEN {} ELSE {} END",
        d.start_of(&day, "month"),
        d.start_of(&day, "year"),
        d.date(FIRST_DAY),
    );
    // A town's total is keyed by the town and counts as the town's.
    let key = "CASE g.town WHEN 1 THEN ou.town_id ELSE ou.id END";
    let kind = "CASE g.town WHEN 1 THEN 'town' ELSE ou.kind END";
    format!(
        "INSERT INTO {target} (org_unit_id, grain, day, town_id, kind, {column}) \
         SELECT {key}, g.grain, {grain_day}, ou.town_id, {kind}, {sign}SUM({amount}) \
         FROM {from}org_unit ou, {grains} \
         WHERE {cond}ou.id = {unit} AND (g.town = 0 OR ou.town_id IS NOT NULL) AND ({when}) AND ({guard}) \
         GROUP BY {key}, g.grain, {grain_day}, ou.town_id, {kind} \
         ON CONFLICT (org_unit_id, grain, day) DO UPDATE SET {column} = {target}.{column} + excluded.{column}",
        grains = grains_of(column, keeping),
    )
}

/// `UPDATE figure_rollup` setting the distinct-day column `counted` from the kept counts of
/// `kept` on the rows `rows` selects: on a day row whether its count is above zero, on a
/// month or year row (a town's total too) how many of the unit's own days are.
fn days_update(d: Dialect, kept: &str, counted: &str, rows: &str) -> String {
    let end = d.end_of_row("figure_rollup.day", "figure_rollup.grain");
    format!(
        "UPDATE figure_rollup SET {counted} = CASE WHEN grain = 'd' \
         THEN (CASE WHEN {kept} > 0 THEN 1 ELSE 0 END) \
         ELSE (SELECT COUNT(*) FROM figure_rollup x WHERE x.org_unit_id = figure_rollup.org_unit_id \
         AND x.grain = 'd' AND x.day >= figure_rollup.day AND x.day < {end} AND x.{kept} > 0) END \
         WHERE {rows}"
    )
}

/// Sets the distinct-day column of a family of kept days on the day, month and year rows of
/// the unit and day of one row (`NEW` or `OLD`).
fn recount_days(d: Dialect, f: &Family<'_>, row: &str, guard: &str) -> Option<String> {
    let (kept, counted) = DISTINCT_DAYS.iter().find(|(kept, _)| *kept == f.column)?;
    let day = f.day(d, row, "p");
    let unit = match f.parent {
        Some((parent, key)) => format!(
            "(SELECT {} FROM {parent} x WHERE x.id = {row}.{key})",
            render(f.unit, row, "x")
        ),
        None => render(f.unit, row, "p"),
    };
    let rows = format!(
        "org_unit_id = {unit} AND ({when}) AND ({guard}) \
         AND ((grain = 'd' AND day = {day}) OR (grain IN ('m', 'M') AND day = {month}) \
         OR (grain IN ('y', 'Y') AND day = {year}))",
        when = render(f.when, row, "p"),
        month = d.start_of(&day, "month"),
        year = d.start_of(&day, "year"),
    );
    Some(days_update(d, kept, counted, &rows))
}

/// Sets the distinct-day column of a family of kept days on every row of the unit a parent
/// row (`NEW` or `OLD`) gives the family's rows: after their contributions moved between
/// units.
fn recount_all_days(d: Dialect, f: &Family<'_>, parent: &str, guard: &str) -> Option<String> {
    let (kept, counted) = DISTINCT_DAYS.iter().find(|(kept, _)| *kept == f.column)?;
    let rows = format!(
        "org_unit_id = {} AND ({guard})",
        render(f.unit, "r", parent)
    );
    Some(days_update(d, kept, counted, &rows))
}

/// The columns a town's total adds up from its units' rows: all but the distinct days
/// (counted from the town's own days) and the town's own updates (kept on the town's rows,
/// which its children's triggers move).
fn summed_columns() -> impl Iterator<Item = &'static str> {
    COLUMNS.iter().copied().filter(|c| {
        *c != "town_published" && !DISTINCT_DAYS.iter().any(|(_, counted)| counted == c)
    })
}

/// Adds `sign` × the month and year rows of the org unit `NEW` to the totals of the town of
/// `row` (`OLD` or `NEW`).
fn move_totals(row: &str, sign: &str) -> String {
    let columns: Vec<&str> = summed_columns().collect();
    let values: Vec<String> = columns.iter().map(|c| format!("{sign}x.{c}")).collect();
    let set: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = figure_rollup.{c} + excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO figure_rollup (org_unit_id, grain, day, town_id, kind, {columns}) \
         SELECT {row}.town_id, CASE x.grain WHEN 'm' THEN 'M' ELSE 'Y' END, x.day, {row}.town_id, 'town', {values} \
         FROM figure_rollup x WHERE x.org_unit_id = NEW.id AND x.grain IN ('m', 'y') AND {row}.town_id IS NOT NULL \
         ON CONFLICT (org_unit_id, grain, day) DO UPDATE SET {set}",
        columns = columns.join(", "),
        values = values.join(", "),
        set = set.join(", "),
    )
}

/// "Any of `columns` differs between `OLD` and `NEW`".
fn changed(d: Dialect, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| d.differ(&format!("OLD.{c}"), &format!("NEW.{c}")))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// A trigger: `timing` (`AFTER`/`BEFORE`) `event` (`INSERT`/`UPDATE`/`DELETE`) on `table`
/// running `statements` for each row.
struct Trigger {
    name: String,
    table: &'static str,
    timing: &'static str,
    event: &'static str,
    /// Each statement with the condition on `OLD`/`NEW` under which it runs (`TRUE`: always).
    statements: Vec<(String, String)>,
}

/// "The row's contribution to the family moved": a column it depends on changed, or, for a
/// family counting the activities that meet the activity rules, whether it meets them.
fn moved(d: Dialect, f: &Family<'_>) -> String {
    let mut guard = changed(d, f.row_deps);
    if f.when.contains("{eligible_r}") {
        let rules = "activity_rule_condition";
        guard = format!(
            "{guard} OR {}",
            d.differ(
                &format!("({})", eligible("OLD", rules)),
                &format!("({})", eligible("NEW", rules))
            )
        );
    }
    guard
}

/// Every trigger that keeps the rollups and the activities' counts.
fn triggers(d: Dialect, keeping: Keeping) -> Vec<Trigger> {
    let mut tables: Vec<&'static str> = Vec::new();
    let mut note = |t: &'static str| {
        if !tables.contains(&t) {
            tables.push(t);
        }
    };
    for f in FAMILIES {
        note(f.table);
        if let Some((parent, _)) = f.parent {
            note(parent);
        }
    }
    for k in KEPT {
        note(k.table);
    }
    let target = "figure_rollup";
    let mut out = Vec::new();
    for &table in &tables {
        let own: Vec<&Family<'_>> = FAMILIES.iter().filter(|f| f.table == table).collect();
        let children: Vec<&Family<'_>> = FAMILIES
            .iter()
            .filter(|f| f.parent.map(|(p, _)| p) == Some(table))
            .collect();
        let kept: Vec<&Kept> = KEPT.iter().filter(|k| k.table == table).collect();

        let mut insert = Vec::new();
        let mut delete = Vec::new();
        let mut update: Vec<(String, String)> = Vec::new();
        let mut before_delete = Vec::new();
        for k in &kept {
            let bump = |row: &str, sign: &str| {
                format!(
                    "UPDATE activity SET {c} = {c} {sign} 1 WHERE id = {a} AND ({when})",
                    c = k.column,
                    a = render(k.activity, row, "p"),
                    when = render(k.when, row, "p"),
                )
            };
            insert.push(bump("NEW", "+"));
            delete.push(bump("OLD", "-"));
            let moved = changed(d, k.row_deps);
            update.push((moved.clone(), bump("OLD", "-")));
            update.push((moved, bump("NEW", "+")));
        }
        for f in &own {
            insert.push(bump(d, keeping, f, Source::Row("NEW"), "", "TRUE", target));
            insert.extend(recount_days(d, f, "NEW", "TRUE"));
            delete.push(bump(d, keeping, f, Source::Row("OLD"), "-", "TRUE", target));
            delete.extend(recount_days(d, f, "OLD", "TRUE"));
            let moved = moved(d, f);
            let mut statements = vec![
                bump(d, keeping, f, Source::Row("OLD"), "-", "TRUE", target),
                bump(d, keeping, f, Source::Row("NEW"), "", "TRUE", target),
            ];
            statements.extend(recount_days(d, f, "OLD", "TRUE"));
            statements.extend(recount_days(d, f, "NEW", "TRUE"));
            update.extend(statements.into_iter().map(|s| (moved.clone(), s)));
        }
        for f in &children {
            // A parent removed takes its children's contributions with it while they are
            // still there to be counted (a cascade removes them after).
            before_delete.push(bump(
                d,
                keeping,
                f,
                Source::Children("OLD"),
                "-",
                "TRUE",
                target,
            ));
            let moved = changed(d, f.parent_deps);
            let mut statements = vec![
                bump(d, keeping, f, Source::Children("OLD"), "-", "TRUE", target),
                bump(d, keeping, f, Source::Children("NEW"), "", "TRUE", target),
            ];
            statements.extend(recount_all_days(d, f, "OLD", "TRUE"));
            statements.extend(recount_all_days(d, f, "NEW", "TRUE"));
            update.extend(statements.into_iter().map(|s| (moved.clone(), s)));
        }
        if table == "org_unit" {
            // Its rows are grouped under its town and filtered by its kind.
            update.push((
                changed(d, &["town_id", "kind"]),
                "UPDATE figure_rollup SET town_id = NEW.town_id, kind = NEW.kind \
                 WHERE org_unit_id = NEW.id AND grain NOT IN ('M', 'Y')"
                    .to_owned(),
            ));
            if keeping == Keeping::WithTotals {
                // Its months and years leave the totals of its old town for the new one's.
                let moved = changed(d, &["town_id"]);
                update.push((moved.clone(), move_totals("OLD", "-")));
                update.push((moved, move_totals("NEW", "")));
            }
        }
        if table == "activity_signup" {
            // Check-ins go with their sign-up; their own trigger no longer finds it.
            before_delete.push(
                "UPDATE activity SET checkin_count = checkin_count - \
                 (SELECT COUNT(*) FROM activity_checkin c WHERE c.signup_id = OLD.id) \
                 WHERE id = OLD.activity_id"
                    .to_owned(),
            );
        }
        let always = |statements: Vec<String>| -> Vec<(String, String)> {
            statements
                .into_iter()
                .map(|s| ("TRUE".to_owned(), s))
                .collect()
        };
        let (insert, delete, before_delete) =
            (always(insert), always(delete), always(before_delete));
        for (timing, event, statements) in [
            ("AFTER", "INSERT", insert),
            ("AFTER", "UPDATE", update),
            ("AFTER", "DELETE", delete),
            ("BEFORE", "DELETE", before_delete),
        ] {
            if !statements.is_empty() {
                out.push(Trigger {
                    name: format!(
                        "qii_rollup_{table}_{}_{}",
                        timing.to_lowercase(),
                        event.to_lowercase()
                    ),
                    table,
                    timing,
                    event,
                    statements,
                });
            }
        }
    }
    // A new end re-decides which photos came after it: a trigger of its own, so that on
    // SQLite (whose triggers do not fire themselves) its update reaches the one above.
    out.push(Trigger {
        name: "qii_rollup_activity_after_update_ends".into(),
        table: "activity",
        timing: "AFTER",
        event: "UPDATE",
        statements: vec![(
            changed(d, &["ends_at"]),
            "UPDATE activity SET photos_after_end_count = \
             (SELECT COUNT(*) FROM activity_photo x WHERE x.activity_id = NEW.id AND x.uploaded_at > NEW.ends_at) \
             WHERE id = NEW.id"
                .to_owned(),
        )],
    });
    // A decision on a heavyweight application decides whether its activity counts.
    let sync = |id: &str| {
        format!(
            "UPDATE activity SET heavyweight_approved = {a} \
             WHERE id = {id} AND heavyweight_approved <> {a}",
            a = approved("activity.id")
        )
    };
    let of_intent = |row: &str| {
        format!("(SELECT ia2.activity_id FROM incentive_application ia2 WHERE ia2.id = {row}.application_id)")
    };
    for (table, ids) in [
        (
            "incentive_application",
            ["NEW.activity_id".to_owned(), "OLD.activity_id".to_owned()],
        ),
        ("incentive_intent", [of_intent("NEW"), of_intent("OLD")]),
    ] {
        for event in ["INSERT", "UPDATE", "DELETE"] {
            let statements = match event {
                "INSERT" => vec![sync(&ids[0])],
                "DELETE" => vec![sync(&ids[1])],
                _ => vec![sync(&ids[1]), sync(&ids[0])],
            }
            .into_iter()
            .map(|s| ("TRUE".to_owned(), s))
            .collect();
            out.push(Trigger {
                name: format!("qii_rollup_{table}_after_{}", event.to_lowercase()),
                table,
                timing: "AFTER",
                event,
                statements,
            });
        }
    }
    out
}

/// A trigger's statements in runs of one condition, in order.
fn runs(t: &Trigger) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (guard, statement) in &t.statements {
        match out.last_mut() {
            Some((g, run)) if g == guard => run.push(statement),
            _ => out.push((guard, vec![statement])),
        }
    }
    out
}

/// SQLite runs every statement of a trigger: each run of one condition becomes a trigger of
/// its own with that condition as its `WHEN`, so that a statement whose condition does not
/// hold costs nothing. (name, condition, statements)
fn sqlite_parts(t: &Trigger) -> Vec<(String, &str, Vec<&str>)> {
    let runs = runs(t);
    let single = runs.len() == 1;
    runs.into_iter()
        .enumerate()
        .map(|(i, (guard, statements))| {
            let name = if single {
                t.name.clone()
            } else {
                format!("{}_{i}", t.name)
            };
            (name, guard, statements)
        })
        .collect()
}

fn create_statements(d: Dialect, t: &Trigger) -> Vec<String> {
    match d {
        Dialect::Postgres => {
            // PostgreSQL plans and runs each statement it reaches: a condition that does
            // not hold skips its statements.
            let body: String = runs(t)
                .into_iter()
                .map(|(guard, statements)| {
                    let run: String = statements.iter().map(|s| format!("  {s};\n")).collect();
                    if guard == "TRUE" {
                        run
                    } else {
                        format!("  IF {guard} THEN\n{run}  END IF;\n")
                    }
                })
                .collect();
            let ret = if t.timing == "BEFORE" { "OLD" } else { "NULL" };
            vec![
                format!(
                    "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $qii$\nBEGIN\n{body}  RETURN {ret};\nEND\n$qii$",
                    name = t.name
                ),
                format!(
                    "CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
                    name = t.name,
                    timing = t.timing,
                    event = t.event,
                    table = t.table
                ),
            ]
        }
        Dialect::Sqlite => sqlite_parts(t)
            .into_iter()
            .map(|(name, guard, statements)| {
                let body: String = statements.iter().map(|s| format!("  {s};\n")).collect();
                let when = if guard == "TRUE" {
                    String::new()
                } else {
                    format!(" WHEN {guard}")
                };
                format!(
                    "CREATE TRIGGER {name} {timing} {event} ON {table} FOR EACH ROW{when} BEGIN\n{body}END",
                    timing = t.timing,
                    event = t.event,
                    table = t.table
                )
            })
            .collect(),
    }
}

fn drop_statements(d: Dialect, t: &Trigger) -> Vec<String> {
    match d {
        Dialect::Postgres => vec![
            format!("DROP TRIGGER IF EXISTS {} ON {}", t.name, t.table),
            format!("DROP FUNCTION IF EXISTS {}()", t.name),
        ],
        Dialect::Sqlite => sqlite_parts(t)
            .into_iter()
            .map(|(name, _, _)| format!("DROP TRIGGER IF EXISTS {name}"))
            .collect(),
    }
}

/// Creates every trigger that keeps the rollups.
pub async fn create_triggers(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for s in trigger_statements(backend, Keeping::WithTotals) {
        db.execute_unprepared(&s).await?;
    }
    Ok(())
}

/// The statements creating the triggers that keep the rows of `keeping` (the triggers of an
/// earlier migration, for one taken back).
pub fn trigger_statements(backend: DbBackend, keeping: Keeping) -> Vec<String> {
    let d = Dialect::of(backend);
    triggers(d, keeping)
        .iter()
        .flat_map(|t| create_statements(d, t))
        .collect()
}

/// Drops every trigger that keeps the rollups: a bulk load drops them, loads, rebuilds and
/// creates them again, in one transaction.
pub async fn drop_triggers(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let d = Dialect::of(db.get_database_backend());
    for t in triggers(d, Keeping::WithTotals) {
        for s in drop_statements(d, &t) {
            db.execute_unprepared(&s).await?;
        }
    }
    Ok(())
}

/// The statements that recompute the rollups of the days `[from, to]` (SQL date literals)
/// into `target` (a table shaped like `figure_rollup`) from the raw events, with what each
/// does: the day rows family by family, their distinct-day counts, then the month and year
/// rows they fall in, added up again from the day rows, the towns' totals of those, and the
/// all-time rows from every year row. The rows of those days, months and years and the
/// all-time rows must have been removed first ([`clear_statements`]).
pub fn rebuild_statements(
    backend: DbBackend,
    target: &str,
    from: &str,
    to: &str,
) -> Vec<(String, String)> {
    let d = Dialect::of(backend);
    let mut out: Vec<(String, String)> = FAMILIES
        .iter()
        .map(|f| {
            (
                format!("{} from {}", f.column, f.table),
                bump(
                    d,
                    Keeping::WithTotals,
                    f,
                    Source::Range(from, to),
                    "",
                    "TRUE",
                    target,
                ),
            )
        })
        .collect();
    let days_set: String = DISTINCT_DAYS
        .iter()
        .map(|(kept, counted)| format!("{counted} = CASE WHEN {kept} > 0 THEN 1 ELSE 0 END"))
        .collect::<Vec<_>>()
        .join(", ");
    out.push((
        "update days".into(),
        format!(
            "UPDATE {target} SET {days_set} WHERE grain = 'd' AND day >= {from} AND day <= {to}"
        ),
    ));
    let sums: Vec<String> = COLUMNS.iter().map(|c| format!("SUM({c})")).collect();
    let set: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    for (grain, unit, below, lo, hi) in [
        (
            "m",
            "month",
            "d",
            d.start_of(from, "month"),
            d.start_of(to, "month"),
        ),
        (
            "y",
            "year",
            "m",
            d.start_of(from, "year"),
            d.start_of(to, "year"),
        ),
    ] {
        let start = d.start_of("x.day", unit);
        out.push((
            format!("{unit} rows"),
            format!(
                "INSERT INTO {target} (org_unit_id, grain, day, town_id, kind, {columns}) \
                 SELECT x.org_unit_id, '{grain}', {start}, MAX(x.town_id), MAX(x.kind), {sums} \
                 FROM {target} x WHERE x.grain = '{below}' AND {start} >= {lo} AND {start} <= {hi} \
                 GROUP BY x.org_unit_id, {start} \
                 ON CONFLICT (org_unit_id, grain, day) DO UPDATE SET {set}",
                columns = COLUMNS.join(", "),
                sums = sums.join(", "),
                set = set.join(", "),
            ),
        ));
    }
    out.extend(town_rows(
        backend,
        target,
        &d.start_of(from, "month"),
        &d.start_of(to, "month"),
    ));
    out.push(("all-time rows".into(), all_time_rows(backend, target)));
    out
}

/// The statements adding up the towns' totals of the months `[month_from, month_to]` and of
/// the years they fall in (SQL dates, first days) from the units' month and year rows of
/// `target`, with what each does. Those totals must have been removed first
/// ([`clear_statements`]).
pub fn town_rows(
    backend: DbBackend,
    target: &str,
    month_from: &str,
    month_to: &str,
) -> Vec<(String, String)> {
    let d = Dialect::of(backend);
    let sums: Vec<String> = COLUMNS
        .iter()
        .map(|c| {
            if summed_columns().any(|s| s == *c) || *c == "town_published" {
                format!("SUM(x.{c})")
            } else {
                // Distinct days: the town's own.
                format!("SUM(CASE WHEN x.org_unit_id = x.town_id THEN x.{c} ELSE 0 END)")
            }
        })
        .collect();
    [
        ("M", "m", month_from.to_owned(), month_to.to_owned()),
        (
            "Y",
            "y",
            d.start_of(month_from, "year"),
            d.start_of(month_to, "year"),
        ),
    ]
    .into_iter()
    .map(|(grain, below, lo, hi)| {
        (
            format!("town totals ({below})"),
            format!(
                "INSERT INTO {target} (org_unit_id, grain, day, town_id, kind, {columns}) \
                 SELECT x.town_id, '{grain}', x.day, x.town_id, 'town', {sums} \
                 FROM {target} x WHERE x.grain = '{below}' AND x.day >= {lo} AND x.day <= {hi} \
                 AND x.town_id IS NOT NULL GROUP BY x.town_id, x.day",
                columns = COLUMNS.join(", "),
                sums = sums.join(", "),
            ),
        )
    })
    .collect()
}

/// `INSERT` of the all-time rows of `target` from its year rows (which must have been
/// removed first, with [`clear_statements`]): the cumulative columns, for the units that
/// have any.
pub fn all_time_rows(backend: DbBackend, target: &str) -> String {
    let d = Dialect::of(backend);
    let sums: Vec<String> = CUMULATIVE.iter().map(|c| format!("SUM({c})")).collect();
    let nonzero: Vec<String> = CUMULATIVE
        .iter()
        .map(|c| format!("SUM({c}) <> 0"))
        .collect();
    format!(
        "INSERT INTO {target} (org_unit_id, grain, day, town_id, kind, {columns}) \
         SELECT x.org_unit_id, 'a', {first}, MAX(x.town_id), MAX(x.kind), {sums} \
         FROM {target} x WHERE x.grain = 'y' GROUP BY x.org_unit_id HAVING {nonzero}",
        columns = CUMULATIVE.join(", "),
        first = d.date(FIRST_DAY),
        sums = sums.join(", "),
        nonzero = nonzero.join(" OR "),
    )
}

/// A day (`YYYY-MM-DD`) as an SQL date literal.
pub fn date_literal(backend: DbBackend, day: &str) -> String {
    Dialect::of(backend).date(day)
}

/// The first day a rollup may hold (`YYYY-MM-DD`).
pub const FIRST_DAY: &str = "1900-01-01";
/// The last day a rollup may hold.
pub const LAST_DAY: &str = "2999-12-31";

/// The first and last day a rollup may hold, as SQL literals: a rebuild of everything.
pub fn all_days(backend: DbBackend) -> (String, String) {
    (
        date_literal(backend, FIRST_DAY),
        date_literal(backend, LAST_DAY),
    )
}

/// The first day of the month (`unit` = `month`) or year (`year`) of the SQL date `day`.
pub fn start_of(backend: DbBackend, day: &str, unit: &str) -> String {
    Dialect::of(backend).start_of(day, unit)
}

/// The grains a row may have.
pub const GRAIN_CHECK: &str = "grain IN ('d', 'm', 'y', 'M', 'Y', 'a')";

/// `CREATE [TEMPORARY] TABLE name` shaped like `figure_rollup` (a temporary one is dropped
/// at the end of its transaction on PostgreSQL, and goes with its rollback on SQLite).
pub fn create_table(backend: DbBackend, name: &str, temporary: bool) -> String {
    let figures: String = COLUMNS
        .iter()
        .map(|c| format!(", {c} BIGINT NOT NULL DEFAULT 0"))
        .collect();
    let (temp, on_commit) = match (temporary, Dialect::of(backend)) {
        (false, _) => ("", ""),
        (true, Dialect::Postgres) => ("TEMPORARY ", " ON COMMIT DROP"),
        (true, Dialect::Sqlite) => ("TEMPORARY ", ""),
    };
    format!(
        "CREATE {temp}TABLE {name} (org_unit_id BIGINT NOT NULL, grain TEXT NOT NULL \
         CONSTRAINT ck_{name}_grain CHECK ({GRAIN_CHECK}), \
         day DATE NOT NULL, town_id BIGINT, kind TEXT NOT NULL{figures}, \
         CONSTRAINT pk_{name} PRIMARY KEY (org_unit_id, grain, day)){on_commit}"
    )
}

/// Every statement of a rebuild of the days `[from, to]` (SQL date literals) of
/// `figure_rollup`, with what each does: the activities' kept counts, the removal of the rows
/// recomputed, then [`rebuild_statements`].
pub fn rebuild_plan(backend: DbBackend, from: &str, to: &str) -> Vec<(String, String)> {
    let mut out = vec![("activity counts".to_owned(), recount_activities())];
    out.extend(
        clear_statements(backend, "figure_rollup", from, to)
            .into_iter()
            .map(|s| ("clearing".to_owned(), s)),
    );
    out.extend(rebuild_statements(backend, "figure_rollup", from, to));
    out
}

/// Removes the rows of `target` a rebuild of `[from, to]` recomputes: the days, the months
/// and years they fall in and their towns' totals (those are added up again from the days)
/// and the all-time rows.
pub fn clear_statements(backend: DbBackend, target: &str, from: &str, to: &str) -> Vec<String> {
    let d = Dialect::of(backend);
    vec![
        format!("DELETE FROM {target} WHERE grain = 'd' AND day >= {from} AND day <= {to}"),
        format!(
            "DELETE FROM {target} WHERE grain IN ('m', 'M') AND day >= {} AND day <= {}",
            d.start_of(from, "month"),
            d.start_of(to, "month")
        ),
        format!(
            "DELETE FROM {target} WHERE grain IN ('y', 'Y') AND day >= {} AND day <= {}",
            d.start_of(from, "year"),
            d.start_of(to, "year")
        ),
        // Added up again from every year row.
        format!("DELETE FROM {target} WHERE grain = 'a'"),
    ]
}

/// Each kept column of an activity (the loop counts and the approval) with the expression
/// that recounts it from the raw rows, for the activity row `activity`.
pub fn activity_recounts() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = vec![(
        "signup_count",
        "(SELECT COUNT(*) FROM activity_signup r WHERE r.activity_id = activity.id)".into(),
    )];
    out.extend(KEPT.iter().map(|k| {
        let when = k.when.replace("ends_at", "activity.ends_at");
        let (from, key) = k.recount;
        (
            k.column,
            format!(
                "(SELECT COUNT(*) FROM {from} WHERE {key} = activity.id AND ({when}))",
                when = render(&when, "r", "p"),
            ),
        )
    }));
    out.push(("heavyweight_approved", approved("activity.id")));
    out
}

/// The statement that recounts every activity's kept columns from the raw rows (a rebuild;
/// the triggers keep them between rebuilds): each count grouped once over its whole table
/// and joined to the activities, so that a rebuild is linear in the rows whatever the
/// indexes.
pub fn recount_activities() -> String {
    let mut groups: Vec<(&str, String)> = vec![(
        "signup_count",
        "SELECT r.activity_id AS id, COUNT(*) AS n FROM activity_signup r GROUP BY r.activity_id"
            .to_owned(),
    )];
    for k in KEPT {
        let (from, key) = k.recount;
        let grouped = if k.when == "TRUE" {
            format!("SELECT {key} AS id, COUNT(*) AS n FROM {from} GROUP BY {key}")
        } else {
            // The condition reads the activity (its end): joined once.
            let when = render(&k.when.replace("ends_at", "act.ends_at"), "r", "p");
            format!(
                "SELECT {key} AS id, COUNT(*) AS n FROM {from} JOIN activity act ON act.id = {key} \
                 WHERE {when} GROUP BY {key}"
            )
        };
        groups.push((k.column, grouped));
    }
    groups.push((
        "heavyweight_approved",
        "SELECT ia.activity_id AS id, 1 AS n FROM incentive_application ia JOIN incentive_intent ii \
         ON ii.application_id = ia.id WHERE ia.status = 'approved' AND ii.intent = 'heavyweight' \
         AND ia.activity_id IS NOT NULL GROUP BY ia.activity_id"
            .to_owned(),
    ));
    let mut sets = Vec::new();
    let mut joins = Vec::new();
    for (i, (column, grouped)) in groups.iter().enumerate() {
        let value = if *column == "heavyweight_approved" {
            format!("(g{i}.n IS NOT NULL)")
        } else {
            format!("COALESCE(g{i}.n, 0)")
        };
        sets.push(format!("{column} = {value}"));
        joins.push(format!("LEFT JOIN ({grouped}) g{i} ON g{i}.id = a.id"));
    }
    format!(
        "UPDATE activity SET {} FROM activity a {} WHERE a.id = activity.id",
        sets.join(", "),
        joins.join(" ")
    )
}

/// The statements that put the settings `new` (every one of [`SETTINGS`], by name) in force
/// in place of `old`: every row of a family whose contribution they move (whether it counts,
/// or the day it counts on) is taken away as `old` counted it and added as `new` counts it,
/// then the settings are replaced. Nothing happens when they are the same.
pub fn change_settings(
    backend: DbBackend,
    old: &[(&str, i64)],
    new: &[(&str, i64)],
) -> Vec<String> {
    let d = Dialect::of(backend);
    let mut out = Vec::new();
    for f in FAMILIES {
        let (when_old, when_new) = (with_settings(f.when, old), with_settings(f.when, new));
        let (at_old, at_new) = (at_with(f.at, old), at_with(f.at, new));
        if when_old == when_new && at_old == at_new {
            continue;
        }
        assert!(
            !DISTINCT_DAYS.iter().any(|(kept, _)| *kept == f.column),
            "the settings move no distinct-day column"
        );
        let before = Family {
            when: &when_old,
            at: at_old.as_at(),
            ..*f
        };
        let after = Family {
            when: &when_new,
            at: at_new.as_at(),
            ..*f
        };
        // Only the rows whose contribution moves.
        let guard = format!(
            "NOT (({}) = ({}) AND {} = {})",
            render(before.when, "r", "p"),
            render(after.when, "r", "p"),
            before.day(d, "r", "p"),
            after.day(d, "r", "p"),
        );
        for (family, sign) in [(&before, "-"), (&after, "")] {
            out.push(bump(
                d,
                Keeping::WithTotals,
                family,
                Source::All,
                sign,
                &guard,
                "figure_rollup",
            ));
        }
    }
    out.extend(write_settings(new));
    out
}

/// An [`At`] whose expressions own their text.
#[derive(PartialEq)]
enum OwnedAt {
    Instant(String),
    Day(String),
    Later(String, String),
}

impl OwnedAt {
    fn as_at(&self) -> At<'_> {
        match self {
            Self::Instant(a) => At::Instant(a),
            Self::Day(a) => At::Day(a),
            Self::Later(a, b) => At::Later(a, b),
        }
    }
}

fn at_with(at: At<'_>, values: &[(&str, i64)]) -> OwnedAt {
    match at {
        At::Instant(a) => OwnedAt::Instant(with_settings(a, values)),
        At::Day(a) => OwnedAt::Day(with_settings(a, values)),
        At::Later(a, b) => OwnedAt::Later(with_settings(a, values), with_settings(b, values)),
    }
}

/// The statements that put `conditions` (figure name, least value) in force as the activity
/// rules' conditions: every activity that counts for its publisher and whose eligibility
/// they change moves in or out of `eligible_activities`, then the conditions are replaced.
/// Nothing happens when they are those in force already (the caller compares).
pub fn change_conditions(backend: DbBackend, conditions: &[(&str, i64)]) -> Vec<String> {
    let d = Dialect::of(backend);
    let new = if conditions.is_empty() {
        "(SELECT '' AS figure, 0 AS at_least WHERE 1 = 0)".to_owned()
    } else {
        let rows: Vec<String> = conditions
            .iter()
            .map(|(figure, at_least)| {
                format!(
                    "SELECT '{}' AS figure, {at_least} AS at_least",
                    figure.replace('\'', "''")
                )
            })
            .collect();
        format!("({})", rows.join(" UNION ALL "))
    };
    let (old, new) = (
        eligible("r", "activity_rule_condition"),
        eligible("r", &new),
    );
    let when = format!("{{counted_r}} AND ({old}) <> ({new})");
    let amount = format!("CASE WHEN {new} THEN 1 ELSE -1 END");
    let family = Family {
        amount: &amount,
        when: &when,
        ..FAMILIES
            .iter()
            .find(|f| f.column == "eligible_activities")
            .copied()
            .expect("eligible activities are a family")
    };
    let mut out = vec![bump(
        d,
        Keeping::WithTotals,
        &family,
        Source::All,
        "",
        "TRUE",
        "figure_rollup",
    )];
    out.push("DELETE FROM activity_rule_condition".into());
    for (figure, at_least) in conditions {
        out.push(format!(
            "INSERT INTO activity_rule_condition (figure, at_least) VALUES ('{}', {at_least})",
            figure.replace('\'', "''")
        ));
    }
    out
}
