//! Statements: SQL text with `$n` placeholders (both engines read them) and the values bound
//! to them, run on a connection with errors mapped to [`PortError`]s.

use std::fmt::Write;

use ainative_ports::{PortError, PortResult};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::error::BoxDynError;
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};
use uuid::Uuid;

use crate::dialect::{Args, Conn, DbRow, Dialect, Encodes, Run};
use crate::error::map_err;

/// A value that can be bound on dialect `D`.
pub trait Bind<D: Dialect> {
    /// Adds the value to `args`.
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError>;
}

/// Values both engines bind alike.
macro_rules! portable {
    ($($ty:ty),* $(,)?) => {
        $(
            impl<D: Dialect> Bind<D> for $ty {
                fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
                    <D::Db as Encodes<'static, $ty>>::encode(args, self)
                }
            }
        )*
    };
}

portable!(
    bool,
    Option<bool>,
    i64,
    Option<i64>,
    f64,
    Option<f64>,
    Vec<u8>,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

impl<'a, D: Dialect> Bind<D> for &'a str {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        <D::Db as Encodes<'a, &'a str>>::encode(args, self)
    }
}

impl<'a, D: Dialect> Bind<D> for Option<&'a str> {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        <D::Db as Encodes<'a, Option<&'a str>>>::encode(args, self)
    }
}

impl<D: Dialect> Bind<D> for &String {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        <&str as Bind<D>>::bind_to(self.as_str(), args)
    }
}

impl<D: Dialect> Bind<D> for Uuid {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        D::bind_uuid(args, Some(self))
    }
}

impl<D: Dialect> Bind<D> for Option<Uuid> {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        D::bind_uuid(args, self)
    }
}

impl<D: Dialect> Bind<D> for &[String] {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        D::bind_texts(args, Some(self))
    }
}

impl<D: Dialect> Bind<D> for Option<&[String]> {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        D::bind_texts(args, self)
    }
}

/// A value bound as a JSON document.
#[derive(Debug, Clone, Copy)]
pub struct AsJson<'a, T: ?Sized>(pub &'a T);

impl<D: Dialect, T: Serialize + Sync + ?Sized> Bind<D> for AsJson<'_, T> {
    fn bind_to(self, args: &mut Args<D>) -> Result<(), BoxDynError> {
        D::bind_json(args, self.0)
    }
}

/// SQL text and its bind values, ready to run.
#[must_use = "a statement does nothing until it runs"]
pub struct Stmt<D: Dialect> {
    sql: SqlStr,
    args: Args<D>,
    /// The first value that could not be encoded; reported when the statement runs.
    failed: Option<BoxDynError>,
}

impl<D: Dialect> Stmt<D> {
    /// A statement of fixed text.
    pub fn new(sql: &'static str) -> Self {
        Self::from_sql(sql.into_sql_str())
    }

    fn from_sql(sql: SqlStr) -> Self {
        Self {
            sql,
            args: Args::<D>::default(),
            failed: None,
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Bind<D>) -> Self {
        bind(&mut self.args, &mut self.failed, value);
        self
    }

    /// Its text and values; `Other` if a value could not be encoded.
    pub(crate) fn parts(self) -> PortResult<(SqlStr, Args<D>)> {
        match self.failed {
            Some(err) => Err(PortError::other_from(
                "cannot encode a bind value",
                BoxedError(err),
            )),
            None => Ok((self.sql, self.args)),
        }
    }

    /// Every row.
    pub async fn fetch_all(self, conn: &mut Conn<D>) -> PortResult<Vec<DbRow<D>>> {
        let (sql, args) = self.parts()?;
        D::Db::fetch_all(conn, sql, args)
            .await
            .map_err(map_err::<D>)
    }

    /// The first row, if any.
    pub async fn fetch_optional(self, conn: &mut Conn<D>) -> PortResult<Option<DbRow<D>>> {
        let (sql, args) = self.parts()?;
        D::Db::fetch_optional(conn, sql, args)
            .await
            .map_err(map_err::<D>)
    }

    /// The first row; none is an error (`Other`): use it where the statement always
    /// returns one.
    pub async fn fetch_one(self, conn: &mut Conn<D>) -> PortResult<DbRow<D>> {
        self.fetch_optional(conn)
            .await?
            .ok_or_else(|| PortError::Other("a statement returned no row".into()))
    }

    /// Runs it for its effect; returns how many rows it changed.
    pub async fn execute(self, conn: &mut Conn<D>) -> PortResult<u64> {
        let (sql, args) = self.parts()?;
        let done = D::Db::execute(conn, sql, args)
            .await
            .map_err(map_err::<D>)?;
        Ok(D::rows_affected(&done))
    }
}

fn bind<D: Dialect>(args: &mut Args<D>, failed: &mut Option<BoxDynError>, value: impl Bind<D>) {
    if failed.is_none() {
        if let Err(err) = value.bind_to(args) {
            *failed = Some(err);
        }
    }
}

/// A boxed error as an error type of its own (a `Box<dyn Error>` is not one).
#[derive(Debug)]
pub(crate) struct BoxedError(pub(crate) BoxDynError);

impl std::fmt::Display for BoxedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BoxedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Builds a statement whose text depends on the call (which filters are set, how many rows
/// an insert carries): text is pushed, values are bound with numbered placeholders.
pub struct SqlBuilder<D: Dialect> {
    sql: String,
    args: Args<D>,
    failed: Option<BoxDynError>,
    binds: usize,
}

impl<D: Dialect> SqlBuilder<D> {
    /// A builder starting with `sql`.
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            args: Args::<D>::default(),
            failed: None,
            binds: 0,
        }
    }

    /// Appends text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends the placeholder of a new bind value.
    pub fn push_bind(&mut self, value: impl Bind<D>) -> &mut Self {
        self.binds += 1;
        // Writing to a String cannot fail.
        let _ = write!(self.sql, "${}", self.binds);
        bind(&mut self.args, &mut self.failed, value);
        self
    }

    /// Appends `VALUES (…), (…)`: one parenthesised row per item, its values bound by
    /// `row`.
    pub fn push_values<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut row: impl FnMut(&mut ValuesRow<'_, D>, T),
    ) -> &mut Self {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            row(
                &mut ValuesRow {
                    builder: self,
                    first: true,
                },
                item,
            );
            self.push(")");
        }
        self
    }

    /// The statement.
    pub fn build(self) -> Stmt<D> {
        Stmt {
            sql: AssertSqlSafe(self.sql).into_sql_str(),
            args: self.args,
            failed: self.failed,
        }
    }
}

/// One row of [`SqlBuilder::push_values`].
pub struct ValuesRow<'b, D: Dialect> {
    builder: &'b mut SqlBuilder<D>,
    first: bool,
}

impl<D: Dialect> ValuesRow<'_, D> {
    /// Binds the row's next value.
    pub fn bind(&mut self, value: impl Bind<D>) -> &mut Self {
        if !std::mem::take(&mut self.first) {
            self.builder.push(", ");
        }
        self.builder.push_bind(value);
        self
    }
}
