//! Photos uploaded through the real server (a GraphQL multipart request): stored under the
//! data directory, served back with a thumbnail, counted as photos after the end exactly
//! when uploaded after it, and every bad upload refused with nothing written.

use std::path::{Path, PathBuf};

use image::{codecs::jpeg::JpegEncoder, DynamicImage};
use serde_json::{json, Value};

use crate::{
    activity_loop::{city, end, member, upcoming, SIGN_UP},
    both_databases,
    helpers::{first_error, TestApp},
};
use qii_domain::identity::Role;

const UPLOAD: &str = "mutation($i: UploadActivityPhotoInput!) {
    uploadActivityPhoto(input: $i) { id url thumbnailUrl caption afterEnd uploadedAt activity { id } }
}";

/// A file part of a multipart request: its part name in the `map`, file name, media type
/// and content.
struct Part<'a> {
    filename: &'a str,
    content_type: &'a str,
    bytes: &'a [u8],
}

/// A GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec)
/// uploading `part` as `variables.i.file`: its media type and body.
fn multipart(activity: &str, caption: Option<&str>, part: &Part) -> (String, Vec<u8>) {
    let boundary = "qii-test-boundary-7MA4YWxkTrZu0gW";
    let operations = json!({
        "query": UPLOAD,
        "variables": { "i": { "activityId": activity, "file": null, "caption": caption } }
    });
    let map = json!({ "0": ["variables.i.file"] });
    let mut body = Vec::new();
    for (name, value) in [("operations", operations), ("map", map)] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\
                 Content-Type: application/json\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{}\"\r\n\
             Content-Type: {}\r\n\r\n",
            part.filename, part.content_type
        )
        .as_bytes(),
    );
    body.extend_from_slice(part.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads `part` for `activity` as the holder of `token`; the whole JSON response.
async fn upload_as(
    app: &TestApp,
    token: Option<&str>,
    activity: &str,
    caption: Option<&str>,
    part: &Part<'_>,
) -> Value {
    let (content_type, body) = multipart(activity, caption, part);
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request reaches the server");
    assert_eq!(response.status(), 200);
    response.json().await.expect("response is JSON")
}

/// Uploads a JPEG as the city administrator; the stored photo.
async fn upload_jpeg(app: &TestApp, activity: &str, bytes: &[u8]) -> Value {
    let part = Part {
        filename: "合影.jpg",
        content_type: "image/jpeg",
        bytes,
    };
    let response = upload_as(app, Some(&app.token), activity, Some("合影"), &part).await;
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"]["uploadActivityPhoto"].clone()
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    }))
    .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
    .unwrap();
    out
}

/// A PNG whose header announces `side` × `side` pixels, its data a single pixel's: a few
/// dozen bytes that a decoder trusting the header would unpack into gigabytes.
fn png_bomb(side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 1, 1);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Sixteen);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[0; 8]).unwrap();
    writer.finish().unwrap();
    // IHDR: length (4), type (4), width and height (8), five bytes more, then its CRC.
    out[16..20].copy_from_slice(&side.to_be_bytes());
    out[20..24].copy_from_slice(&side.to_be_bytes());
    let crc = crc32(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

/// The CRC-32 of a PNG chunk (its type and data).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Every file under `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        for path in entries.map(|e| e.unwrap().path()) {
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

const JUDGED: &str = "query($id: ID!) { activity(id: $id) {
    photoCount photosAfterEnd eligibility { countsTowardIndex reasons }
    photos { nodes { url thumbnailUrl afterEnd } }
} }";

