//! Persisted queries at the door of `/graphql`: a request may name its query by the
//! SHA-256 of its text (`extensions.persistedQuery`, the convention Apollo clients follow),
//! and in allow-list mode only registered operations run ([`PersistedMode`]).
//!
//! Each server keeps the texts it has seen in a cache bounded in bytes, least recently used
//! first out. A hash the server does not hold is answered `PERSISTED_QUERY_NOT_FOUND`, and
//! the client sends the text with the hash once more, so replicas need not share the
//! cache. Registered operations live in the database, which every replica reads.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_graphql::Value;
use sea_orm::DatabaseConnection;

use qii_domain::{
    config::{PersistedMode, PersistedQueries},
    error::code,
    service::persisted::{find, is_sha256_hex, sha256_hex},
};

/// How long a registered text is served from the cache before the database is asked again:
/// an operation removed from the list stops running within this time on every replica.
const RECHECK: Duration = Duration::from_secs(30);

/// Why a request was refused before it could run.
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The persisted-query policy of one server, with its cache.
pub struct Persisted {
    mode: PersistedMode,
    cache: Mutex<Cache>,
}

struct Cache {
    texts: lru::LruCache<String, Kept>,
    bytes: usize,
    max_bytes: usize,
}

struct Kept {
    text: Arc<str>,
    /// When the database last confirmed it is registered (allow-list mode).
    checked: Instant,
}

impl Cache {
    fn get(&mut self, hash: &str) -> Option<(Arc<str>, Instant)> {
        self.texts
            .get(hash)
            .map(|kept| (kept.text.clone(), kept.checked))
    }

    fn put(&mut self, hash: String, text: Arc<str>) {
        let size = text.len() + hash.len();
        if size > self.max_bytes {
            return;
        }
        if let Some(old) = self.texts.pop(&hash) {
            self.bytes -= old.text.len() + hash.len();
        }
        while self.bytes + size > self.max_bytes {
            match self.texts.pop_lru() {
                Some((key, old)) => self.bytes -= old.text.len() + key.len(),
                None => break,
            }
        }
        self.bytes += size;
        self.texts.push(
            hash,
            Kept {
                text,
                checked: Instant::now(),
            },
        );
    }

    fn forget(&mut self, hash: &str) {
        if let Some(old) = self.texts.pop(hash) {
            self.bytes -= old.text.len() + hash.len();
        }
    }
}

