//! Photo files: uploaded pictures and their thumbnails, kept under `<data dir>/photos`.
//!
//! A stored file is named by a random id, never by anything the client sent, in a folder
//! of its id's first two hex digits: `photos/3f/3f2c…9a.jpg`, its thumbnail beside it as
//! `photos/3f/3f2c…9a.thumb.jpg`. That relative path is the photo's `url`, and the server
//! serves it at `/<url>`. A name is never given twice, so a file never changes once
//! written (it may be cached for good) and removing one cannot touch another upload's.
//!
//! A file is written to a temporary name and renamed into place, so no reader ever sees
//! half a file. It is kept only when its database row is: [`PhotoStore::keep`] removes
//! what it wrote when the row cannot be inserted, and runs to the end even when the
//! request that started it is dropped (its deadline passed, the client left).

pub mod picture;

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use tokio::sync::Semaphore;

use crate::{
    config::PhotoLimits,
    error::{ServiceError, ServiceResult},
};
pub use picture::{Kind, Picture, Refusal};

/// The folder under the data directory, and the first segment of every stored path.
const FOLDER: &str = "photos";

/// Where photos are kept and how large they may be.
#[derive(Debug, Clone)]
pub struct PhotoStore {
    /// The data directory: stored paths are relative to it.
    root: PathBuf,
    limits: PhotoLimits,
    /// Pictures decoded at once: each may take up to its limit's worth of memory, so
    /// uploads beyond the number of cores wait their turn.
    decoding: Arc<Semaphore>,
}

/// The paths of a photo just written, relative to the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    pub url: String,
    pub thumbnail_url: String,
}

