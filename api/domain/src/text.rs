//! `Search`: a list's search text, checked where the argument is read.

use std::borrow::Cow;

use async_graphql::{registry::Registry, InputType, InputValueError, InputValueResult, Value};

/// Longest search text accepted.
pub const SEARCH_MAX: usize = 200;

/// A list's search text, at most [`SEARCH_MAX`] characters once trimmed, sent as a GraphQL
/// `String`. A longer one is refused as the arguments are read (`BAD_USER_INPUT`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search(String);

impl Search {
    /// The text, when it is not too long.
    pub fn new(text: impl Into<String>) -> Result<Self, String> {
        let text = text.into();
        if text.trim().chars().count() > SEARCH_MAX {
            return Err(format!("search for at most {SEARCH_MAX} characters"));
        }
        Ok(Self(text))
    }
}

impl std::ops::Deref for Search {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Read as a GraphQL `String` and registered as the built-in `String` scalar, so that the
/// schema keeps the standard type.
impl InputType for Search {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        <String as InputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <String as InputType>::create_type_info(registry)
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let text = <String as InputType>::parse(value).map_err(InputValueError::propagate)?;
        Search::new(text).map_err(InputValueError::custom)
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_searches_longer_than_the_limit_once_trimmed() {
        let parse = |s: String| <Search as InputType>::parse(Some(Value::String(s)));
        assert_eq!(parse("交友".into()).ok().as_deref(), Some("交友"));
        assert!(parse(format!("  {}  ", "x".repeat(SEARCH_MAX))).is_ok());
        let error = parse("x".repeat(SEARCH_MAX + 1))
            .err()
            .map(|e| e.into_server_error(Default::default()).message);
        assert!(error.is_some_and(|m| m.contains("search for at most 200 characters")));
        assert!(<Search as InputType>::parse(Some(Value::from(3))).is_err());
    }
}