both_databases! {
    async fn an_uploaded_photo_is_stored_and_served_with_its_thumbnail(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let bytes = jpeg(1200, 800);
        let photo = upload_jpeg(&app, &activity, &bytes).await;
        let url = photo["url"].as_str().unwrap().to_owned();
        let thumbnail_url = photo["thumbnailUrl"].as_str().unwrap().to_owned();
        assert!(url.starts_with("photos/") && url.ends_with(".jpg"), "{photo}");
        assert!(!url.contains("合影"), "the client's file name is never used: {url}");
        assert!(thumbnail_url.ends_with(".thumb.jpg"), "{photo}");
        assert_eq!(photo["caption"], "合影");
        assert_eq!(photo["afterEnd"], false);
        assert_eq!(photo["activity"]["id"], activity.as_str());
        assert_eq!(std::fs::read(app.data_dir.join(&url)).unwrap(), bytes, "kept as sent, under the data directory");
        assert_eq!(files_under(&app.data_dir.join("photos")).len(), 2, "the photo and its thumbnail, no temporary file");

        let served = app.client.get(format!("{}/{url}", app.base)).send().await.unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        assert!(served.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        assert_eq!(served.headers()["x-content-type-options"], "nosniff");
        let etag = served.headers()["etag"].clone();
        assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
        let again = app.client.get(format!("{}/{url}", app.base)).header("if-none-match", etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "a client holding the file is told it has not changed");

        let thumbnail = app.client.get(format!("{}/{thumbnail_url}", app.base)).send().await.unwrap();
        assert_eq!(thumbnail.status(), 200);
        let thumbnail = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (320, 213));

        let listed = app.data(JUDGED, json!({ "id": activity })).await;
        assert_eq!(listed["activity"]["photos"]["nodes"][0], json!({ "url": url, "thumbnailUrl": thumbnail_url, "afterEnd": false }));
        assert_eq!(listed["activity"]["photoCount"], 1);

        for missing in [
            "photos/00/00000000000000000000000000000000.jpg".to_owned(),
            "photos/2017/11/group.jpg".to_owned(),
            format!("{url}.partial"),
        ] {
            let response = app.client.get(format!("{}/{missing}", app.base)).send().await.unwrap();
            assert_eq!(response.status(), 404, "{missing}");
        }
        let escape = app.client.get(format!("{}/photos/..%2F..%2F/qii.db", app.base)).send().await.unwrap();
        assert_eq!(escape.status(), 404, "only the store's own names are served");
    }

    async fn a_photo_uploaded_after_the_end_makes_the_activity_count_and_one_before_does_not(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let someone = member(&app, "阿明").await;
        app.data(SIGN_UP, json!({ "a": activity, "m": someone })).await;

        let before = upload_jpeg(&app, &activity, &jpeg(64, 48)).await;
        assert_eq!(before["afterEnd"], false);
        end(&app, &activity).await;
        let judged = app.data(JUDGED, json!({ "id": activity })).await["activity"].clone();
        assert_eq!(judged["photoCount"], 1);
        assert_eq!(judged["photosAfterEnd"], 0, "uploaded before the end: {judged:#}");
        assert_eq!(judged["eligibility"]["countsTowardIndex"], false);
        let reasons = judged["eligibility"]["reasons"].as_array().unwrap();
        assert_eq!(reasons.len(), 1, "{judged:#}");
        assert!(reasons[0].as_str().unwrap().contains("photos uploaded after"), "{judged:#}");

        let after = upload_jpeg(&app, &activity, &jpeg(64, 48)).await;
        assert_eq!(after["afterEnd"], true);
        let judged = app.data(JUDGED, json!({ "id": activity })).await["activity"].clone();
        assert_eq!(judged["photosAfterEnd"], 1);
        assert_eq!(judged["eligibility"], json!({ "countsTowardIndex": true, "reasons": [] }));
    }

    async fn bad_uploads_are_refused_with_a_reason_and_leave_no_row_and_no_file(app) {
        let unit = city(&app).await;
        let activity = upcoming(&app, &unit, None).await;
        let good = jpeg(32, 32);
        let mut cut = good.clone();
        cut.truncate(40);
        let bomb = png_bomb(60_000);
        let text = b"These are the minutes of the meeting, not a photo.".to_vec();
        let refused = [
            ("a text file named .jpg", text.as_slice(), "image/jpeg", "not a JPEG, PNG or WebP"),
            ("an empty file", b"".as_slice(), "image/jpeg", "empty"),
            ("a damaged JPEG", cut.as_slice(), "image/jpeg", "cannot be read"),
            ("a decompression bomb", bomb.as_slice(), "image/png", "megapixels"),
            ("a GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".as_slice(), "image/gif", "not a JPEG, PNG or WebP"),
        ];
        for (what, bytes, content_type, says) in refused {
            let part = Part { filename: "photo.jpg", content_type, bytes };
            let response = upload_as(&app, Some(&app.token), &activity, None, &part).await;
            assert_eq!(response["errors"][0]["extensions"]["field"], "file", "{what}: {response:#}");
            let (code, message) = first_error(response);
            assert_eq!(code, "BAD_USER_INPUT", "{what}: {message}");
            assert!(message.contains(says), "{what}: {message}");
        }

        let part = Part { filename: "photo.jpg", content_type: "image/jpeg", bytes: &good };
        let (code, message) = first_error(upload_as(&app, Some(&app.token), "999999", None, &part).await);
        assert_eq!(code, "BAD_USER_INPUT", "an unknown activity: {message}");
        assert!(message.contains("activity 999999 does not exist"), "{message}");
        let someone = member(&app, "阿明").await;
        let member_token = app.token_for(Role::Member(someone.parse().unwrap()), "member-test");
        let (code, message) = first_error(upload_as(&app, Some(&member_token), &activity, None, &part).await);
        assert_eq!(code, "FORBIDDEN", "a member: {message}");
        let (code, _) = first_error(upload_as(&app, None, &activity, None, &part).await);
        assert!(matches!(code.as_str(), "FORBIDDEN" | "UNAUTHENTICATED"), "anonymous: {code}");
        let long_caption = "字".repeat(201);
        let (code, message) = first_error(upload_as(&app, Some(&app.token), &activity, Some(&long_caption), &part).await);
        assert_eq!(code, "BAD_USER_INPUT", "{message}");

        // The file's reference written into the operation instead of sent as a part.
        for forged in ["#__graphql_file__:0", "#__graphql_file__:x", "photo.jpg"] {
            let response = app.graphql(UPLOAD, json!({ "i": { "activityId": activity, "file": forged } })).await;
            let (code, message) = first_error(response);
            assert_eq!(code, "BAD_USER_INPUT", "{forged}: {message}");
        }
        let (code, _) = first_error(app.graphql(UPLOAD, json!({ "i": { "activityId": activity, "file": null } })).await);
        assert_ne!(code, "INTERNAL");

        assert_eq!(app.count("activity_photo").await, 0);
        assert_eq!(files_under(&app.data_dir), Vec::<PathBuf>::new());
    }
}

