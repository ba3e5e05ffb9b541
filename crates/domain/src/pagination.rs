//! Pagination of lists: `limit` 1..=100 (default 20) and `offset` ≥ 0.

use crate::ValidationErrors;

/// A validated window into a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    limit: u32,
    offset: u64,
}

impl Page {
    /// Default number of items per page.
    pub const DEFAULT_LIMIT: u32 = 20;
    /// Largest allowed page.
    pub const MAX_LIMIT: u32 = 100;

    /// Parses optional `limit` and `offset` query values.
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let limit = limit.unwrap_or(i64::from(Self::DEFAULT_LIMIT));
        if !(1..=i64::from(Self::MAX_LIMIT)).contains(&limit) {
            errors.push("limit", "must be between 1 and 100");
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            errors.push("offset", "must not be negative");
        }
        errors.into_result()?;
        Ok(Self {
            limit: limit as u32,
            offset: offset as u64,
        })
    }

    /// Items per page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Items skipped.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// One page of a list together with the size of the whole list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Paginated<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items the whole list has.
    pub total: u64,
    /// The page size asked for.
    pub limit: u32,
    /// The offset asked for.
    pub offset: u64,
}

impl<T> Paginated<T> {
    /// Wraps a page of items.
    pub fn new(items: Vec<T>, total: u64, page: Page) -> Self {
        Self {
            items,
            total,
            limit: page.limit(),
            offset: page.offset(),
        }
    }

    /// Converts every item, keeping the counts.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paginated<U> {
        Paginated {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(Page::new(None, None).unwrap(), Page::default());
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(Some(101), None).is_err());
        assert!(Page::new(Some(100), Some(5)).is_ok());
        let err = Page::new(Some(0), Some(-1)).unwrap_err();
        assert_eq!(err.0.len(), 2);
    }
}
