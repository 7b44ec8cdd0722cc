//! Errors of the service layer and their GraphQL form.
//!
//! Every error reaching a client carries `extensions.code`; database and internal detail
//! is logged, never sent.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

pub use qii_engine::code;

pub mod unique;

/// What can go wrong in a service call.
///
/// It deliberately does not implement `Display`: async-graphql converts any `Display`
/// type into an error without a code, and this type must only reach clients through
/// its own conversion below, which always sets `extensions.code`.
#[derive(Debug)]
pub enum ServiceError {
    /// The input cannot be accepted; `field` names the offending input field.
    BadInput {
        field: Option<&'static str>,
        message: String,
    },
    /// A referenced record does not exist.
    NotFound { entity: &'static str, id: String },
    /// The caller must authenticate first.
    Unauthenticated,
    /// Credentials were presented and refused (a wrong password, a spent refresh token).
    BadCredentials(String),
    /// The caller may not do this.
    Forbidden(String),
    /// Too many attempts: the caller must wait (sign-in throttling).
    Throttled(String),
    /// The work ran past its deadline and was stopped.
    TimedOut(String),
    /// A database failure.
    Database(DbErr),
    /// A rule script failed (compile, run or declaration); located in the script.
    Rule(qii_engine::rules::RuleError),
    /// A change of the rules was refused: every error its checks found.
    RulesRejected(Vec<qii_engine::rules::RuleError>),
    /// Some rows of a batch are invalid, each listed; nothing was written.
    Rows(Vec<RowRejection>),
    /// Anything else unexpected.
    Internal(anyhow::Error),
}

/// Why one row of a batch (an import) was refused: one entry per problem, so a row with
/// two bad fields is listed twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRejection {
    /// Position of the row in the batch, from 0.
    pub index: usize,
    /// The input field at fault, as the client named it; none when the row as a whole is.
    pub field: Option<&'static str>,
    /// What is wrong, for a person to put right.
    pub reason: String,
}

impl RowRejection {
    /// A problem with one field of the row at `index`.
    pub fn new(index: usize, field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            index,
            field: Some(field),
            reason: reason.into(),
        }
    }

    /// The row number a person counts: from 1.
    pub fn row(&self) -> usize {
        self.index + 1
    }
}

/// Rejected rows named in an error's message; `extensions.rows` lists them all.
const ROWS_IN_MESSAGE: usize = 20;

impl From<qii_engine::rules::RuleError> for ServiceError {
    fn from(err: qii_engine::rules::RuleError) -> Self {
        Self::Rule(err)
    }
}

impl From<crate::scoring::ScoringError> for ServiceError {
    fn from(err: crate::scoring::ScoringError) -> Self {
        match err {
            crate::scoring::ScoringError::Rule(e) => Self::Rule(e),
            crate::scoring::ScoringError::Database(e) => Self::Database(e),
        }
    }
}

impl From<DbErr> for ServiceError {
    fn from(err: DbErr) -> Self {
        Self::Database(err)
    }
}

impl From<anyhow::Error> for ServiceError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

/// Result of a service call.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// Bad input in one named field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: Some(field),
            message: message.into(),
        }
    }

    /// Bad input not tied to one field (e.g. a state conflict).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::BadInput {
            field: None,
            message: message.into(),
        }
    }

    /// A missing record of the given kind.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// The `extensions.code` for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadInput { .. } => code::BAD_USER_INPUT,
            Self::NotFound { .. } => code::NOT_FOUND,
            Self::Unauthenticated | Self::BadCredentials(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::Throttled(_) => code::RATE_LIMITED,
            Self::TimedOut(_) => code::TIMEOUT,
            Self::Database(e) if is_timeout(e) => code::TIMEOUT,
            Self::Rule(_) | Self::RulesRejected(_) => code::RULE_ERROR,
            Self::Rows(_) => code::BAD_USER_INPUT,
            Self::Database(e) if e.sql_err().is_some() => code::BAD_USER_INPUT,
            Self::Database(_) | Self::Internal(_) => code::INTERNAL,
        }
    }

    /// The error as an operator at the command line sees it: the client's message for
    /// input problems, every detail of a failure.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            Self::Database(err) => err.into(),
            Self::Internal(err) => err,
            other => anyhow::anyhow!(other.client_message()),
        }
    }

    /// The named unique constraint a write ran into, if that is what failed.
    fn clashed(&self) -> Option<&'static unique::Unique> {
        match self {
            Self::Database(e) => match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(message)) => unique::violated(&message),
                _ => None,
            },
            _ => None,
        }
    }

    /// The message a client sees: specific for input problems, generic for failures.
    fn client_message(&self) -> String {
        match self {
            Self::Database(e) if is_timeout(e) => {
                "the request ran past its deadline and its database work was stopped".into()
            }
            Self::Database(e) => match e.sql_err() {
                // Constraints are the last line of defence behind validation (e.g. two
                // concurrent sign-ups); say what clashed without leaking SQL.
                Some(SqlErr::UniqueConstraintViolation(_)) => self
                    .clashed()
                    .map_or("this record already exists (a uniqueness rule was violated)", |u| {
                        u.message
                    })
                    .into(),
                Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                    "a referenced record does not exist or is still in use".into()
                }
                _ => "internal error; it has been logged".into(),
            },
            Self::Internal(_) => "internal error; it has been logged".into(),
            Self::BadInput { message, .. } => message.clone(),
            Self::NotFound { entity, id } => format!("{entity} {id} does not exist"),
            Self::Unauthenticated => "sign in first: send `Authorization: Bearer <token>` (the `login` mutation gives one)".into(),
            Self::BadCredentials(message) => message.clone(),
            Self::Forbidden(message) | Self::Throttled(message) | Self::TimedOut(message) => {
                message.clone()
            }
            Self::Rule(err) => err.to_string(),
            Self::RulesRejected(errors) => format!(
                "the change was rejected and the rules in force stay: {}",
                qii_engine::rules::sandbox::summary(errors)
            ),
            Self::Rows(rows) => {
                let mut listed: Vec<String> = rows
                    .iter()
                    .take(ROWS_IN_MESSAGE)
                    .map(|r| match r.field {
                        Some(field) => format!("row {} `{field}`: {}", r.row(), r.reason),
                        None => format!("row {}: {}", r.row(), r.reason),
                    })
                    .collect();
                if rows.len() > ROWS_IN_MESSAGE {
                    listed.push(format!(
                        "and {} more (see extensions.rows)",
                        rows.len() - ROWS_IN_MESSAGE
                    ));
                }
                let refused: std::collections::BTreeSet<usize> =
                    rows.iter().map(|r| r.index).collect();
                format!(
                    "{} row(s) refused, nothing was written: {}",
                    refused.len(),
                    listed.join("; ")
                )
            }
        }
    }
}

