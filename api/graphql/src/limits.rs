//! What one request may ask for, checked as it goes through the schema: inputs (no NUL
//! character, no string past the limit, dates within years 0001–9999), the number of root
//! fields, and the size of the response as it is built. Refusals carry a code of their own;
//! errors of parsing and validation get theirs.

use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

use async_graphql::{
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextResolve,
        NextValidation, ResolveInfo,
    },
    parser::types::{
        DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
    },
    Name, Pos, Positioned, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};

use qii_domain::{config::Limits, error::code};

/// What the schema learnt about a request while running it, for the HTTP layer.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The request did not get to execution (parse, validation or a limit).
    pub not_executed: AtomicBool,
    /// Bytes of JSON the response holds so far (about).
    response_bytes: AtomicUsize,
    /// The response grew past its limit and was stopped.
    too_large: AtomicBool,
}

impl Outcome {
    fn refuse(&self) {
        self.not_executed.store(true, Ordering::Relaxed);
    }
}

/// Request data that asks for a document to be checked (parsed, validated against the
/// schema and the limits) and not run: see [`crate::check_document`].
pub struct CheckOnly;

/// The extension that applies [`Limits`] to every request.
pub struct RequestLimits(pub Limits);

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Checks {
            limits: self.0.clone(),
        })
    }
}

struct Checks {
    limits: Limits,
}

/// A refusal with a code, for a person to act on.
pub fn refusal(code: &str, message: impl Into<String>) -> ServerError {
    let mut err = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    err.extensions = Some(extensions);
    err
}

fn with_code(mut err: ServerError, fallback: &str) -> ServerError {
    let extensions = err.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", fallback);
    }
    err
}

#[async_graphql::async_trait::async_trait]
impl Extension for Checks {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let outcome = ctx.data_opt::<Arc<Outcome>>();
        let refuse = |err: ServerError| {
            if let Some(outcome) = outcome {
                outcome.refuse();
            }
            Err(err)
        };
        let doc = match next.run(ctx, query, variables).await {
            Ok(doc) => doc,
            Err(err) => return refuse(with_code(err, code::GRAPHQL_PARSE_FAILED)),
        };
        let inputs = Inputs {
            max_chars: self.limits.max_string_chars,
        };
        for (_, value) in variables.iter() {
            if let Err(err) = inputs.check_const(value, None) {
                return refuse(err);
            }
        }
        if let Err(err) = inputs.check_document(&doc) {
            return refuse(err);
        }
        let roots = root_fields(&doc);
        if roots > self.limits.max_root_fields {
            return refuse(refusal(
                code::TOO_MANY_ROOT_FIELDS,
                format!(
                    "the operation selects {roots} fields at its root (aliases and fragments \
                     counted); at most {} are accepted: split it into several requests",
                    self.limits.max_root_fields
                ),
            ));
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let refuse = |errors: Vec<ServerError>| {
            if let Some(outcome) = ctx.data_opt::<Arc<Outcome>>() {
                outcome.refuse();
            }
            errors
        };
        let result = next.run(ctx).await.map_err(|errors| {
            refuse(
                errors
                    .into_iter()
                    .map(|e| with_code(e, code::GRAPHQL_VALIDATION_FAILED))
                    .collect(),
            )
        })?;
        if result.depth > self.limits.max_depth {
            return Err(refuse(vec![refusal(
                code::QUERY_TOO_DEEP,
                format!(
                    "the query nests fields {} levels deep; at most {} are accepted: ask for \
                     fewer nested levels",
                    result.depth, self.limits.max_depth
                ),
            )]));
        }
        if result.complexity > self.limits.max_complexity {
            return Err(refuse(vec![refusal(
                code::QUERY_TOO_COMPLEX,
                format!(
                    "the query costs {} and at most {} is accepted: every field costs 1 and a \
                     page what one of its nodes costs times its size (`first`, 20 by default), \
                     so nested pages multiply; ask for smaller pages or fewer nested levels",
                    result.complexity, self.limits.max_complexity
                ),
            )]));
        }
        if ctx.data_opt::<CheckOnly>().is_some() {
            // Checked and found sound: stop before anything runs.
            return Err(Vec::new());
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        match ctx.data_opt::<Arc<Outcome>>() {
            Some(outcome) if outcome.too_large.load(Ordering::Relaxed) => {
                outcome.refuse();
                Response::from_errors(vec![refusal(
                    code::RESPONSE_TOO_LARGE,
                    format!(
                        "the response would be larger than {} bytes: ask for smaller pages \
                         (`first`) or fewer fields",
                        self.limits.max_response_bytes
                    ),
                )])
            }
            _ => response,
        }
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let outcome = ctx.data_opt::<Arc<Outcome>>();
        if outcome.is_some_and(|o| o.too_large.load(Ordering::Relaxed)) {
            // Past the limit: stop the work where it stands (the whole answer is replaced
            // by the refusal in `execute`).
            return Err(ServerError::new("the response is too large", None));
        }
        if info.path_node.parent.is_none() && info.parent_type == "Mutation" {
            // What was read before this change may be out of date after it.
            if let Some(app) = ctx.data_opt::<super::RequestContext>() {
                app.batches.clear();
            }
        }
        let key = info.alias.unwrap_or(info.name).len();
        let value = next.run(ctx, info).await?;
        if let Some(outcome) = outcome {
            let bytes = key + 3 + value.as_ref().map_or(4, leaf_bytes);
            let total = outcome.response_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
            if total > self.limits.max_response_bytes {
                outcome.too_large.store(true, Ordering::Relaxed);
            }
        }
        Ok(value)
    }
}

/// Bytes of JSON a field's own value adds: scalars and lists of scalars (objects add
/// nothing of their own; their fields count themselves).
fn leaf_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len() + 2,
        Value::Number(_) => 8,
        Value::Boolean(_) => 5,
        Value::Null => 4,
        Value::Enum(name) => name.len() + 2,
        Value::List(items) => items.iter().map(leaf_bytes).sum::<usize>() + 2,
        Value::Object(_) | Value::Binary(_) => 2,
    }
}

