//! Integration tests: each drives a real qii server over HTTP with a fresh database.

mod helpers;

mod access;
mod activities;
mod activity_feedback;
mod activity_loop;
mod activity_rules;
mod batching;
mod compliance;
mod console_browser;
mod contest;
mod experts;
mod experts_evaluation;
mod figures;
mod hardening;
mod http;
mod incentive_forms;
mod incentives;
mod live;
mod metrics;
mod operations;
mod org;
mod persisted;
mod platform_training;
mod policies;
mod promise;
mod qa;
mod raw_figures;
mod reach;
mod releases;
mod reports;
mod reports_browser;
mod rollups;
mod schema;
mod score_changes;
mod scoring;
mod screens;
mod service_requests;
mod snapshots;
mod supervision;
mod targets;
mod trust;
mod unique;
#[path = "../support/ws.rs"]
mod ws;
