//! `GET /photos/{folder}/{file}`: the photos uploaded with `uploadActivityPhoto` and their
//! thumbnails, from the data directory, at the path that is the photo's `url`.
//!
//! Photos are as public as the activities they show, so the route asks for no token and
//! spends no rate budget (a page of thumbnails is many requests). A stored file never
//! changes, so clients and proxies may keep it for a year; its name is its `ETag`.

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use super::AppState;

/// How long a stored photo may be kept by clients and proxies: it never changes.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

pub fn router() -> Router<AppState> {
    Router::new().route("/photos/{folder}/{file}", get(photo))
}

async fn photo(
    State(state): State<AppState>,
    Path((folder, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("photos/{folder}/{file}");
    let etag = format!("\"{file}\"");
    let read = match state.photos.read(&path).await {
        Ok(Some(read)) => read,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such photo").into_response(),
        Err(err) => {
            tracing::error!(error = %err, %path, "a stored photo could not be read");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the photo could not be read",
            )
                .into_response();
        }
    };
    let (bytes, kind) = read;
    let mut response = if revalidates(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, kind.media_type())], bytes).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_FOREVER),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// Whether the client already holds this file (`If-None-Match` names its tag, or `*`).
fn revalidates(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}
