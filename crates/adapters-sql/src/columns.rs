//! Reading a row column by column, in the order of the statement's column list.

use std::fmt::Display;
use std::str::FromStr;

use ainative_ports::{PortError, PortResult};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::dialect::{DbRow, Decodes, Dialect};

/// A cursor over the columns of one row: each read takes the next column.
pub(crate) struct Columns<'r, D: Dialect> {
    row: &'r DbRow<D>,
    next: usize,
    /// The record being read, for error messages: its kind and id once known.
    record: (&'static str, Option<Uuid>),
}

impl<'r, D: Dialect> Columns<'r, D> {
    /// Starts at the first column of a row of a `kind` record (`user`, `activity`…).
    pub(crate) fn new(row: &'r DbRow<D>, kind: &'static str) -> Self {
        Self {
            row,
            next: 0,
            record: (kind, None),
        }
    }

    /// Continues on the same row with the columns of another record, `kind`.
    pub(crate) fn then(&mut self, kind: &'static str) -> &mut Self {
        self.record = (kind, None);
        self
    }

    /// Reads the record's id (the next column) and names the record by it in errors.
    pub(crate) fn id(&mut self) -> PortResult<Uuid> {
        let id = self.uuid()?;
        self.record.1 = Some(id);
        Ok(id)
    }

    fn index(&mut self) -> usize {
        let index = self.next;
        self.next += 1;
        index
    }

    /// A value both engines store alike.
    pub(crate) fn get<T>(&mut self) -> PortResult<T>
    where
        D::Db: Decodes<T>,
    {
        let index = self.index();
        <D::Db as Decodes<T>>::decode(self.row, index).map_err(unreadable)
    }

    /// A UUID that cannot be NULL.
    pub(crate) fn uuid(&mut self) -> PortResult<Uuid> {
        self.opt_uuid()?
            .ok_or_else(|| PortError::Other("a stored id is NULL".into()))
    }

    /// A UUID that may be NULL.
    pub(crate) fn opt_uuid(&mut self) -> PortResult<Option<Uuid>> {
        let index = self.index();
        D::read_uuid(self.row, index).map_err(unreadable)
    }

    /// A list of texts.
    pub(crate) fn texts(&mut self) -> PortResult<Vec<String>> {
        let index = self.index();
        D::read_texts(self.row, index).map_err(unreadable)
    }

    /// A JSON document.
    pub(crate) fn json<T: DeserializeOwned>(&mut self) -> PortResult<T> {
        let index = self.index();
        D::read_json(self.row, index).map_err(unreadable)
    }

    /// A stored enumeration name, parsed.
    pub(crate) fn parsed<T: FromStr<Err = String>>(&mut self, what: &str) -> PortResult<T> {
        let text: String = self.get()?;
        text.parse().map_err(|e| self.corrupt(what, e))
    }

    /// A value of the record that the domain refuses, reported as `Other`.
    pub(crate) fn corrupt(&self, what: &str, err: impl Display) -> PortError {
        let (kind, id) = self.record;
        let id = id.map_or_else(String::new, |id| format!(" {id}"));
        PortError::Other(format!("stored {kind}{id} has an invalid {what}: {err}").into())
    }

    /// A non-negative integer that fits a `u32`.
    /// Passes over `n` columns.
    /// The index of the next column: how many have been read or skipped.
    pub(crate) fn position(&self) -> usize {
        self.next
    }

    pub(crate) fn skip(&mut self, n: usize) {
        self.next += n;
    }

    /// Whether the next column, a UUID, is NULL (the missing side of an outer join); reads
    /// nothing.
    pub(crate) fn next_uuid_is_null(&self) -> PortResult<bool> {
        Ok(D::read_uuid(self.row, self.next)
            .map_err(unreadable)?
            .is_none())
    }

    pub(crate) fn small(&mut self, what: &str) -> PortResult<u32> {
        let value: i64 = self.get()?;
        u32::try_from(value).map_err(|e| self.corrupt(what, e))
    }
}

fn unreadable(err: sqlx::Error) -> PortError {
    PortError::other_from("cannot read a stored row", err)
}

/// Reads a record from the columns of a row.
pub(crate) type Reader<D, T> = fn(&mut Columns<'_, D>) -> PortResult<T>;

/// Reads every row with `read`, failing on the first corrupt one.
pub(crate) fn read_all<D: Dialect, T>(
    rows: &[DbRow<D>],
    kind: &'static str,
    read: Reader<D, T>,
) -> PortResult<Vec<T>> {
    rows.iter()
        .map(|row| read(&mut Columns::new(row, kind)))
        .collect()
}

/// Reads one row with `read`.
pub(crate) fn read_one<D: Dialect, T>(
    row: &DbRow<D>,
    kind: &'static str,
    read: Reader<D, T>,
) -> PortResult<T> {
    read(&mut Columns::new(row, kind))
}
