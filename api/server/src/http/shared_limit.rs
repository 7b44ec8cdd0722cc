//! Rate budgets kept in Redis, shared by every replica: the same pace and burst as the
//! per-process limiter (GCRA, the algorithm `governor` uses), computed by one Lua script
//! on Redis's clock so that replicas agree without talking to each other.
//!
//! When Redis cannot be reached, each replica falls back to its own limiter (the caller's
//! budget is then kept per replica) and tries Redis again a few seconds later.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a replica keeps to its own limiter after Redis failed it.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long one call to Redis may take before the replica's own limiter decides.
const TIMEOUT: Duration = Duration::from_millis(250);

/// Spends `ARGV[3]` requests of the budget at `KEYS[1]`: 0 when allowed, else the
/// milliseconds to wait (-1 when the cost exceeds the whole burst). `ARGV[1]` is the
/// interval between two requests at the steady pace (ms), `ARGV[2]` the burst.
const GCRA: &str = r"
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
if cost > burst then return -1 end
local tat = tonumber(redis.call('GET', KEYS[1]) or now_ms)
if tat < now_ms then tat = now_ms end
local new_tat = tat + interval * cost
local allow_at = new_tat - interval * burst
if allow_at > now_ms then return allow_at - now_ms end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now_ms + 1000)
return 0
";

/// What Redis said about a request.
pub enum Verdict {
    Allowed,
    /// Wait this long.
    Wait(Duration),
    /// More than a whole burst at once: never.
    Never,
    /// Redis could not answer: decide locally.
    Unknown,
}

/// The budgets in Redis.
pub struct Shared {
    client: redis::Client,
    script: redis::Script,
    interval_ms: u64,
    burst: u32,
    state: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    /// When Redis last failed, while the replica keeps to its own limiter.
    failed_at: Mutex<Option<Instant>>,
}

impl Shared {
    /// Budgets of `per_minute` requests a minute with `burst` at once, kept at `url`;
    /// the error when the URL is not a Redis URL.
    pub fn new(url: &str, per_minute: u32, burst: u32) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("QII_REDIS_URL `{url}` is not a Redis URL: {e}"))?;
        Ok(Self {
            client,
            script: redis::Script::new(GCRA),
            interval_ms: (60_000 / u64::from(per_minute.max(1))).max(1),
            burst: burst.max(1),
            state: tokio::sync::Mutex::new(None),
            failed_at: Mutex::new(None),
        })
    }

    fn failed_recently(&self) -> bool {
        let failed = self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        failed.is_some_and(|at| at.elapsed() < RETRY_AFTER)
    }

    fn failed(&self, error: &dyn std::fmt::Display) {
        let mut failed = self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        if failed.is_none() {
            tracing::warn!(error = %error, "Redis unreachable: rate limits are kept per replica until it answers");
        }
        *failed = Some(Instant::now());
    }

    /// Spends `cost` requests of `key`'s budget.
    pub async fn spend(&self, key: &str, cost: u32) -> Verdict {
        if self.failed_recently() {
            return Verdict::Unknown;
        }
        match tokio::time::timeout(TIMEOUT, self.ask(key, cost)).await {
            Ok(Ok(wait)) => {
                if self
                    .failed_at
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .is_some()
                {
                    tracing::info!("Redis answers again: rate limits are shared by every replica");
                }
                match wait {
                    0 => Verdict::Allowed,
                    ms if ms < 0 => Verdict::Never,
                    ms => Verdict::Wait(Duration::from_millis(ms.unsigned_abs())),
                }
            }
            Ok(Err(e)) => {
                self.failed(&e);
                *self.state.lock().await = None;
                Verdict::Unknown
            }
            Err(_) => {
                self.failed(&format!("no answer within {TIMEOUT:?}"));
                Verdict::Unknown
            }
        }
    }

    async fn ask(&self, key: &str, cost: u32) -> redis::RedisResult<i64> {
        let mut connection = {
            let mut state = self.state.lock().await;
            match &*state {
                Some(connection) => connection.clone(),
                None => {
                    let config = redis::aio::ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(TIMEOUT))
                        .set_response_timeout(Some(TIMEOUT))
                        .set_number_of_retries(1);
                    let connection = self
                        .client
                        .get_connection_manager_with_config(config)
                        .await?;
                    *state = Some(connection.clone());
                    connection
                }
            }
        };
        self.script
            .key(format!("qii:rate:{key}"))
            .arg(self.interval_ms)
            .arg(self.burst)
            .arg(cost)
            .invoke_async(&mut connection)
            .await
    }
}
