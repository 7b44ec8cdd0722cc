//! `ID`: a record's id, read and checked once, where the argument is read.

use std::borrow::Cow;

use async_graphql::{
    parser::types::Field, registry::Registry, ContextSelectionSet, InputType, InputValueError,
    InputValueResult, OutputType, Positioned, ServerResult, Value, ID,
};

/// A record's id: a positive whole number, sent and received as a string (GraphQL `ID`).
/// A value that is not one is refused as the arguments are read (`BAD_USER_INPUT`), before
/// any resolver runs; resolvers receive the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

impl Id {
    /// The id a text names, when it names one: a positive whole number.
    pub fn read(text: &str) -> Option<Self> {
        text.parse::<i64>().ok().filter(|n| *n > 0).map(Id)
    }

    /// The database id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Written as GraphQL writes it: a string.
impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl From<i64> for Id {
    fn from(id: i64) -> Self {
        Self(id)
    }
}

impl From<Id> for i64 {
    fn from(id: Id) -> Self {
        id.0
    }
}

/// Compared with an id column, e.g. in a list's filters.
impl From<Id> for sea_orm::Value {
    fn from(id: Id) -> Self {
        id.0.into()
    }
}

/// Read as GraphQL reads an `ID`, and registered as the built-in `ID` scalar, so that the
/// schema keeps the standard type (and a batch row may still take a raw `ID` it checks
/// itself, reporting a malformed one with the row).
impl InputType for Id {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        <ID as InputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <ID as InputType>::create_type_info(registry)
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let value = value.unwrap_or_default();
        let id = match &value {
            Value::String(s) => Id::read(s),
            Value::Number(n) => n.as_i64().filter(|n| *n > 0).map(Id),
            _ => None,
        };
        id.ok_or_else(|| {
            InputValueError::custom(format!(
                "{value} is not an id: ids are positive whole numbers, as this API returns them"
            ))
        })
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

impl OutputType for Id {
    fn type_name() -> Cow<'static, str> {
        <ID as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <ID as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::String(self.0.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_positive_whole_numbers_as_strings_or_numbers() {
        assert_eq!(
            <Id as InputType>::parse(Some(Value::String("12".into()))).ok(),
            Some(Id(12))
        );
        assert_eq!(
            <Id as InputType>::parse(Some(Value::from(7))).ok(),
            Some(Id(7))
        );
        for odd in [
            "0",
            "-1",
            "１２",
            "1.5",
            "",
            "99999999999999999999999",
            "12 ",
        ] {
            assert!(
                <Id as InputType>::parse(Some(Value::String(odd.into()))).is_err(),
                "{odd:?}"
            );
        }
        assert!(<Id as InputType>::parse(Some(Value::Boolean(true))).is_err());
        assert!(<Id as InputType>::parse(None).is_err());
        assert_eq!(InputType::to_value(&Id(42)), Value::String("42".into()));
    }
}
