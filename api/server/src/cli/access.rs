//! `qii user` and `qii token`: the first city administrator, partner tokens and
//! revocation, from the command line (acting as the server itself; recorded in the audit
//! log like any change).

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use clap::Subcommand;
use entities::enums::UserRole;

use qii_domain::{
    auth::Authenticator,
    config::Config,
    db,
    identity::{Actor, Role},
    service::accounts,
};

/// Accounts.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input (one line), so that
    /// it stays out of the shell history.
    Create {
        #[command(flatten)]
        config: Config,
        /// The name to sign in with.
        #[arg(long)]
        username: String,
        /// The name shown to people (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// city-admin, rule-admin, town-admin, youth-home-admin or member.
        #[arg(long, value_parser = parse_role)]
        role: UserRole,
        /// For town and Youth Home administrators: the unit's code (e.g. `town-humen`) or id.
        #[arg(long)]
        org_unit: Option<String>,
        /// For members: the member's id.
        #[arg(long)]
        member: Option<i64>,
    },
}

/// Tokens.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print it (once: it is not stored).
    Issue {
        #[command(flatten)]
        config: Config,
        /// `partner` (the usual), or an account role for service accounts.
        #[arg(long, default_value = "partner")]
        role: String,
        /// Partner scopes, comma-separated, e.g. `scores:read`.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// How long it stays valid, e.g. `30d`, `12h`.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "30d")]
        ttl: std::time::Duration,
        /// Whom it is for, e.g. the partner's name.
        #[arg(long)]
        subject: String,
    },
    /// Revoke one token by its id (`jti`, printed when issued), or every token of a subject.
    Revoke {
        #[command(flatten)]
        config: Config,
        /// The token's id.
        #[arg(long, conflicts_with = "subject", required_unless_present = "subject")]
        id: Option<String>,
        /// A username or partner name: every token issued to it until now.
        #[arg(long)]
        subject: Option<String>,
        /// Why, for the audit log.
        #[arg(long, default_value = "revoked from the command line")]
        reason: String,
    },
}

fn parse_role(name: &str) -> Result<UserRole, String> {
    match name.replace('_', "-").as_str() {
        "city-admin" => Ok(UserRole::CityAdmin),
        "rule-admin" => Ok(UserRole::RuleAdmin),
        "town-admin" => Ok(UserRole::TownAdmin),
        "youth-home-admin" => Ok(UserRole::YouthHomeAdmin),
        "member" => Ok(UserRole::Member),
        other => Err(format!(
            "unknown role `{other}`: use city-admin, rule-admin, town-admin, youth-home-admin or member"
        )),
    }
}

/// Runs a `qii user` command.
pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            config,
            username,
            display_name,
            role,
            org_unit,
            member,
        } => {
            let password = read_password()?;
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            let org_unit_id = match org_unit {
                Some(unit) => Some(unit_id(&db, &unit).await?),
                None => None,
            };
            let user = accounts::create_user(
                &db,
                &Actor::system(),
                accounts::NewUser {
                    display_name: display_name.unwrap_or_else(|| username.clone()),
                    username,
                    password,
                    role,
                    org_unit_id,
                    member_id: member,
                },
            )
            .await
            .map_err(|e| e.into_anyhow())?;
            println!(
                "created account `{}` (id {}) with role {:?}",
                user.username, user.id, user.role
            );
            Ok(())
        }
    }
}

/// Runs a `qii token` command.
pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Issue {
            config,
            role,
            scopes,
            ttl,
            subject,
        } => {
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            let auth = Authenticator::open(&db, &config.auth).await?;
            let scopes = accounts::parse_scopes(&scopes).map_err(|e| e.into_anyhow())?;
            let role = match role.replace('-', "_").as_str() {
                "partner" => Role::Partner(scopes),
                "city_admin" => Role::CityAdmin,
                "rule_admin" => Role::RuleAdmin,
                other => bail!(
                    "tokens are issued for `partner`, `city_admin` or `rule_admin`, not `{other}`; town staff and members sign in with `login`"
                ),
            };
            let issued = accounts::issue_token(&db, &auth, &Actor::system(), &subject, role, ttl)
                .await
                .map_err(|e| e.into_anyhow())?;
            eprintln!(
                "token {} for `{subject}`, valid until {}; send it as `Authorization: Bearer <token>`:",
                issued.jti, issued.expires_at
            );
            println!("{}", issued.token);
            Ok(())
        }
        TokenCommand::Revoke {
            config,
            id,
            subject,
            reason,
        } => {
            let (db, _) = db::connect(&config).await?;
            db::migrate(&db).await?;
            let actor = Actor::system();
            match (id, subject) {
                (Some(id), _) => {
                    accounts::revoke_token(&db, &actor, &id, &reason)
                        .await
                        .map_err(|e| e.into_anyhow())?;
                    println!("token {id} revoked");
                }
                (None, Some(subject)) => {
                    accounts::revoke_subject(&db, &actor, &subject, &reason)
                        .await
                        .map_err(|e| e.into_anyhow())?;
                    println!("every token issued to `{subject}` so far is revoked");
                }
                (None, None) => bail!("give --id or --subject"),
            }
            Ok(())
        }
    }
}

/// One line from standard input; on a terminal, with a prompt.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (10 to 128 characters; it is shown as you type): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!(
            "no password given: pipe it in, e.g. `printf '%s' \"$PASSWORD\" | qii user create ...`"
        );
    }
    Ok(password)
}

/// An org unit by code or id.
async fn unit_id(db: &sea_orm::DatabaseConnection, unit: &str) -> anyhow::Result<i64> {
    if let Ok(id) = unit.parse::<i64>() {
        return Ok(id);
    }
    qii_domain::service::org::org_unit_by_code(db, &Actor::system(), unit)
        .await
        .map_err(|e| e.into_anyhow())?
        .map(|u| u.id)
        .with_context(|| format!("no org unit has the code `{unit}`"))
}
