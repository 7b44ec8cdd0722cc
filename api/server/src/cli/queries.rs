//! `qii queries`: the operations the front-end teams register, which are all a server in
//! allow-list mode (`QII_PERSISTED_QUERIES=allow-list`) runs.
//!
//! Files are GraphQL documents (`.graphql`, `.gql`), each registered as the exact text
//! the client sends, or Apollo persisted-query manifests (`.json`, the
//! `apollo-persisted-query-manifest` format). Every document is checked against the
//! schema and the server's limits first; if one is refused, nothing is registered.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Subcommand;
use serde::Deserialize;

use qii_domain::{
    config::{Config, Limits},
    db,
    service::persisted::{self, sha256_hex, Document},
};

/// Registered operations.
#[derive(Debug, Subcommand)]
pub enum QueriesCommand {
    /// Register GraphQL documents: files or folders (searched for `.graphql`, `.gql` and
    /// `.json` manifests), checked against the schema first, all or nothing.
    Register {
        #[command(flatten)]
        config: Config,
        /// The files and folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// List the registered operations, oldest first.
    List {
        #[command(flatten)]
        config: Config,
    },
    /// Remove registered operations by hash (all, or none if one is not registered).
    Remove {
        #[command(flatten)]
        config: Config,
        /// Their SHA-256 hashes, as `list` shows them.
        #[arg(required = true)]
        hashes: Vec<String>,
    },
}

pub async fn run(command: QueriesCommand) -> anyhow::Result<()> {
    match command {
        QueriesCommand::Register { config, paths } => {
            let db = connect(&config).await?;
            let registered = register_paths(&db, &config.limits, &paths).await?;
            let new = registered.iter().filter(|r| r.new).count();
            for r in &registered {
                let state = if r.new { "registered" } else { "unchanged " };
                let names = if r.names.is_empty() {
                    "(anonymous)".to_owned()
                } else {
                    r.names.join(",")
                };
                println!("{state} {} {names} {}", r.hash, r.source);
            }
            println!(
                "{} document(s): {new} registered, {} already registered",
                registered.len(),
                registered.len() - new
            );
            Ok(())
        }
        QueriesCommand::List { config } => {
            let db = connect(&config).await?;
            let all = persisted::list(&db).await.map_err(super::failure)?;
            for op in &all {
                let names = if op.operation_names.is_empty() {
                    "(anonymous)"
                } else {
                    op.operation_names.as_str()
                };
                println!(
                    "{} {:<12} {names} {} {}",
                    op.hash,
                    op.kind,
                    op.source,
                    op.registered_at.format("%Y-%m-%d %H:%M:%S UTC")
                );
            }
            println!("{} registered operation(s)", all.len());
            Ok(())
        }
        QueriesCommand::Remove { config, hashes } => {
            let db = connect(&config).await?;
            let removed = persisted::remove(&db, &hashes)
                .await
                .map_err(super::failure)?;
            println!("{removed} operation(s) removed; servers stop running them within 30 s");
            Ok(())
        }
    }
}

async fn connect(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    crate::telemetry::init(&config.log);
    let (db, _) = db::connect(config).await?;
    db::migrate(&db).await?;
    Ok(db)
}

/// Reads every document under `paths`, checks each against the schema with the server's
/// limits, and registers them all, or fails listing every problem found.
pub async fn register_paths(
    db: &sea_orm::DatabaseConnection,
    limits: &Limits,
    paths: &[PathBuf],
) -> anyhow::Result<Vec<persisted::Registration>> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files).with_context(|| format!("reading {}", path.display()))?;
    }
    if files.is_empty() {
        bail!("no .graphql, .gql or .json file found in the paths given");
    }
    let schema = qii_graphql::schema_with(limits);
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for file in &files {
        match read_file(file) {
            Ok(read) => documents.extend(read),
            Err(problem) => problems.push(format!("{}: {problem}", file.display())),
        }
    }
    for document in &documents {
        let errors = qii_graphql::check_document(&schema, &document.body).await;
        for error in errors {
            let at = error
                .locations
                .first()
                .map(|pos| format!(" (line {}, column {})", pos.line, pos.column))
                .unwrap_or_default();
            problems.push(format!("{}{at}: {}", document.source, error.message));
        }
    }
    if !problems.is_empty() {
        let list: String = problems.iter().map(|p| format!("\n  {p}")).collect();
        bail!("nothing was registered:{list}");
    }
    persisted::register(db, documents)
        .await
        .map_err(super::failure)
}

/// The files a path names: itself, or the documents and manifests below a folder, sorted.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        // A missing file fails here, with the operating system's reason.
        std::fs::metadata(path)?;
        files.push(path.to_owned());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files)?;
        } else if matches!(extension(&entry).as_str(), "graphql" | "gql" | "json") {
            files.push(entry);
        }
    }
    Ok(())
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// An Apollo persisted-query manifest.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    name: Option<String>,
    body: String,
}

const MANIFEST_FORMAT: &str = "apollo-persisted-query-manifest";

/// The documents of one file.
fn read_file(file: &Path) -> Result<Vec<Document>, String> {
    let text = std::fs::read_to_string(file).map_err(|err| err.to_string())?;
    let source = file.display().to_string();
    if extension(file) != "json" {
        return Ok(vec![Document::read(source, text)?]);
    }
    let manifest: Manifest = serde_json::from_str(&text).map_err(|err| {
        format!("not an Apollo persisted-query manifest ({MANIFEST_FORMAT}, version 1): {err}")
    })?;
    if manifest.format != MANIFEST_FORMAT || manifest.version != 1 {
        return Err(format!(
            "the manifest's format is {} version {}; {MANIFEST_FORMAT} version 1 is read",
            manifest.format, manifest.version
        ));
    }
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for (i, op) in manifest.operations.into_iter().enumerate() {
        let entry = format!("{source}#{}", op.name.as_deref().unwrap_or(&i.to_string()));
        if sha256_hex(&op.body) != op.id.to_ascii_lowercase() {
            problems.push(format!(
                "{entry}: its id is not the SHA-256 of its body (clients send the body's hash)"
            ));
            continue;
        }
        match Document::read(entry.clone(), op.body) {
            Ok(document) => documents.push(document),
            Err(problem) => problems.push(format!("{entry}: {problem}")),
        }
    }
    match problems.is_empty() {
        true => Ok(documents),
        false => Err(problems.join("; ")),
    }
}