impl Persisted {
    pub fn new(config: &PersistedQueries) -> Self {
        Self {
            mode: config.mode,
            cache: Mutex::new(Cache {
                // The byte bound is what limits it; entries are at least 64 bytes (the key).
                texts: lru::LruCache::new(
                    NonZeroUsize::new(config.cache_bytes / 64 + 1).unwrap_or(NonZeroUsize::MIN),
                ),
                bytes: 0,
                max_bytes: config.cache_bytes,
            }),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while the lock was held cannot leave the cache inconsistent in a way
        // that matters (at worst a byte count off): keep serving.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request with its query text in place, or why it may not run. The
    /// `persistedQuery` extension is taken out of the request.
    pub async fn prepare(
        &self,
        db: &DatabaseConnection,
        mut request: async_graphql::Request,
    ) -> Result<async_graphql::Request, Refusal> {
        let named = match request.extensions.remove("persistedQuery") {
            None => None,
            Some(value) => Some(named_hash(&value)?),
        };
        let has_text = !request.query.trim().is_empty();
        if let (Some(hash), true) = (&named, has_text) {
            if sha256_hex(&request.query) != *hash {
                return Err(Refusal::new(
                    code::BAD_REQUEST,
                    "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of the query \
                     sent with it",
                ));
            }
        }
        match self.mode {
            PersistedMode::Off => match named {
                Some(_) => Err(Refusal::new(
                    code::PERSISTED_QUERY_NOT_SUPPORTED,
                    "this server does not take persisted queries: send the query text",
                )),
                None => Ok(request),
            },
            PersistedMode::Automatic => {
                let Some(hash) = named else {
                    return Ok(request);
                };
                if has_text {
                    self.cache().put(hash, Arc::from(request.query.as_str()));
                    return Ok(request);
                }
                let cached = self.cache().get(&hash);
                let text = match cached {
                    Some((text, _)) => text,
                    None => match registered(db, &hash).await? {
                        Some(text) => {
                            let text: Arc<str> = Arc::from(text);
                            self.cache().put(hash, text.clone());
                            text
                        }
                        None => {
                            return Err(Refusal::new(
                                code::PERSISTED_QUERY_NOT_FOUND,
                                "this server does not hold the query with that hash: send it \
                                 again with the query text",
                            ))
                        }
                    },
                };
                request.query = text.to_string();
                Ok(request)
            }
            PersistedMode::AllowList => {
                let hash = match named {
                    Some(hash) => hash,
                    // No query at all: the request is malformed, and said so further on.
                    None if !has_text => return Ok(request),
                    None => sha256_hex(&request.query),
                };
                let cached = self.cache().get(&hash);
                let text = match cached {
                    Some((text, checked)) if checked.elapsed() < RECHECK => Some(text),
                    _ => {
                        let found = registered(db, &hash).await?.map(Arc::<str>::from);
                        let mut cache = self.cache();
                        match &found {
                            Some(text) => cache.put(hash.clone(), text.clone()),
                            None => cache.forget(&hash),
                        }
                        found
                    }
                };
                match text {
                    Some(text) => {
                        request.query = text.to_string();
                        Ok(request)
                    }
                    None => Err(Refusal::new(
                        code::OPERATION_NOT_REGISTERED,
                        format!(
                            "this server runs registered operations only, and the one with \
                             SHA-256 {hash} is not registered: register it with `qii queries \
                             register`"
                        ),
                    )),
                }
            }
        }
    }
}

/// The hash a `persistedQuery` extension names, in lowercase hex.
fn named_hash(value: &Value) -> Result<String, Refusal> {
    let bad = |what: &str| {
        Refusal::new(
            code::BAD_REQUEST,
            format!(
                "`extensions.persistedQuery` {what}: send {{\"version\": 1, \"sha256Hash\": \
                 \"<64 hex digits>\"}}"
            ),
        )
    };
    let Value::Object(fields) = value else {
        return Err(bad("is not an object"));
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(_) => return Err(bad("has a version other than 1")),
        None => return Err(bad("has no version")),
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash)) if is_sha256_hex(hash) => Ok(hash.to_ascii_lowercase()),
        Some(_) => Err(bad("has a sha256Hash that is not 64 hex digits")),
        None => Err(bad("has no sha256Hash")),
    }
}

async fn registered(db: &DatabaseConnection, hash: &str) -> Result<Option<String>, Refusal> {
    find(db, hash).await.map_err(|err| {
        tracing::error!(error = %err, "reading a registered operation failed");
        Refusal::new(
            code::INTERNAL,
            "internal error: the registered operations could not be read",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_within_its_bytes_and_lets_the_least_recently_used_go() {
        let mut cache = Cache {
            texts: lru::LruCache::new(NonZeroUsize::new(100).unwrap()),
            bytes: 0,
            max_bytes: 3 * (64 + 10),
        };
        let key = |i: u8| format!("{:064}", i);
        for i in 0..3 {
            cache.put(key(i), Arc::from("0123456789"));
        }
        assert!(cache.get(&key(0)).is_some()); // 0 is now the most recently used
        cache.put(key(3), Arc::from("0123456789"));
        assert!(
            cache.get(&key(1)).is_none(),
            "1 was the least recently used"
        );
        assert!(cache.get(&key(0)).is_some());
        assert!(cache.bytes <= cache.max_bytes);
        cache.put(key(4), Arc::from("x".repeat(1000).as_str()));
        assert!(cache.get(&key(4)).is_none(), "larger than the whole cache");
        cache.forget(&key(0));
        assert_eq!(cache.bytes, 2 * (64 + 10));
    }
}
