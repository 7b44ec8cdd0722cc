//! The `Period` GraphQL scalar (feature `graphql`): the orphan rule puts it beside the type.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use super::{Period, PeriodError};
use crate::code;

/// A reporting period of whole Asia/Shanghai days, written in one of six forms: a month
/// `2017-10`, an ISO 8601 week `2017-W43` (Monday to Sunday; 2018-W01 starts on Monday
/// 2018-01-01), a quarter `2017-Q4`, a half-year `2017-H1` (January to June) or `2017-H2`,
/// a year `2017`, or an inclusive range of days `2017-10-01..2017-10-15` (one day is
/// `2017-10-01..2017-10-01`). Numbers are zero-padded and `W`, `Q` and `H` are capitals.
#[Scalar(name = "Period")]
impl ScalarType for Period {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => text.parse().map_err(|err: PeriodError| {
                InputValueError::custom(err).with_extension("code", code::BAD_USER_INPUT)
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{
        EmptyMutation, EmptySubscription, Object, Request, Schema, Value, Variables,
    };
    use serde_json::json;

    use super::Period;
    use crate::code;

    struct Query;

    #[Object]
    impl Query {
        async fn days(&self, period: Period) -> i64 {
            period.days()
        }
        async fn previous(&self, period: Period) -> Period {
            period.previous()
        }
    }

    #[tokio::test]
    async fn graphql_arguments_take_periods_and_refuse_malformed_ones_as_bad_user_input() {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        assert!(schema.sdl().contains("ISO 8601 week `2017-W43`"));

        let ok = schema
            .execute(r#"{ days(period: "2017-Q4") previous(period: "2018-W01") }"#)
            .await;
        assert!(ok.errors.is_empty(), "{:?}", ok.errors);
        assert_eq!(
            ok.data.into_json().unwrap(),
            json!({ "days": 92, "previous": "2017-W52" })
        );

        let literal = schema.execute(r#"{ days(period: "2017-13") }"#).await;
        let variable = schema
            .execute(
                Request::new("query($p: Period!) { days(period: $p) }")
                    .variables(Variables::from_json(json!({ "p": "2017-W53" }))),
            )
            .await;
        for (response, problem) in [
            (literal, "there is no month 13"),
            (variable, "2017 has 52 ISO weeks"),
        ] {
            let error = &response.errors[0];
            assert!(error.message.contains(problem), "{}", error.message);
            let code = error.extensions.as_ref().and_then(|e| e.get("code"));
            assert_eq!(code, Some(&Value::from(code::BAD_USER_INPUT)), "{error:?}");
        }
    }
}
