//! Machine-readable error codes, sent to clients as `extensions.code`. The one vocabulary
//! of every layer: the engine's own errors name theirs too.

pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
pub const FORBIDDEN: &str = "FORBIDDEN";
pub const NOT_FOUND: &str = "NOT_FOUND";
pub const RULE_ERROR: &str = "RULE_ERROR";
pub const INTERNAL: &str = "INTERNAL";
/// The request is not GraphQL over HTTP (no `query`, wrong media type).
pub const BAD_REQUEST: &str = "BAD_REQUEST";
/// The query does not parse.
pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The query does not fit the schema.
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// Its pages and fields could add up to more than the complexity limit.
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// It nests fields deeper than the limit.
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// It selects more root fields than the limit (aliases included).
pub const TOO_MANY_ROOT_FIELDS: &str = "TOO_MANY_ROOT_FIELDS";
/// A batch holds more operations than the limit.
pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
/// The answer grew past the response size limit.
pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
/// The request ran past its deadline and was stopped.
pub const TIMEOUT: &str = "TIMEOUT";
/// Too many attempts: wait (sign-in throttling, busy script pool).
pub const RATE_LIMITED: &str = "RATE_LIMITED";
/// A persisted query's hash the server does not know: send the query text with it (Apollo
/// clients do so on their own).
pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// Persisted queries are turned off: send the query text.
pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
/// The server runs registered operations only, and this is not one.
pub const OPERATION_NOT_REGISTERED: &str = "OPERATION_NOT_REGISTERED";
/// A WebSocket connection or the server holds as many subscriptions as it may.
pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