impl PhotoStore {
    /// A store under `data_dir`; its folder is made with the first photo.
    pub fn new(data_dir: &Path, limits: PhotoLimits) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            root: data_dir.to_owned(),
            limits,
            decoding: Arc::new(Semaphore::new(cores)),
        }
    }

    /// How large a photo may be.
    pub fn limits(&self) -> &PhotoLimits {
        &self.limits
    }

    /// Checks an uploaded file and makes its thumbnail, on a blocking thread.
    pub async fn examine(&self, bytes: Arc<Vec<u8>>) -> ServiceResult<Picture> {
        let permit = self
            .decoding
            .clone()
            .acquire_owned()
            .await
            .map_err(|err| ServiceError::Internal(err.into()))?;
        let limits = self.limits;
        let examined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            picture::examine(&bytes, &limits)
        })
        .await
        .map_err(|err| ServiceError::Internal(err.into()))?;
        examined.map_err(|Refusal(reason)| ServiceError::invalid("file", reason))
    }

    /// Writes the photo and its thumbnail, then runs `record` (the database insert) with
    /// their paths. When `record` fails, the files are removed and its error returned. Runs
    /// as a task of its own, so that it finishes (files and row both, or neither) even when
    /// the caller stops waiting.
    pub async fn keep<T, F, Fut>(
        &self,
        bytes: Arc<Vec<u8>>,
        picture: Picture,
        record: F,
    ) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce(StoredPhoto) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ServiceResult<T>> + Send,
    {
        let root = self.root.clone();
        let task = tokio::spawn(async move {
            let written = {
                let root = root.clone();
                tokio::task::spawn_blocking(move || write_both(&root, &bytes, &picture))
                    .await
                    .map_err(|err| ServiceError::Internal(err.into()))?
                    .map_err(|err| ServiceError::Internal(err.context("storing a photo")))?
            };
            let result = record(written.clone()).await;
            if result.is_err() {
                let paths = [root.join(&written.url), root.join(&written.thumbnail_url)];
                let removed = tokio::task::spawn_blocking(move || remove_all(&paths)).await;
                if let Ok(Err(err)) | Err(err) = removed.map_err(std::io::Error::other) {
                    tracing::error!(error = %err, url = %written.url, "an unrecorded photo's files could not be removed");
                }
            }
            result
        });
        task.await
            .map_err(|err| ServiceError::Internal(err.into()))?
    }

    /// A stored file by its path (a photo's `url` or `thumbnailUrl`) with its kind; none
    /// when the path is not one this store gives out, or no such file is kept.
    pub async fn read(&self, path: &str) -> std::io::Result<Option<(Vec<u8>, Kind)>> {
        let Some(kind) = stored_kind(path) else {
            return Ok(None);
        };
        let file = self.root.join(path);
        let read = tokio::task::spawn_blocking(move || std::fs::read(file))
            .await
            .map_err(std::io::Error::other)?;
        match read {
            Ok(bytes) => Ok(Some((bytes, kind))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// The kind of a stored path, when it is one the store gives out:
/// `photos/<2 hex>/<32 hex>[.thumb].<jpg|png|webp>`, the folder the id's first two digits.
pub fn stored_kind(path: &str) -> Option<Kind> {
    let rest = path.strip_prefix(FOLDER)?.strip_prefix('/')?;
    let (folder, file) = rest.split_once('/')?;
    let (stem, extension) = file.rsplit_once('.')?;
    let id = stem.strip_suffix(".thumb").unwrap_or(stem);
    let hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let valid = id.len() == 32 && hex(id) && id.starts_with(folder) && folder.len() == 2;
    valid.then(|| Kind::of_extension(extension)).flatten()
}

/// Writes the photo, then its thumbnail; neither is left when either fails.
fn write_both(root: &Path, bytes: &[u8], picture: &Picture) -> anyhow::Result<StoredPhoto> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let folder = format!("{FOLDER}/{}", &id[..2]);
    let stored = StoredPhoto {
        url: format!("{folder}/{id}.{}", picture.kind.extension()),
        thumbnail_url: format!("{folder}/{id}.thumb.{}", picture.thumbnail_kind.extension()),
    };
    std::fs::create_dir_all(root.join(&folder))?;
    let photo = root.join(&stored.url);
    write_atomically(&photo, bytes)?;
    if let Err(err) = write_atomically(&root.join(&stored.thumbnail_url), &picture.thumbnail) {
        remove_all(&[photo])?;
        return Err(err.into());
    }
    Ok(stored)
}

/// Writes `bytes` to a temporary file beside `path`, flushed to disk, then renames it to
/// `path`: a reader sees the whole file or none.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.partial"));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Removes the files, those already gone included.
fn remove_all(paths: &[PathBuf]) -> std::io::Result<()> {
    for path in paths {
        match std::fs::remove_file(path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(root: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut folders = vec![root.to_owned()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    }

    /// A store in a fresh folder, and a small PNG it has examined.
    async fn store_with_a_picture() -> (PathBuf, PhotoStore, Arc<Vec<u8>>, Picture) {
        let root = std::env::temp_dir().join(format!("qii-photos-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&root).unwrap();
        let store = PhotoStore::new(&root, PhotoLimits::default());
        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(8, 6)
            .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
            .unwrap();
        let bytes = Arc::new(png);
        let picture = store.examine(bytes.clone()).await.unwrap();
        (root, store, bytes, picture)
    }

    #[tokio::test]
    async fn a_kept_photo_is_read_back_by_its_url_and_its_thumbnail_beside_it() {
        let (root, store, bytes, picture) = store_with_a_picture().await;
        let stored = store
            .keep(bytes.clone(), picture, |stored| async { Ok(stored) })
            .await
            .unwrap();
        assert!(stored.url.starts_with("photos/") && stored.url.ends_with(".png"));
        assert!(stored.thumbnail_url.ends_with(".thumb.jpg"));
        assert_eq!(stored_kind(&stored.url), Some(Kind::Png));
        let (read, kind) = store.read(&stored.url).await.unwrap().unwrap();
        assert_eq!((read, kind), ((*bytes).clone(), Kind::Png));
        assert!(store.read(&stored.thumbnail_url).await.unwrap().is_some());
        assert_eq!(files_under(&root).len(), 2, "no temporary file is left");
        std::fs::remove_dir_all(root).ok();
    }

    #[tokio::test]
    async fn when_the_row_cannot_be_recorded_no_file_is_left() {
        let (root, store, bytes, picture) = store_with_a_picture().await;
        let failed = store
            .keep(bytes, picture, |_| async {
                Err::<(), _>(ServiceError::conflict("the row was refused"))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(files_under(&root), Vec::<PathBuf>::new());
        std::fs::remove_dir_all(root).ok();
    }

    #[test]
    fn only_paths_the_store_gives_out_are_read() {
        let id = "3f2c0d6e8a1b4c5d9e7f00112233445a";
        assert_eq!(
            stored_kind(&format!("photos/3f/{id}.jpg")),
            Some(Kind::Jpeg)
        );
        assert_eq!(
            stored_kind(&format!("photos/3f/{id}.thumb.png")),
            Some(Kind::Png)
        );
        for bad in [
            format!("photos/3e/{id}.jpg"),
            format!("photos/3f/{id}.gif"),
            format!("photos/3f/{id}.JPG"),
            format!("photos/3f/../3f/{id}.jpg"),
            format!("photos/3f/{id}.jpg/x"),
            format!("other/3f/{id}.jpg"),
            "photos/3f/3f.jpg".to_owned(),
            "photos/2017/11/a.jpg".to_owned(),
            format!("photos/3f/{}.jpg", id.to_uppercase()),
        ] {
            assert_eq!(stored_kind(&bad), None, "{bad}");
        }
    }
}
