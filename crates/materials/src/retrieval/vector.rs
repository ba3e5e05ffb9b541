//! Exact cosine-similarity search over chunk vectors (brute force: 1,000 vectors of 1,536
//! floats is 1.5 M multiply-adds, well under a millisecond).

use crate::error::MaterialError;

/// Unit-length vectors, searched by slot.
#[derive(Debug, Clone)]
pub struct VectorIndex {
    dimensions: usize,
    data: Vec<f32>,
}

impl VectorIndex {
    /// Indexes `vectors` (slot = position). Fails when they are empty, of different lengths,
    /// or contain a non-finite value.
    pub fn build<'a>(vectors: impl IntoIterator<Item = &'a [f32]>) -> Result<Self, MaterialError> {
        let mut dimensions = None;
        let mut data = Vec::new();
        for (i, vector) in vectors.into_iter().enumerate() {
            let expected = *dimensions.get_or_insert(vector.len());
            if vector.is_empty() || vector.len() != expected {
                return Err(MaterialError::BadVectors(format!(
                    "vector {i} has {} dimensions, expected {expected}",
                    vector.len()
                )));
            }
            if vector.iter().any(|x| !x.is_finite()) {
                return Err(MaterialError::BadVectors(format!(
                    "vector {i} has a non-finite value"
                )));
            }
            data.extend(normalised(vector));
        }
        Ok(Self {
            dimensions: dimensions.unwrap_or(0),
            data,
        })
    }

    /// Vector length.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Vectors indexed.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dimensions).unwrap_or(0)
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The `limit` most similar slots to `query` with their cosine similarity, best first
    /// (ties by slot). Empty when `query` has the wrong length or no direction.
    pub fn search(&self, query: &[f32], limit: usize) -> Vec<(usize, f32)> {
        if query.len() != self.dimensions || self.dimensions == 0 {
            return Vec::new();
        }
        let query = normalised(query);
        if query.iter().all(|x| *x == 0.0) {
            return Vec::new();
        }
        let mut scored: Vec<(usize, f32)> = self
            .data
            .chunks_exact(self.dimensions)
            .enumerate()
            .map(|(slot, v)| (slot, v.iter().zip(&query).map(|(a, b)| a * b).sum()))
            .collect();
        let by_score = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit, by_score);
            scored.truncate(limit);
        }
        scored.sort_by(by_score);
        scored
    }
}

fn normalised(vector: &[f32]) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return vec![0.0; vector.len()];
    }
    vector.iter().map(|x| x / norm).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_ranks_by_direction_not_length() {
        let vectors: Vec<Vec<f32>> = vec![
            vec![1.0, 0.0],
            vec![10.0, 10.0],
            vec![0.0, 3.0],
            vec![-1.0, 0.0],
        ];
        let index = VectorIndex::build(vectors.iter().map(Vec::as_slice)).expect("index");
        assert_eq!((index.len(), index.dimensions()), (4, 2));
        let hits = index.search(&[2.0, 0.1], 3);
        let slots: Vec<usize> = hits.iter().map(|h| h.0).collect();
        assert_eq!(slots, [0, 1, 2]);
        assert!((hits[0].1 - 0.9988).abs() < 1e-3);
        assert!(index.search(&[1.0, 0.0, 0.0], 3).is_empty(), "wrong length");
        assert!(index.search(&[0.0, 0.0], 3).is_empty(), "no direction");
    }

    #[test]
    fn mismatched_or_broken_vectors_are_refused() {
        let ragged: Vec<Vec<f32>> = vec![vec![1.0, 0.0], vec![1.0]];
        assert!(VectorIndex::build(ragged.iter().map(Vec::as_slice)).is_err());
        let nan: Vec<Vec<f32>> = vec![vec![f32::NAN, 0.0]];
        assert!(VectorIndex::build(nan.iter().map(Vec::as_slice)).is_err());
        let empty: Vec<Vec<f32>> = vec![vec![]];
        assert!(VectorIndex::build(empty.iter().map(Vec::as_slice)).is_err());
    }
}
