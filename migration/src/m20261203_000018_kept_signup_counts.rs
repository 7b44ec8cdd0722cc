//! Kept counts: each activity carries its number of sign-ups, so that a list showing
//! `signupCount` reads it with the activity instead of counting sign-ups on every read.
//! Database triggers keep it, in the same transaction as every insert, delete or move of a
//! sign-up, whoever writes it (the services, the demo loader, an import): it cannot drift
//! from the rows it counts.
//!
//! PostgreSQL: statement-level triggers over the transition tables, so that a bulk insert
//! updates each activity once. SQLite: row-level triggers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (counted table, its key column, the table holding the count, the count column).
const KEPT: &[(&str, &str, &str, &str)] =
    &[("activity_signup", "activity_id", "activity", "signup_count")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == sea_orm::DbBackend::Postgres;
        for &(child, key, parent, count) in KEPT {
            db.execute_unprepared(&format!(
                "ALTER TABLE {parent} ADD COLUMN {count} BIGINT NOT NULL DEFAULT 0"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "UPDATE {parent} SET {count} = \
                 (SELECT COUNT(*) FROM {child} WHERE {child}.{key} = {parent}.id)"
            ))
            .await?;
            let statements = if postgres {
                postgres_triggers(child, key, parent, count)
            } else {
                sqlite_triggers(child, key, parent, count)
            };
            for statement in statements {
                db.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == sea_orm::DbBackend::Postgres;
        for &(child, _, parent, count) in KEPT {
            let name = format!("qii_kept_{parent}_{count}");
            if postgres {
                for op in ["insert", "delete", "update"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS {name}_{op} ON {child}"
                    ))
                    .await?;
                }
                db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {name}()"))
                    .await?;
            } else {
                for op in ["insert", "delete", "update"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}_{op}"))
                        .await?;
                }
            }
            db.execute_unprepared(&format!("ALTER TABLE {parent} DROP COLUMN {count}"))
                .await?;
        }
        Ok(())
    }
}

fn postgres_triggers(child: &str, key: &str, parent: &str, count: &str) -> Vec<String> {
    let name = format!("qii_kept_{parent}_{count}");
    // Adds the rows of `added`, takes away those of `removed` (either may be absent).
    let apply = |table: &str, sign: &str| {
        format!(
            "UPDATE {parent} p SET {count} = p.{count} {sign} d.n \
             FROM (SELECT {key} AS k, COUNT(*) AS n FROM {table} GROUP BY {key}) d \
             WHERE p.id = d.k;"
        )
    };
    vec![
        format!(
            "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {insert}
  ELSIF TG_OP = 'DELETE' THEN
    {delete}
  ELSE
    {update_old}
    {update_new}
  END IF;
  RETURN NULL;
END $$",
            insert = apply("new_rows", "+"),
            delete = apply("old_rows", "-"),
            update_old = apply("old_rows", "-"),
            update_new = apply("new_rows", "+"),
        ),
        format!(
            "CREATE TRIGGER {name}_insert AFTER INSERT ON {child} \
             REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        ),
        format!(
            "CREATE TRIGGER {name}_delete AFTER DELETE ON {child} \
             REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        ),
        format!(
            "CREATE TRIGGER {name}_update AFTER UPDATE ON {child} \
             REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows \
             FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        ),
    ]
}

fn sqlite_triggers(child: &str, key: &str, parent: &str, count: &str) -> Vec<String> {
    let name = format!("qii_kept_{parent}_{count}");
    vec![
        format!(
            "CREATE TRIGGER {name}_insert AFTER INSERT ON {child} BEGIN \
             UPDATE {parent} SET {count} = {count} + 1 WHERE id = NEW.{key}; END"
        ),
        format!(
            "CREATE TRIGGER {name}_delete AFTER DELETE ON {child} BEGIN \
             UPDATE {parent} SET {count} = {count} - 1 WHERE id = OLD.{key}; END"
        ),
        format!(
            "CREATE TRIGGER {name}_update AFTER UPDATE OF {key} ON {child} BEGIN \
             UPDATE {parent} SET {count} = {count} - 1 WHERE id = OLD.{key}; \
             UPDATE {parent} SET {count} = {count} + 1 WHERE id = NEW.{key}; END"
        ),
    ]
}
