//! Photos of an activity: web URLs or stored files, with their upload time.
//!
//! Photos uploaded after the activity ended are a step of the loop (活动闭环).

use crate::authz;

use chrono::{DateTime, Utc};
use entities::activity_photo;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select,
};

use super::{activity_loop::activity_ref, find, opt_text, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
};

/// Longest photo URL or path accepted.
const URL_MAX: usize = 2_000;
/// Longest photo caption accepted.
const CAPTION_MAX: usize = 200;

/// The photos a caller may list, of one activity or of all.
pub fn photos(_actor: &Actor, activity_id: Option<i64>) -> Select<activity_photo::Entity> {
    let mut select = activity_photo::Entity::find();
    if let Some(activity) = activity_id {
        select = select.filter(activity_photo::Column::ActivityId.eq(activity));
    }
    select
}

/// A new photo.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub activity_id: i64,
    pub url: String,
    pub caption: Option<String>,
}

/// Adds a photo to an activity, uploaded now. Photos may come at any time; those
/// uploaded after the activity ended are the ones the loop looks for.
pub async fn add_photo(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewPhoto,
    now: DateTime<Utc>,
) -> ServiceResult<activity_photo::Model> {
    let url = parse_photo_url(&input.url)?;
    let caption = opt_text("caption", input.caption.as_deref(), CAPTION_MAX)?;
    let activity = activity_ref(db, input.activity_id).await?;
    authz::require_unit(
        db,
        actor,
        activity.org_unit_id,
        "add photos to its activities",
    )
    .await?;
    let model = activity_photo::ActiveModel {
        activity_id: Set(activity.id),
        url: Set(url),
        caption: Set(caption),
        uploaded_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Changes a photo's caption: `None` leaves it, `Some(None)` clears it.
pub async fn update_photo(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    caption: Option<Option<String>>,
) -> ServiceResult<activity_photo::Model> {
    let current = find::<activity_photo::Entity>(db, "photo", id).await?;
    let unit = super::activity::unit_of_activity(db, current.activity_id).await?;
    authz::require_unit(db, actor, unit, "change photos of its activities").await?;
    let Some(caption) = caption else {
        return Ok(current);
    };
    let caption = opt_text("caption", caption.as_deref(), CAPTION_MAX)?;
    let mut model: activity_photo::ActiveModel = current.into();
    model.caption = Set(caption);
    Ok(model.update(db).await?)
}

/// A photo is an `http(s)://` URL with a host, or a relative path of a stored file
/// (no leading `/`, no `..` segment, no scheme, no backslash, no whitespace).
fn parse_photo_url(url: &str) -> ServiceResult<String> {
    let url = text("url", url, URL_MAX)?;
    let bad =
        |why: &str| ServiceError::invalid("url", format!("`{url}` is not a photo address: {why}"));
    if url.chars().any(char::is_whitespace) {
        return Err(bad("it contains whitespace"));
    }
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() {
            return Err(bad("the URL has no host"));
        }
        return Ok(url);
    }
    if url.contains(':') {
        return Err(bad("only http and https URLs are accepted"));
    }
    if url.starts_with('/') || url.contains('\\') {
        return Err(bad(
            "a stored file is named by a relative path with `/` separators",
        ));
    }
    if url
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err(bad(
            "a stored file path may not contain empty, `.` or `..` segments",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_addresses_are_web_urls_or_relative_stored_paths() {
        assert!(parse_photo_url("https://img.example.cn/a/b.jpg").is_ok());
        assert!(parse_photo_url("HTTP://img.example.cn").is_ok());
        assert!(parse_photo_url("photos/2017/11/a.jpg").is_ok());
        for bad in [
            "../etc/passwd",
            "photos/../../x",
            "/var/x.jpg",
            "javascript:alert(1)",
            "https:///x",
            "a b.jpg",
            "a//b",
            "",
        ] {
            assert!(parse_photo_url(bad).is_err(), "{bad}");
        }
    }
}