/// A photo over the configured size, and a request over the body limit.
async fn sizes_are_held_to_the_configured_limits(app: TestApp) {
    let unit = city(&app).await;
    let activity = upcoming(&app, &unit, None).await;
    let big = jpeg(400, 400);
    assert!(
        big.len() > 2_000,
        "the test picture is larger than the limit"
    );
    let part = Part {
        filename: "big.jpg",
        content_type: "image/jpeg",
        bytes: &big,
    };
    let response = upload_as(&app, Some(&app.token), &activity, None, &part).await;
    let (code, message) = first_error(response);
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("at most 1 KB"), "{message}");

    // Beyond what any request with a file may carry: refused before it is read.
    let huge = vec![0xFF; 64 * 1024];
    let (content_type, body) = multipart(
        &activity,
        None,
        &Part {
            filename: "huge.jpg",
            content_type: "image/jpeg",
            bytes: &huge,
        },
    );
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    let small = jpeg(8, 8);
    assert!(small.len() <= 1024, "{}", small.len());
    let photo = upload_jpeg(&app, &activity, &small).await;
    assert!(photo["url"].as_str().unwrap().starts_with("photos/"));
    assert_eq!(app.count("activity_photo").await, 1);
    assert_eq!(files_under(&app.data_dir).len(), 2);
}

fn small_limits(config: &mut qii_domain::config::Config) {
    config.photos.max_bytes = 1024;
    config.limits.max_body_bytes = 16 * 1024;
}

mod sizes_are_held_to_the_configured_limits {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite() {
        sizes_are_held_to_the_configured_limits(TestApp::sqlite_configured(small_limits).await)
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres() {
        if let Some(app) = TestApp::postgres_configured(small_limits).await {
            sizes_are_held_to_the_configured_limits(app).await
        }
    }
}