/// A statement PostgreSQL cancelled at the request deadline (`statement_timeout`).
fn is_timeout(err: &DbErr) -> bool {
    err.to_string()
        .contains("canceling statement due to statement timeout")
}

impl From<ServiceError> for async_graphql::Error {
    fn from(err: ServiceError) -> Self {
        if err.code() == code::INTERNAL {
            tracing::error!(error = ?err, "request failed");
        }
        let message = err.client_message();
        let field = match &err {
            ServiceError::BadInput { field, .. } => *field,
            ServiceError::Rows(_) => Some("rows"),
            ServiceError::Database(_) => err.clashed().and_then(|u| u.field),
            _ => None,
        };
        let rows = match &err {
            ServiceError::Rows(rows) => Some(rows_value(rows)),
            _ => None,
        };
        let located = match &err {
            ServiceError::Rule(rule) => Some(rule.clone()),
            ServiceError::RulesRejected(errors) => errors.first().cloned(),
            _ => None,
        };
        let all_errors: Option<Vec<String>> = match &err {
            ServiceError::RulesRejected(errors) => {
                Some(errors.iter().map(ToString::to_string).collect())
            }
            _ => None,
        };
        let details: Option<async_graphql::Value> = match &err {
            ServiceError::RulesRejected(errors) => Some(rule_errors_value(errors)),
            _ => None,
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", err.code());
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(rule) = &located {
                ext.set("script", rule.script.as_str());
                if let Some(line) = rule.line {
                    ext.set("line", line as i64);
                }
                if let Some(column) = rule.column {
                    ext.set("column", column as i64);
                }
                if let Some(path) = &rule.path {
                    ext.set("keyPath", path.as_str());
                }
                if let Some(unit) = rule.unit {
                    ext.set("orgUnitId", unit.to_string());
                }
            }
            if let Some(errors) = &all_errors {
                ext.set("errors", errors.clone());
            }
            if let Some(details) = &details {
                ext.set("ruleErrors", details.clone());
            }
            if let Some(rows) = &rows {
                ext.set("rows", rows.clone());
            }
        })
    }
}

/// `extensions.ruleErrors`: `{ script, line, column, keyPath, message }` per error, for an
/// editor to mark each where it is.
pub fn rule_errors_value(errors: &[qii_engine::rules::RuleError]) -> async_graphql::Value {
    async_graphql::Value::from_json(rule_errors_json(errors)).unwrap_or_default()
}

/// Rule errors as JSON: `{ script, line, column, keyPath, message }` each, as the API gives
/// them and the history keeps them.
pub fn rule_errors_json(errors: &[qii_engine::rules::RuleError]) -> serde_json::Value {
    errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "script": e.script,
                "line": e.line,
                "column": e.column,
                "keyPath": e.path,
                "message": e.message,
            })
        })
        .collect()
}

/// `extensions.rows`: `{ row, index, field, reason }` per problem (`row` from 1, `index`
/// from 0, `field` null when the row as a whole is at fault).
fn rows_value(rows: &[RowRejection]) -> async_graphql::Value {
    let rows = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "row": r.row(),
                "index": r.index,
                "field": r.field,
                "reason": r.reason,
            })
        })
        .collect();
    async_graphql::Value::from_json(serde_json::Value::Array(rows)).unwrap_or_default()
}

/// A GraphQL error with a code, for checks made in the GraphQL layer itself
/// (e.g. malformed ids or cursors).
pub fn bad_input(message: impl Into<String>) -> async_graphql::Error {
    ServiceError::conflict(message).into()
}