/// Root fields of the largest operation in a document, fragments expanded.
pub fn root_fields(doc: &ExecutableDocument) -> usize {
    let operations: Vec<&SelectionSet> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    operations
        .into_iter()
        .map(|set| count_fields(set, &doc.fragments, 0))
        .max()
        .unwrap_or(0)
}

fn count_fields(
    set: &SelectionSet,
    fragments: &std::collections::HashMap<Name, Positioned<FragmentDefinition>>,
    depth: usize,
) -> usize {
    // Fragment cycles are refused by validation; the depth only keeps this walk finite.
    if depth > 32 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => {
                count_fields(&f.node.selection_set.node, fragments, depth + 1)
            }
            Selection::FragmentSpread(spread) => fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |f| {
                    count_fields(&f.node.selection_set.node, fragments, depth + 1)
                }),
        })
        .fold(0usize, usize::saturating_add)
}

/// Checks of every string an input carries.
struct Inputs {
    max_chars: usize,
}

impl Inputs {
    fn check_document(&self, doc: &ExecutableDocument) -> ServerResult<()> {
        let mut sets: Vec<&SelectionSet> = doc
            .fragments
            .values()
            .map(|f| &f.node.selection_set.node)
            .collect();
        match &doc.operations {
            DocumentOperations::Single(op) => {
                sets.push(&op.node.selection_set.node);
                self.check_defaults(&op.node)?;
            }
            DocumentOperations::Multiple(ops) => {
                for op in ops.values() {
                    sets.push(&op.node.selection_set.node);
                    self.check_defaults(&op.node)?;
                }
            }
        }
        while let Some(set) = sets.pop() {
            for item in &set.items {
                match &item.node {
                    Selection::Field(field) => {
                        for (_, value) in &field.node.arguments {
                            // Variables are checked on their own.
                            let literal = value
                                .node
                                .clone()
                                .into_const_with(|_| Ok::<_, ()>(Value::Null))
                                .unwrap_or(Value::Null);
                            self.check_value(&literal, Some(value.pos))?;
                        }
                        sets.push(&field.node.selection_set.node);
                    }
                    Selection::InlineFragment(f) => sets.push(&f.node.selection_set.node),
                    Selection::FragmentSpread(_) => {}
                }
            }
        }
        Ok(())
    }

