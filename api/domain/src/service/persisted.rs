//! Persisted operations: the GraphQL documents the front-end teams register, found by the
//! SHA-256 of their exact text (what Apollo clients send as
//! `extensions.persistedQuery.sha256Hash`). In allow-list mode the server runs these and
//! nothing else; in automatic mode a client may send a registered document's hash alone.
//!
//! Registration is all or nothing: every document is read first, and if one is refused
//! nothing is written. A document registered again is left as it is.

use std::collections::BTreeSet;

use crate::error::{RowRejection, ServiceError, ServiceResult};
use async_graphql::parser::{
    parse_query,
    types::{DocumentOperations, OperationType},
};
use chrono::Utc;
use entities::persisted_operation;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

/// The SHA-256 of a document's text, lowercase hex: the hash rule scripts are known by too.
pub use qii_engine::rules::sandbox::content_hash as sha256_hex;

/// Whether `hash` is written as a SHA-256 in hex (64 hex digits, either case).
pub fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A document read for registration: it parses and holds at least one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Where it comes from (a file's path), as listings show it.
    pub source: String,
    /// The text exactly as clients will send it: its hash is the SHA-256 of these bytes.
    pub body: String,
    /// Its operations' names, sorted (none for one anonymous operation).
    pub names: Vec<String>,
    /// `query`, `mutation`, `subscription`, or `mixed`.
    pub kind: &'static str,
}

impl Document {
    /// Reads a document; the error says what is wrong with it.
    pub fn read(source: impl Into<String>, body: String) -> Result<Self, String> {
        if body.trim().is_empty() {
            return Err("the document is empty".into());
        }
        let parsed = parse_query(&body).map_err(|err| format!("not a GraphQL document: {err}"))?;
        let (names, kinds): (Vec<Option<String>>, BTreeSet<&'static str>) = match &parsed.operations
        {
            DocumentOperations::Single(op) => (vec![None], BTreeSet::from([kind_of(op.node.ty)])),
            DocumentOperations::Multiple(ops) => (
                ops.keys().map(|name| Some(name.to_string())).collect(),
                ops.values().map(|op| kind_of(op.node.ty)).collect(),
            ),
        };
        let kind = match kinds.len() {
            1 => kinds.into_iter().next().unwrap_or("query"),
            _ => "mixed",
        };
        let mut names: Vec<String> = names.into_iter().flatten().collect();
        names.sort();
        Ok(Self {
            source: source.into(),
            body,
            names,
            kind,
        })
    }

    /// The hash clients send for it.
    pub fn hash(&self) -> String {
        sha256_hex(&self.body)
    }
}

fn kind_of(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// What a registration did with one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub hash: String,
    pub names: Vec<String>,
    pub source: String,
    /// False when the same text was registered before (it is left as it was).
    pub new: bool,
}

/// Registers documents in one transaction; the same text twice is registered once.
pub async fn register(
    db: &DatabaseConnection,
    documents: Vec<Document>,
) -> ServiceResult<Vec<Registration>> {
    let txn = db.begin().await?;
    let mut done: Vec<Registration> = Vec::with_capacity(documents.len());
    for document in documents {
        let hash = document.hash();
        let known = done.iter().any(|r| r.hash == hash)
            || persisted_operation::Entity::find_by_id(hash.clone())
                .one(&txn)
                .await?
                .is_some();
        if !known {
            let row = persisted_operation::ActiveModel {
                hash: Set(hash.clone()),
                body: Set(document.body),
                operation_names: Set(document.names.join(",")),
                kind: Set(document.kind.into()),
                source: Set(document.source.clone()),
                registered_at: Set(Utc::now()),
            };
            // The key is not generated: nothing to read back.
            persisted_operation::Entity::insert(row)
                .exec_without_returning(&txn)
                .await?;
        }
        done.push(Registration {
            hash,
            names: document.names,
            source: document.source,
            new: !known,
        });
    }
    txn.commit().await?;
    Ok(done)
}

/// The registered document with this hash (lowercase hex), if any.
pub async fn find(db: &impl ConnectionTrait, hash: &str) -> Result<Option<String>, sea_orm::DbErr> {
    Ok(persisted_operation::Entity::find_by_id(hash.to_owned())
        .one(db)
        .await?
        .map(|op| op.body))
}

/// Every registered document, oldest first.
pub async fn list(db: &DatabaseConnection) -> ServiceResult<Vec<persisted_operation::Model>> {
    Ok(persisted_operation::Entity::find()
        .order_by_asc(persisted_operation::Column::RegisteredAt)
        .order_by_asc(persisted_operation::Column::Hash)
        .all(db)
        .await?)
}

/// Removes registered documents by hash: all of them, or, when one is not registered,
/// none (every unknown hash listed).
pub async fn remove(db: &DatabaseConnection, hashes: &[String]) -> ServiceResult<usize> {
    let hashes: BTreeSet<String> = hashes.iter().map(|h| h.to_ascii_lowercase()).collect();
    let txn = db.begin().await?;
    let found: BTreeSet<String> = persisted_operation::Entity::find()
        .filter(persisted_operation::Column::Hash.is_in(hashes.iter().cloned()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|op| op.hash)
        .collect();
    let missing: Vec<RowRejection> = hashes
        .iter()
        .enumerate()
        .filter(|(_, h)| !found.contains(*h))
        .map(|(i, h)| RowRejection::new(i, "hash", format!("{h} is not registered")))
        .collect();
    if !missing.is_empty() {
        return Err(ServiceError::Rows(missing));
    }
    persisted_operation::Entity::delete_many()
        .filter(persisted_operation::Column::Hash.is_in(hashes.iter().cloned()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(hashes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_read_with_its_names_and_kind() {
        let doc = Document::read("a.graphql", "query A { x } query B { y }".into()).unwrap();
        assert_eq!(doc.names, vec!["A".to_owned(), "B".to_owned()]);
        assert_eq!(doc.kind, "query");
        let doc = Document::read("b.graphql", "{ x }".into()).unwrap();
        assert!(doc.names.is_empty());
        let doc = Document::read("c.graphql", "query A { x } mutation M { y }".into()).unwrap();
        assert_eq!(doc.kind, "mixed");
        assert!(Document::read("d.graphql", " \n".into()).is_err());
        assert!(Document::read("e.graphql", "query {".into())
            .unwrap_err()
            .starts_with("not a GraphQL document"));
    }

    #[test]
    fn the_hash_is_the_sha256_of_the_exact_text() {
        assert_eq!(
            sha256_hex("{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
        assert!(is_sha256_hex(&sha256_hex("x")));
        assert!(!is_sha256_hex("abc"));
    }
}
