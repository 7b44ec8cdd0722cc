//! The service layer: validation, authorisation and transactions over the entities.
//!
//! Resolvers call these functions with the acting identity; they return typed
//! [`ServiceError`]s. Nothing here knows about HTTP; the list filters double as GraphQL
//! input types, so that a filter is declared once.

pub mod accounts;
pub mod activity;
pub mod activity_counts;
pub mod activity_feedback;
pub mod activity_loop;
pub mod activity_photo;
pub mod audit;
pub mod compliance;
pub mod contest;
pub mod expert;
pub mod experts_eval;
pub mod figures;
pub mod filter;
pub mod heavyweight;
pub mod improvement;
pub mod incentive;
pub mod incentive_eligibility;
pub mod member;
pub mod operations;
pub mod org;
pub mod persisted;
pub mod platform_training;
pub mod qa;
pub mod rules;
pub mod scoring;
pub mod service_request;
pub mod stats;
pub mod supervision;
pub mod topic;

use entities::HasId;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

use crate::error::{ServiceError, ServiceResult};

/// Fetches a row by id, or a NOT_FOUND error naming what was missing.
pub async fn find<E: HasId>(
    db: &impl ConnectionTrait,
    what: &'static str,
    id: i64,
) -> ServiceResult<E::Model> {
    E::find()
        .filter(E::id_column().eq(id))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found(what, id))
}

/// Fetches a row referenced from an input, or BAD_USER_INPUT naming the input field.
pub async fn referenced<E: HasId>(
    db: &impl ConnectionTrait,
    field: &'static str,
    what: &'static str,
    id: i64,
) -> ServiceResult<E::Model> {
    find::<E>(db, what, id).await.map_err(|err| match err {
        ServiceError::NotFound { .. } => {
            ServiceError::invalid(field, format!("{what} {id} does not exist"))
        }
        other => other,
    })
}

/// An enumeration's value as GraphQL spells it (`TRAINING`), for messages.
pub fn enum_name<E: async_graphql::EnumType>(value: E) -> &'static str {
    E::items()
        .iter()
        .find(|item| item.value == value)
        .map_or("?", |item| item.name)
}

/// Mainland mobile numbers: 11 digits starting with 1, spaces and dashes ignored;
/// blank means none.
pub fn parse_mobile(field: &'static str, mobile: &str) -> ServiceResult<Option<String>> {
    let digits: String = mobile.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    let ok =
        digits.len() == 11 && digits.starts_with('1') && digits.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(Some(digits))
    } else {
        Err(ServiceError::invalid(
            field,
            format!("`{mobile}` is not a mobile number (11 digits starting with 1)"),
        ))
    }
}

/// Refuses a value already held by another row in a unique column, naming the field.
/// The unique index stays the final guard against races; this gives the clear message.
pub async fn ensure_unique<E: HasId>(
    db: &impl ConnectionTrait,
    column: E::Column,
    value: &str,
    except: Option<i64>,
    field: &'static str,
) -> ServiceResult<()> {
    let clash = E::find()
        .filter(column.eq(value))
        .filter(E::id_column().ne(except.unwrap_or(-1)))
        .one(db)
        .await?;
    match clash {
        Some(other) => Err(ServiceError::invalid(
            field,
            format!("`{value}` is already used (by id {})", E::id_of(&other)),
        )),
        None => Ok(()),
    }
}

/// A required text field: trimmed, non-empty, at most `max` characters.
pub fn text(field: &'static str, value: &str, max: usize) -> ServiceResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    let len = value.chars().count();
    if len > max {
        return Err(ServiceError::invalid(
            field,
            format!("`{field}` is {len} characters long; at most {max} are allowed"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional text field: blank becomes none.
pub fn opt_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> ServiceResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

pub use qii_engine::names::snake_name;

/// A LIKE pattern matching `needle` anywhere, with wildcards in the needle escaped.
pub fn contains_pattern(needle: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped: String = needle
        .trim()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// Runs `work` with the version of policy rule set `set` in effect for `period` — on the
/// script pool, never on an async worker.
pub async fn with_policy<T, F>(
    registry: &std::sync::Arc<qii_engine::rules::Registry>,
    set: &'static str,
    period: qii_engine::period::Period,
    work: F,
) -> ServiceResult<T>
where
    T: Send + 'static,
    F: FnOnce(
            &qii_engine::rules::policy::PolicyVersion,
            &qii_engine::rules::Sandbox,
        ) -> Result<T, qii_engine::rules::RuleError>
        + Send
        + 'static,
{
    let rules = registry.clone();
    Ok(registry
        .sandbox
        .run(move || {
            let policy = rules.policy_for(set, &period)?;
            work(policy, &rules.sandbox)
        })
        .await??)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("name", "  石碣 ", 10).ok().as_deref(), Some("石碣"));
        assert!(text("name", "   ", 10).is_err());
        assert!(text("name", "abcdef", 5).is_err());
        assert_eq!(opt_text("place", Some(" "), 5).ok(), Some(None));
    }

    #[test]
    fn mobile_numbers_are_normalised_and_blank_means_none() {
        assert_eq!(
            parse_mobile("mobile", "138 1234-5678")
                .ok()
                .flatten()
                .as_deref(),
            Some("13812345678")
        );
        assert_eq!(parse_mobile("mobile", " ").ok(), Some(None));
        assert!(parse_mobile("mobile", "12345").is_err());
        assert!(parse_mobile("mobile", "2381234567a").is_err());
    }
}