    fn check_defaults(
        &self,
        op: &async_graphql::parser::types::OperationDefinition,
    ) -> ServerResult<()> {
        for var in &op.variable_definitions {
            if let Some(default) = &var.node.default_value {
                self.check_const(&default.node, Some(default.pos))?;
            }
        }
        Ok(())
    }

    fn check_value(&self, value: &Value, pos: Option<Pos>) -> ServerResult<()> {
        // Literals are constant values once variables are set aside.
        match value {
            Value::String(s) => self.check_string(s, pos),
            Value::List(items) => items.iter().try_for_each(|v| self.check_value(v, pos)),
            Value::Object(fields) => fields.iter().try_for_each(|(name, v)| {
                self.check_string(name.as_str(), pos)?;
                self.check_value(v, pos)
            }),
            _ => Ok(()),
        }
    }

    fn check_const(&self, value: &Value, pos: Option<Pos>) -> ServerResult<()> {
        self.check_value(value, pos)
    }

    fn check_string(&self, s: &str, pos: Option<Pos>) -> ServerResult<()> {
        let located = |mut err: ServerError| {
            if let Some(pos) = pos {
                err.locations = vec![pos];
            }
            err
        };
        if s.contains('\0') {
            return Err(located(refusal(
                code::BAD_USER_INPUT,
                "an input contains a NUL character (\\u0000), which no field accepts",
            )));
        }
        if s.len() > self.max_chars && s.chars().count() > self.max_chars {
            return Err(located(refusal(
                code::BAD_USER_INPUT,
                format!(
                    "an input is {} characters long; at most {} are accepted",
                    s.chars().count(),
                    self.max_chars
                ),
            )));
        }
        if let Some(year) = out_of_range_year(s) {
            return Err(located(refusal(
                code::BAD_USER_INPUT,
                format!("`{year}` is outside the years 0001–9999 this server accepts in dates"),
            )));
        }
        Ok(())
    }
}

/// The year of a date or instant written with a sign, more than four digits or year 0 —
/// the forms outside what both databases store and compare as dates.
fn out_of_range_year(s: &str) -> Option<&str> {
    let bytes = s.as_bytes();
    let signed = matches!(bytes.first(), Some(b'+' | b'-'));
    let digits_start = usize::from(signed);
    let digits = bytes[digits_start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits < 4 {
        return None;
    }
    let year_end = digits_start + digits;
    // A date: the year, then `-MM-DD`.
    let rest = &bytes[year_end..];
    let is_date = rest.len() >= 6
        && rest[0] == b'-'
        && rest[1..3].iter().all(u8::is_ascii_digit)
        && rest[3] == b'-'
        && rest[4..6].iter().all(u8::is_ascii_digit)
        && (rest.len() == 6 || matches!(rest[6], b'T' | b't' | b' '));
    if !is_date {
        return None;
    }
    let year = &s[..year_end];
    let zero = s[digits_start..year_end].bytes().all(|b| b == b'0');
    (signed || digits > 4 || zero).then_some(year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_years_1_to_9999_are_recognised() {
        assert_eq!(out_of_range_year("+10000-01-01T00:00:00Z"), Some("+10000"));
        assert_eq!(out_of_range_year("-5000-01-01"), Some("-5000"));
        assert_eq!(out_of_range_year("0000-03-01"), Some("0000"));
        assert_eq!(out_of_range_year("10000-01-01"), Some("10000"));
        assert_eq!(out_of_range_year("2017-10-31T16:00:00Z"), None);
        assert_eq!(out_of_range_year("9999-12-31"), None);
        assert_eq!(out_of_range_year("2017-10"), None);
        assert_eq!(out_of_range_year("13800000000"), None);
        assert_eq!(out_of_range_year("-5"), None);
    }

    #[test]
    fn root_fields_count_aliases_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: x b: x ...F ... on Query { c: x } } fragment F on Query { d: x e: x }",
        )
        .unwrap();
        assert_eq!(root_fields(&doc), 5);
    }
}
