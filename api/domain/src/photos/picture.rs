//! What an uploaded file is, told by its content alone, and its thumbnail: the picture's
//! size is read from its header and checked before anything is decoded, and decoding
//! itself may allocate no more than a picture of that size needs.

use std::io::Cursor;

use image::{
    codecs::{jpeg::JpegEncoder, png::PngEncoder},
    DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits,
};

use crate::config::PhotoLimits;

/// The longer side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// JPEG quality of thumbnails: small files, no visible blocks at their size.
const THUMBNAIL_QUALITY: u8 = 80;
/// Bytes per pixel of the largest decoded form of any accepted format (RGBA, 16 bits a
/// channel), which bounds what decoding may allocate for a picture within the limits.
const MAX_BYTES_PER_PIXEL: u64 = 8;
/// What a decoder may need beside the picture itself (tables, one row of blocks).
const DECODER_HEADROOM: u64 = 16 * 1024 * 1024;

/// The formats accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    WebP,
}

impl Kind {
    /// The kind a file's first bytes announce (its "magic number"); none for anything else,
    /// whatever the file is called or claims to be.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::WebP)
        } else {
            None
        }
    }

    /// The extension its stored files take.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }

    /// The kind of a stored file, by the extension it was given.
    pub fn of_extension(extension: &str) -> Option<Self> {
        match extension {
            "jpg" => Some(Self::Jpeg),
            "png" => Some(Self::Png),
            "webp" => Some(Self::WebP),
            _ => None,
        }
    }

    /// Its media type, for serving it.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::WebP => "WebP",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// A picture checked and ready to store: the file as sent, and its thumbnail.
#[derive(Debug)]
pub struct Picture {
    pub kind: Kind,
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
    /// JPEG, or PNG when the picture has transparency to keep.
    pub thumbnail_kind: Kind,
}

/// Why a file is not a photo the server takes: a sentence for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Checks an uploaded file and makes its thumbnail. CPU-bound: run it on a blocking thread.
pub fn examine(bytes: &[u8], limits: &PhotoLimits) -> Result<Picture, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal(
            "the file is empty: choose a photo (JPEG, PNG or WebP)".into(),
        ));
    }
    if bytes.len() > limits.max_bytes {
        return Err(Refusal(format!(
            "the file is {}; a photo may be at most {}: send a smaller or more compressed one",
            size(bytes.len() as u64),
            size(limits.max_bytes as u64)
        )));
    }
    let kind = Kind::sniff(bytes).ok_or_else(|| {
        Refusal(
            "the file is not a JPEG, PNG or WebP image (its content says so, whatever its \
             name or type): export the photo as JPEG and send that"
                .into(),
        )
    })?;
    let unreadable = |err: ImageError| refusal(kind, err, limits);

    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(decoding_limits(limits));
    // Reads the header only: nothing of the picture is decoded yet.
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    // A camera's picture stored sideways says how to turn it; the thumbnail is turned.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let full = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    // Downscaled before it is turned, so that turning copies the small picture only; a
    // picture already as small as a thumbnail is not enlarged.
    let mut thumbnail = if width.max(height) > THUMBNAIL_SIDE {
        full.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    } else {
        full
    };
    thumbnail.apply_orientation(orientation);
    let (thumbnail, thumbnail_kind) = encode_thumbnail(&thumbnail).map_err(unreadable)?;
    Ok(Picture {
        kind,
        width,
        height,
        thumbnail,
        thumbnail_kind,
    })
}

/// The image crate's own bounds: no side beyond what the pixel limit allows, and no more
/// memory than the largest picture within it needs.
fn decoding_limits(limits: &PhotoLimits) -> Limits {
    let side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    let mut bounds = Limits::default();
    bounds.max_image_width = Some(side);
    bounds.max_image_height = Some(side);
    bounds.max_alloc = Some(
        limits
            .max_pixels
            .saturating_mul(MAX_BYTES_PER_PIXEL)
            .saturating_add(DECODER_HEADROOM),
    );
    bounds
}

fn check_pixels(width: u32, height: u32, limits: &PhotoLimits) -> Result<(), Refusal> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 {
        return Err(Refusal(format!(
            "the picture is {width} × {height} pixels: it has nothing to show"
        )));
    }
    if pixels > limits.max_pixels {
        return Err(Refusal(format!(
            "the picture is {width} × {height} pixels ({:.1} megapixels); a photo may have at \
             most {:.1} megapixels: scale it down first",
            pixels as f64 / 1e6,
            limits.max_pixels as f64 / 1e6
        )));
    }
    Ok(())
}

/// The thumbnail as JPEG, or as PNG when it has transparency to keep.
fn encode_thumbnail(thumbnail: &DynamicImage) -> Result<(Vec<u8>, Kind), ImageError> {
    let mut out = Vec::new();
    if thumbnail.color().has_alpha() {
        DynamicImage::ImageRgba8(thumbnail.to_rgba8())
            .write_with_encoder(PngEncoder::new(&mut out))?;
        Ok((out, Kind::Png))
    } else {
        DynamicImage::ImageRgb8(thumbnail.to_rgb8())
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, THUMBNAIL_QUALITY))?;
        Ok((out, Kind::Jpeg))
    }
}

