//! Photos of an activity: web URLs or files uploaded to the server ([`crate::photos`]),
//! with their upload time.
//!
//! Photos uploaded after the activity ended are a step of the loop (活动闭环).

use std::sync::Arc;

use crate::authz;

use chrono::{DateTime, Utc};
use entities::{activity, activity_photo};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Select,
};

use super::{activity_loop::activity_ref, find, opt_text, text};
use crate::{
    error::{ServiceError, ServiceResult},
    identity::Actor,
    photos::PhotoStore,
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
    let activity = photographed(db, actor, input.activity_id).await?;
    let photo = Recorded {
        activity_id: activity.id,
        url,
        thumbnail_url: None,
        caption,
    };
    photo.insert(db, now).await
}

/// A photo file sent to the server.
#[derive(Debug, Clone)]
pub struct PhotoUpload {
    pub activity_id: i64,
    /// The file's content as sent; its name and media type are not trusted.
    pub bytes: Vec<u8>,
    pub caption: Option<String>,
}

/// Stores an uploaded photo of an activity and its thumbnail, and records it as uploaded
/// when it was stored (so that it is a photo after the end exactly when a photo added by
/// address at that moment would be). Who may add a photo by address may upload one. The
/// file must be a JPEG, PNG or WebP picture by its content, within the store's limits;
/// a refused file is written nowhere, and no file outlives a row that could not be written.
pub async fn upload_photo(
    db: &DatabaseConnection,
    actor: &Actor,
    store: &PhotoStore,
    input: PhotoUpload,
) -> ServiceResult<activity_photo::Model> {
    let caption = opt_text("caption", input.caption.as_deref(), CAPTION_MAX)?;
    let activity = photographed(db, actor, input.activity_id).await?;
    let bytes = Arc::new(input.bytes);
    let picture = store.examine(bytes.clone()).await?;
    let db = db.clone();
    store
        .keep(bytes, picture, move |stored| async move {
            let photo = Recorded {
                activity_id: activity.id,
                url: stored.url,
                thumbnail_url: Some(stored.thumbnail_url),
                caption,
            };
            photo.insert(&db, Utc::now()).await
        })
        .await
}

/// The activity a new photo is for, when the caller may add photos to it.
async fn photographed(
    db: &DatabaseConnection,
    actor: &Actor,
    activity_id: i64,
) -> ServiceResult<activity::Model> {
    let activity = activity_ref(db, activity_id).await?;
    authz::require_unit(
        db,
        actor,
        activity.org_unit_id,
        "add photos to its activities",
    )
    .await?;
    Ok(activity)
}

/// A photo checked and ready to insert, by address or uploaded.
struct Recorded {
    activity_id: i64,
    url: String,
    thumbnail_url: Option<String>,
    caption: Option<String>,
}

impl Recorded {
    /// Inserts the photo as uploaded at `now`.
    async fn insert(
        self,
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> ServiceResult<activity_photo::Model> {
        let model = activity_photo::ActiveModel {
            activity_id: Set(self.activity_id),
            url: Set(self.url),
            thumbnail_url: Set(self.thumbnail_url),
            caption: Set(self.caption),
            uploaded_at: Set(now),
            ..Default::default()
        };
        Ok(model.insert(db).await?)
    }
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
        // The paths the photo store gives uploaded files.
        assert!(parse_photo_url("photos/3f/3f2c0d6e8a1b4c5d9e7f00112233445a.thumb.jpg").is_ok());
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
