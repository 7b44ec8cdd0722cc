//! A photo of an activity: a stored file path or a URL, with its upload time; an uploaded
//! photo also has its thumbnail's path.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_photo")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub activity_id: i64,
    pub url: String,
    pub caption: Option<String>,
    pub uploaded_at: DateTimeUtc,
    pub thumbnail_url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