/// A decoding failure as the sender reads it.
fn refusal(kind: Kind, err: ImageError, limits: &PhotoLimits) -> Refusal {
    let name = kind.name();
    Refusal(match err {
        ImageError::Limits(_) => format!(
            "the {name} picture is too large to decode (at most {:.1} megapixels): scale it \
             down first",
            limits.max_pixels as f64 / 1e6
        ),
        ImageError::Unsupported(_) => format!(
            "the file is a {name} image of a kind the server cannot read: export it again \
             as an ordinary JPEG"
        ),
        _ => format!(
            "the file starts like a {name} image but cannot be read as one (it is damaged or \
             cut short): export the photo again and send that"
        ),
    })
}

/// A number of bytes as people read it: `12.3 MB`, `512 KB`, `90 bytes`.
fn size(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / MB),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::new_rgb8(width, height)
            .write_with_encoder(PngEncoder::new(&mut out))
            .unwrap();
        out
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::new_rgb8(width, height)
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
            .unwrap();
        out
    }

    /// A JPEG whose frame header announces `width` × `height` pixels, its data an 8 × 8
    /// picture's: what a decoder trusting the header would unpack into gigabytes.
    fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
        let mut out = jpeg(8, 8);
        // Start of frame: marker (2), length (2), precision (1), height (2), width (2).
        let frame = out.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        out[frame + 5..frame + 7].copy_from_slice(&height.to_be_bytes());
        out[frame + 7..frame + 9].copy_from_slice(&width.to_be_bytes());
        out
    }

    #[test]
    fn the_kind_is_told_by_the_content_only() {
        assert_eq!(Kind::sniff(&jpeg(2, 2)), Some(Kind::Jpeg));
        assert_eq!(Kind::sniff(&png(2, 2)), Some(Kind::Png));
        assert_eq!(Kind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Kind::WebP));
        assert_eq!(Kind::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(Kind::sniff(b"GIF89a"), None);
        assert_eq!(Kind::sniff(b"hello.jpg"), None);
    }

    #[test]
    fn a_photo_gets_a_thumbnail_of_320_pixels_on_its_longer_side() {
        let picture = examine(&jpeg(1000, 500), &PhotoLimits::default()).unwrap();
        assert_eq!((picture.width, picture.height), (1000, 500));
        assert_eq!(picture.thumbnail_kind, Kind::Jpeg);
        let thumbnail = image::load_from_memory(&picture.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (320, 160));
    }

    #[test]
    fn a_picture_with_transparency_keeps_it_in_a_png_thumbnail() {
        let mut out = Vec::new();
        DynamicImage::new_rgba8(40, 30)
            .write_with_encoder(PngEncoder::new(&mut out))
            .unwrap();
        let picture = examine(&out, &PhotoLimits::default()).unwrap();
        assert_eq!(picture.thumbnail_kind, Kind::Png);
        let thumbnail = image::load_from_memory(&picture.thumbnail).unwrap();
        assert_eq!(
            (thumbnail.width(), thumbnail.height()),
            (40, 30),
            "never enlarged"
        );
    }

    #[test]
    fn a_webp_picture_is_taken_and_its_thumbnail_is_a_jpeg() {
        let mut out = Vec::new();
        DynamicImage::new_rgb8(640, 480)
            .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out))
            .unwrap();
        let picture = examine(&out, &PhotoLimits::default()).unwrap();
        assert_eq!(
            (picture.kind, picture.width, picture.height),
            (Kind::WebP, 640, 480)
        );
        assert_eq!(picture.thumbnail_kind, Kind::Jpeg);
    }

    #[test]
    fn a_huge_picture_is_refused_from_its_header_before_decoding() {
        // 60,000 × 60,000 pixels would be 10 GB decoded; the file is a few hundred bytes.
        let refused = examine(&jpeg_claiming(60_000, 60_000), &PhotoLimits::default())
            .unwrap_err()
            .0;
        assert!(refused.contains("megapixels"), "{refused}");
        let limits = PhotoLimits {
            max_pixels: 1_000,
            ..PhotoLimits::default()
        };
        let refused = examine(&png(50, 50), &limits).unwrap_err().0;
        assert!(refused.contains("50 × 50 pixels"), "{refused}");
    }

    #[test]
    fn empty_oversized_foreign_and_damaged_files_are_refused_with_a_reason() {
        let limits = PhotoLimits {
            max_bytes: 100,
            ..PhotoLimits::default()
        };
        assert!(examine(b"", &limits).unwrap_err().0.contains("empty"));
        let big = examine(&[0xFF; 101], &limits).unwrap_err().0;
        assert!(
            big.contains("101 bytes") && big.contains("at most 100 bytes"),
            "{big}"
        );
        let text = examine(b"just some text", &limits).unwrap_err().0;
        assert!(text.contains("not a JPEG, PNG or WebP"), "{text}");
        let mut cut = jpeg(64, 64);
        cut.truncate(24);
        let cut = examine(&cut, &PhotoLimits::default()).unwrap_err().0;
        assert!(cut.contains("cannot be read"), "{cut}");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(90), "90 bytes");
        assert_eq!(size(512 * 1024), "512 KB");
        assert_eq!(size(10 * 1024 * 1024), "10.0 MB");
    }
}
