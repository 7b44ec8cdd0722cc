//! The report page in a real browser: headless Chromium loads a town's monthly report from
//! the running server (the token in the address, as a link opened by a secretary would
//! carry it), its DOM holds the three charts, and its screenshot shows their bars.
//!
//! Chromium is Debian's `chromium` (set `QII_CHROMIUM` to use another). Under CI a missing
//! browser fails the test; elsewhere the test says so and passes.

use std::{
    io::Cursor,
    path::{Path, PathBuf},
    process::Command,
};

use qii_domain::identity::Role;

use crate::both_databases;

/// The flags every run of the browser gets.
pub(crate) const FLAGS: [&str; 7] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The browser to run: `QII_CHROMIUM`, or Debian's or Google's where installed.
pub(crate) fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("QII_CHROMIUM") {
        return Some(path.into());
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Runs the browser with `args` after the common flags and a profile of its own; its
/// standard output.
async fn browse(browser: &Path, profile: &Path, args: Vec<String>) -> String {
    let browser = browser.to_owned();
    let profile = format!("--user-data-dir={}", profile.display());
    tokio::task::spawn_blocking(move || {
        let out = Command::new(&browser)
            .args(FLAGS)
            .arg(profile)
            .args(&args)
            .output()
            .expect("chromium starts");
        assert!(
            out.status.success(),
            "chromium {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
    .await
    .unwrap()
}

/// Pixels of the screenshot within a small distance of `rgb`.
pub(crate) fn pixels_like(png_bytes: &[u8], rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| (0..3).all(|c| (p[c] as i32 - rgb[c] as i32).abs() <= 6))
        .count()
}

both_databases! {
    async fn chromium_renders_a_towns_report_page_with_its_charts_and_saves_a_screenshot(app) {
        let Some(browser) = chromium() else {
            assert!(std::env::var_os("CI").is_none(), "CI needs Chromium for the report page test (apt-get install chromium)");
            eprintln!("Chromium is not installed: the report page was not checked in a browser");
            return;
        };
        app.load_demo(0.05).await;
        let humen = app.unit_id("town-humen").await;
        let token = app.token_for(Role::TownAdmin(humen.parse().unwrap()), "humen-admin");
        let url = format!("{}/reports/monthly/2017-12/%E8%99%8E%E9%97%A8?access_token={token}", app.base);
        let profile = std::env::temp_dir().join(format!("qii-chromium-{}", uuid::Uuid::new_v4()));

        let dom = browse(&browser, &profile, vec!["--dump-dom".into(), url.clone()]).await;
        assert!(dom.contains("虎门 · 2017-12 青年之声影响力指数月报"), "the page loaded: {}", &dom[..dom.len().min(500)]);
        let chart = |id: &str| {
            let start = dom.find(&format!("<svg id=\"{id}\"")).unwrap_or_else(|| panic!("{id} is in the DOM"));
            let end = start + dom[start..].find("</svg>").unwrap();
            dom[start..end].to_owned()
        };
        let ranking = chart("ranking-chart");
        assert_eq!(ranking.matches("class=\"bar").count(), 32, "a bar per town");
        assert_eq!(ranking.matches("class=\"bar mine\"").count(), 1);
        let trend = chart("trend-chart");
        let points = trend.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(points.split_whitespace().count(), 3, "Oct, Nov and Dec");
        assert_eq!(chart("indicator-chart").matches("class=\"bar").count(), 14, "a bar per indicator");

        let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-page-{}.png", uuid::Uuid::new_v4()));
        browse(&browser, &profile, vec![
            format!("--screenshot={}", shot.display()),
            "--window-size=900,1800".into(),
            "--hide-scrollbars".into(),
            url,
        ]).await;
        let bytes = std::fs::read(&shot).expect("the screenshot is saved");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        // The charts were drawn: the bars' blue, and the town's own bar in orange.
        let blue = pixels_like(&bytes, [0x2f, 0x80, 0xed]);
        let orange = pixels_like(&bytes, [0xf2, 0x99, 0x4a]);
        assert!(blue > 5_000, "{blue} blue pixels in {}", shot.display());
        assert!(orange > 100, "{orange} orange pixels in {}", shot.display());
        eprintln!("screenshot: {}", shot.display());
        std::fs::remove_dir_all(&profile).ok();
    }
}
