//! Integration tests: each drives a real qii server over HTTP with a fresh database.

mod helpers;

mod activities;
mod batching;
mod http;
mod org;
mod schema;
