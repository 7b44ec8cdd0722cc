//! Files sent with an operation, as the GraphQL multipart request specification has it:
//! the `Upload` scalar an argument takes, and the files of the request it points into.
//!
//! The server hands a request's files over as [`UploadedFiles`]; a reference to a file that
//! was not sent (a forged `Upload` value in a JSON request, an index past the files) is the
//! caller's mistake, answered `BAD_USER_INPUT`, never a fault of the server.

use async_graphql::{
    Context, InputValueError, InputValueResult, Result, Scalar, ScalarType, UploadValue, Value,
};

use qii_domain::error::{code, ServiceError};

/// How the multipart request specification's files are named in the operation's variables
/// once the server has read them.
const FILE_PREFIX: &str = "#__graphql_file__:";

/// The files a request carried, in the order of its `map`.
#[derive(Default)]
pub struct UploadedFiles(pub Vec<UploadValue>);

/// A file sent with the operation: the index of its part in the request.
#[derive(Debug, Clone, Copy)]
pub struct Upload(usize);

/// A file sent in the same `multipart/form-data` request as the operation: the operation's
/// variable is `null` and the request's `map` points a file part at it
/// (https://github.com/jaydenseric/graphql-multipart-request-spec).
#[Scalar(
    name = "Upload",
    specified_by_url = "https://github.com/jaydenseric/graphql-multipart-request-spec"
)]
impl ScalarType for Upload {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        text.strip_prefix(FILE_PREFIX)
            .and_then(|index| index.parse().ok())
            .map(Self)
            .ok_or_else(|| {
                InputValueError::custom(
                    "a file is sent as a part of a multipart/form-data request, mapped to \
                     this variable; it cannot be written in the operation or its JSON",
                )
                .with_extension("code", code::BAD_USER_INPUT)
            })
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::Null
    }
}

impl Upload {
    /// The file's content, as sent; `field` names the argument in the refusal when the
    /// request carries no such file.
    pub fn content(&self, ctx: &Context<'_>, field: &'static str) -> Result<Vec<u8>> {
        let file = ctx
            .data_opt::<UploadedFiles>()
            .and_then(|files| files.0.get(self.0))
            .ok_or_else(|| {
                ServiceError::invalid(
                    field,
                    format!(
                        "no file was sent for `{field}`: send the operation as \
                         multipart/form-data with a file part mapped to it"
                    ),
                )
            })?;
        Ok(file.content.to_vec())
    }
}
