//! The `qii` command line: serve, migrate, load demo data, print the schema.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::{config::Config, db, demo, graphql, http, telemetry};

/// qii: GraphQL API server of the Dongguan "Youth Voice" platform and its influence index.
#[derive(Debug, Parser)]
#[command(name = "qii", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the GraphQL server (migrates the database first).
    Serve {
        #[command(flatten)]
        config: Config,
        /// Load the Dongguan demo data set first (skipped when already loaded).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Load the Dongguan demo data set (idempotent) and exit.
    Demo {
        #[command(flatten)]
        config: Config,
        /// Seed of the generated activity.
        #[arg(long, default_value_t = 2017)]
        seed: u64,
        /// Size of the generated activity, 1.0 being the default data set.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Print the GraphQL schema (SDL), or write it to a file.
    Schema {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs the command line.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, demo } => {
            telemetry::init(&config.log);
            let server = http::Server::build(&config).await?;
            if demo {
                load_demo(&server.state.db, demo::DemoOptions::default()).await?;
            }
            server.run(http::shutdown_signal()).await
        }
        Command::Migrate { config } => {
            telemetry::init(&config.log);
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            tracing::info!(database = %redact(&config.effective_database_url()), "migrations applied");
            Ok(())
        }
        Command::Demo {
            config,
            seed,
            scale,
        } => {
            telemetry::init(&config.log);
            if !(scale > 0.0 && scale <= 100.0) {
                anyhow::bail!("--scale must be greater than 0 and at most 100, got {scale}");
            }
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            let options = demo::DemoOptions {
                seed,
                scale,
                ..Default::default()
            };
            load_demo(&db, options).await
        }
        Command::Schema { out } => {
            let sdl = graphql::sdl();
            match out {
                Some(path) => std::fs::write(&path, sdl)?,
                None => print!("{sdl}"),
            }
            Ok(())
        }
    }
}

async fn load_demo(
    db: &sea_orm::DatabaseConnection,
    options: demo::DemoOptions,
) -> anyhow::Result<()> {
    let summary = demo::load(db, &options).await?;
    if summary.already_loaded {
        tracing::info!("demo data already loaded; nothing to do");
    } else {
        tracing::info!(?summary, "demo data loaded");
    }
    Ok(())
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact("postgres://qii:secret@db/qii"),
            "postgres://qii@db/qii"
        );
        assert_eq!(
            redact("sqlite://qii.db?mode=rwc"),
            "sqlite://qii.db?mode=rwc"
        );
    }
}
