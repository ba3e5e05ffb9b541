//! What every paginated list needs: the `WHERE`/`AND` of built filters, the offset, the
//! total.

use ainative_domain::Page;
use ainative_ports::PortResult;

use crate::columns::{Columns, Reader};
use crate::dialect::{Conn, DbRow, Dialect};
use crate::statement::Stmt;

/// ` WHERE ` before the first condition of a list query, ` AND ` before the others.
pub(crate) fn and(first: &mut bool) -> &'static str {
    if std::mem::take(first) {
        " WHERE "
    } else {
        " AND "
    }
}

/// The page offset as a bind value.
pub(crate) fn offset(page: Page) -> i64 {
    i64::try_from(page.offset()).unwrap_or(i64::MAX)
}

/// The `COUNT(*)` in the first column of `row`, as the domain's total.
pub(crate) fn count<D: Dialect>(row: &DbRow<D>) -> PortResult<u64> {
    let total: i64 = Columns::<D>::new(row, "count").get()?;
    Ok(u64::try_from(total).unwrap_or(0))
}

/// A page of `kind` records read by `read` from `page`, whose rows carry the size of the
/// whole list as their last column. An empty page (past the end, or nothing matches)
/// carries no total: `count` gives the statement that counts.
pub(crate) async fn counted_page<D: Dialect, T>(
    conn: &mut Conn<D>,
    page: Stmt<D>,
    kind: &'static str,
    read: Reader<D, T>,
    count_all: impl FnOnce() -> Stmt<D>,
) -> PortResult<(Vec<T>, u64)> {
    let rows = page.fetch_all(conn).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut total = None;
    for row in &rows {
        let mut columns = Columns::<D>::new(row, kind);
        items.push(read(&mut columns)?);
        total = Some(columns.then("count").get::<i64>()?);
    }
    let total = match total {
        Some(total) => u64::try_from(total).unwrap_or(0),
        None => count::<D>(&count_all().fetch_one(conn).await?)?,
    };
    Ok((items, total))
}
