//! Small builders shared by the migration files: named foreign keys, named indexes and
//! the CHECK expressions used for string enumerations and non-blank names, columns added
//! and dropped.
//!
//! Every constraint gets a name (`fk_*`, `uq_*`, `idx_*`, `ck_*`) so that a violation
//! reported by the database points at the rule that was broken. SQLite keeps the names
//! of CHECK constraints in its messages but not those of foreign keys or unique indexes.

use sea_orm_migration::prelude::*;

/// A named foreign key from `column` to `to_table.to_column`, `ON DELETE RESTRICT`.
pub(crate) fn fk<C, T, R>(
    name: &'static str,
    column: C,
    to_table: T,
    to_column: R,
) -> ForeignKeyCreateStatement
where
    C: IntoIden,
    T: IntoTableRef,
    R: IntoIden,
{
    ForeignKey::create()
        .name(name)
        .from_col(column)
        .to(to_table, to_column)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A named foreign key like [`fk`], but `ON DELETE CASCADE`: the row belongs to its parent.
pub(crate) fn fk_cascade<C, T, R>(
    name: &'static str,
    column: C,
    to_table: T,
    to_column: R,
) -> ForeignKeyCreateStatement
where
    C: IntoIden,
    T: IntoTableRef,
    R: IntoIden,
{
    fk(name, column, to_table, to_column)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Creates the named (non-unique) index `name` on `table (columns...)`.
pub(crate) async fn index<T, C, I>(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: T,
    columns: I,
) -> Result<(), DbErr>
where
    T: IntoTableRef,
    C: IntoIndexColumn,
    I: IntoIterator<Item = C>,
{
    manager
        .create_index(index_statement(name, table, columns))
        .await
}

/// Creates the named unique index `name` on `table (columns...)`.
pub(crate) async fn unique<T, C, I>(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: T,
    columns: I,
) -> Result<(), DbErr>
where
    T: IntoTableRef,
    C: IntoIndexColumn,
    I: IntoIterator<Item = C>,
{
    manager
        .create_index(index_statement(name, table, columns).unique().to_owned())
        .await
}

fn index_statement<T, C, I>(name: &'static str, table: T, columns: I) -> IndexCreateStatement
where
    T: IntoTableRef,
    C: IntoIndexColumn,
    I: IntoIterator<Item = C>,
{
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(column);
    }
    statement
}

/// `column IN ('a', 'b', ...)`: the column holds one of the string values of an enumeration.
///
/// A NULL passes, as with any CHECK; nullable enumeration columns need no extra case.
pub(crate) fn one_of<C: IntoIden>(column: C, values: &[&'static str]) -> Expr {
    Expr::col(column).is_in(values.iter().copied())
}

/// `length(trim(column)) > 0`: the text is not empty nor only spaces.
pub(crate) fn not_blank<C: IntoIden>(column: C) -> Expr {
    Expr::expr(Func::cust("length").arg(Func::cust("trim").arg(Expr::col(column)))).gt(0)
}

/// Drops `tables` in the given order.
pub(crate) async fn drop_tables<T, I>(manager: &SchemaManager<'_>, tables: I) -> Result<(), DbErr>
where
    T: IntoTableRef,
    I: IntoIterator<Item = T>,
{
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

/// Adds the column `column` to `table`.
pub(crate) async fn add_column<T: IntoTableRef, C: IntoColumnDef>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

/// Drops the column `column` of `table`.
pub(crate) async fn drop_column<T: IntoTableRef, C: IntoIden>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}
