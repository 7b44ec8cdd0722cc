//! The report addresses, behind the same gate as `/graphql` (token, rate limit) and
//! authorised like the `report` query:
//!
//! - `GET /reports/{kind}/{period}` — the city's report as a printable page; `.xlsx` and
//!   `.csv` after the period give the workbook and the table;
//! - `GET /reports/{kind}/{period}/{town}` — a town's (the town by name, code or id), the
//!   same three ways;
//! - `?district=d1` on the city's address — a supervision district's (by code, name or
//!   id): its towns only, each with its place among them.
//!
//! `kind` is `weekly` or `monthly`. Errors are answered as GraphQL errors are, with
//! `extensions.code` and the matching HTTP status.

use axum::{
    extract::{Extension, Path, Query, State},
    http::{header, HeaderValue, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;

use crate::http::AppState;
use qii_domain::{
    authz::withhold_script_internals,
    error::{code, ServiceError, ServiceResult},
    identity::Actor,
};
use qii_reports::{build, find_district, find_town, page, parse_period, Report, ReportKind};

/// The report routes (the caller adds the gate).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports/{kind}/{period}", get(city))
        .route("/reports/{kind}/{period}/{town}", get(town))
}

/// What the last segment of the address asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Page,
    Xlsx,
    Csv,
}

/// The segment without its extension, and the format the extension asks for.
pub fn split_format(segment: &str) -> (&str, Format) {
    if let Some(stem) = segment.strip_suffix(".xlsx") {
        (stem, Format::Xlsx)
    } else if let Some(stem) = segment.strip_suffix(".csv") {
        (stem, Format::Csv)
    } else {
        (segment, Format::Page)
    }
}

/// The query of a report's address: `?district=` for a district's report.
#[derive(serde::Deserialize)]
struct Scope {
    district: Option<String>,
}

async fn city(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((kind, period)): Path<(String, String)>,
    Query(scope): Query<Scope>,
    uri: Uri,
) -> Response {
    let (period, format) = split_format(&period);
    let within = Within {
        town: None,
        district: scope.district.as_deref(),
    };
    respond(&state, &actor, &kind, period, within, format, &uri).await
}

async fn town(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((kind, period, town)): Path<(String, String, String)>,
    uri: Uri,
) -> Response {
    let (town, format) = split_format(&town);
    let within = Within {
        town: Some(town),
        district: None,
    };
    respond(&state, &actor, &kind, &period, within, format, &uri).await
}

/// Whose report an address asks for: a town's, a district's or (neither) the city's.
#[derive(Clone, Copy)]
struct Within<'a> {
    town: Option<&'a str>,
    district: Option<&'a str>,
}

async fn respond(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    period: &str,
    within: Within<'_>,
    format: Format,
    uri: &Uri,
) -> Response {
    let Some(kind) = ReportKind::from_slug(kind) else {
        return error_response(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            &format!("there is no `{kind}` report: the reports are `weekly` and `monthly`"),
        );
    };
    let report = match gather(state, actor, kind, period, within).await {
        Ok(report) => report,
        Err(err) => return service_error(actor, err),
    };
    let name = file_name(&report);
    match format {
        Format::Xlsx => match qii_reports::xlsx::workbook(&report) {
            Ok(bytes) => download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{name}.xlsx"),
            ),
            Err(err) => internal(actor, anyhow::anyhow!("writing the workbook: {err}")),
        },
        Format::Csv => match qii_reports::csv::table(&report) {
            Ok(bytes) => download(bytes, "text/csv; charset=utf-8", &format!("{name}.csv")),
            Err(err) => internal(actor, anyhow::anyhow!("writing the CSV: {err}")),
        },
        Format::Page => {
            // Downloads keep a token that came in the address, so that they work too, and
            // the district a district's report is of.
            let links = uri
                .query()
                .filter(|q| q.contains("access_token=") || q.contains("district="))
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let base = uri.path().trim_end_matches('/');
            match page::render(&report, base, &links) {
                Ok(html) => private(Html(html).into_response()),
                Err(err) => internal(actor, anyhow::anyhow!("rendering the report page: {err}")),
            }
        }
    }
}

async fn gather(
    state: &AppState,
    actor: &Actor,
    kind: ReportKind,
    period: &str,
    within: Within<'_>,
) -> ServiceResult<Report> {
    let period = parse_period(kind, period)?;
    let town = match within.town {
        Some(text) => Some(find_town(&state.db, text).await?.id),
        None => None,
    };
    let district = match within.district {
        Some(text) => Some(find_district(&state.db, text).await?.id),
        None => None,
    };
    build(
        &state.db,
        actor,
        &state.rules,
        kind,
        &period,
        town,
        district,
    )
    .await
}

/// `qii-monthly-2017-11` or `qii-monthly-2017-11-虎门`.
pub fn file_name(report: &Report) -> String {
    match (&report.town, &report.district) {
        (Some(town), _) => format!("qii-{}-{}-{}", report.kind.slug(), report.period, town.name),
        (None, Some(district)) => {
            format!(
                "qii-{}-{}-{}",
                report.kind.slug(),
                report.period,
                district.name
            )
        }
        (None, None) => format!("qii-{}-{}", report.kind.slug(), report.period),
    }
}

fn download(bytes: Vec<u8>, media: &'static str, name: &str) -> Response {
    // An ASCII name for old clients, the real one (RFC 6266/5987) for the others.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, media)], bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    private(response)
}

/// Reports hold private data, and their address may hold a token: not cached, not referred.
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The answer to a failed report, as `actor` may see it: a rule error's internals are
/// withheld from anyone but rule and city administrators.
fn service_error(actor: &Actor, err: ServiceError) -> Response {
    let code = err.code();
    let status = match code {
        code::BAD_USER_INPUT => StatusCode::BAD_REQUEST,
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::RULE_ERROR => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut error = async_graphql::Error::from(err);
    withhold_script_internals(actor, &mut error.message, error.extensions.as_mut());
    let mut response = error_response(status, code, &error.message);
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn internal(actor: &Actor, err: anyhow::Error) -> Response {
    service_error(actor, ServiceError::Internal(err))
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    private((status, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(split_format("2017-11.xlsx"), ("2017-11", Format::Xlsx));
        assert_eq!(split_format("虎门.csv"), ("虎门", Format::Csv));
        assert_eq!(split_format("2017-W45"), ("2017-W45", Format::Page));
    }
}
