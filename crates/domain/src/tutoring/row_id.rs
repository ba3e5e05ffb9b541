//! Ids of the rows a turn appends.

use uuid::Uuid;

/// A new id for a row a turn appends (its interaction, cognitive traces and risks): a
/// UUIDv7, which orders by creation time. Each insert then lands on the last page of the id
/// index, where the previous turn's did, instead of on a random one: on SQLite a turn
/// rewrites fewer pages into the write-ahead log and a checkpoint copies fewer (decision
/// 143). Within the process the ids increase in the order they were made.
pub fn turn_row_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_row_ids_are_version_7_and_increase() {
        let ids: Vec<Uuid> = (0..1_000).map(|_| turn_row_id()).collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "made in order, sorted in order"
        );
        // The text form, which SQLite stores, sorts alike.
        let texts: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        assert!(texts.windows(2).all(|w| w[0] < w[1]));
    }
}
