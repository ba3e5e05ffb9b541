//! Storing what each stage produced, and reading it back for the later stages and the API.

use ainative_domain::{
    Chunk, Concept, ConceptGraph, EmbeddingOutput, GraphEdge, GraphNode, Ingestion, QualityReport,
    Taxonomy,
};
use ainative_ports::{PortResult, StageOutput};
use uuid::Uuid;

use crate::columns::Columns;
use crate::dialect::{Conn, Dialect};
use crate::statement::{AsJson, SqlBuilder, Stmt};
use crate::store::SqlStore;

/// Rows per multi-row insert (well under SQLite's bind limit with 7 columns).
const ROWS_PER_INSERT: usize = 200;

fn int(value: u32) -> i64 {
    i64::from(value)
}

/// Stores `output` of material `id`, replacing an earlier attempt's.
pub(super) async fn store<D: Dialect>(
    conn: &mut Conn<D>,
    id: Uuid,
    output: &StageOutput,
) -> PortResult<()> {
    match output {
        StageOutput::Ingestion(ingestion) => store_chunks::<D>(conn, id, ingestion).await,
        StageOutput::Quality(report) => store_quality::<D>(conn, id, report).await,
        StageOutput::Taxonomy(taxonomy) => store_taxonomy::<D>(conn, id, taxonomy).await,
        StageOutput::Graph(graph) => store_graph::<D>(conn, id, graph).await,
        StageOutput::Embedding(embedding) => store_embedding::<D>(conn, id, embedding).await,
    }
}

async fn delete_of<D: Dialect>(conn: &mut Conn<D>, sql: &'static str, id: Uuid) -> PortResult<()> {
    Stmt::<D>::new(sql).bind(id).execute(conn).await.map(|_| ())
}

async fn store_chunks<D: Dialect>(
    conn: &mut Conn<D>,
    id: Uuid,
    ingestion: &Ingestion,
) -> PortResult<()> {
    delete_of::<D>(
        conn,
        "DELETE FROM material_chunks WHERE material_id = $1",
        id,
    )
    .await?;
    for part in ingestion.chunks.chunks(ROWS_PER_INSERT) {
        let mut q = SqlBuilder::<D>::new(
            "INSERT INTO material_chunks (id, material_id, ordinal, section, text, tokens, \
             overlap_tokens) ",
        );
        q.push_values(part, |row, chunk| {
            row.bind(chunk.id)
                .bind(id)
                .bind(int(chunk.ordinal))
                .bind(chunk.section.as_deref())
                .bind(&chunk.text)
                .bind(int(chunk.tokens))
                .bind(int(chunk.overlap_tokens));
        });
        q.build().execute(conn).await?;
    }
    Ok(())
}

async fn store_quality<D: Dialect>(
    conn: &mut Conn<D>,
    id: Uuid,
    report: &QualityReport,
) -> PortResult<()> {
    for verdict in &report.chunks {
        Stmt::<D>::new(
            "UPDATE material_chunks SET kept = $3, quality_score = $4, language = $5 \
             WHERE material_id = $1 AND id = $2",
        )
        .bind(id)
        .bind(verdict.chunk_id)
        .bind(verdict.dropped.is_none())
        .bind(f64::from(verdict.score))
        .bind(verdict.language.as_deref())
        .execute(conn)
        .await?;
    }
    Stmt::<D>::new(
        "UPDATE materials SET quality = $2, language = $3, quality_score = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(AsJson(report))
    .bind(report.language.as_deref())
    .bind(f64::from(report.score))
    .execute(conn)
    .await
    .map(|_| ())
}

async fn store_taxonomy<D: Dialect>(
    conn: &mut Conn<D>,
    id: Uuid,
    taxonomy: &Taxonomy,
) -> PortResult<()> {
    delete_of::<D>(
        conn,
        "DELETE FROM material_concepts WHERE material_id = $1",
        id,
    )
    .await?;
    let ranked: Vec<(usize, &Concept)> = taxonomy.concepts.iter().enumerate().collect();
    for part in ranked.chunks(ROWS_PER_INSERT) {
        let mut q = SqlBuilder::<D>::new(
            "INSERT INTO material_concepts (material_id, key, rank, label, score, occurrences, \
             chunks) ",
        );
        q.push_values(part, |row, (rank, concept)| {
            row.bind(id)
                .bind(&concept.key)
                .bind(i64::try_from(*rank).unwrap_or(i64::MAX))
                .bind(&concept.label)
                .bind(f64::from(concept.score))
                .bind(int(concept.occurrences))
                .bind(int(concept.chunks));
        });
        q.build().execute(conn).await?;
    }
    Stmt::<D>::new("UPDATE materials SET tags = $2 WHERE id = $1")
        .bind(id)
        .bind(taxonomy.tags.as_slice())
        .execute(conn)
        .await
        .map(|_| ())
}

async fn store_graph<D: Dialect>(
    conn: &mut Conn<D>,
    id: Uuid,
    graph: &ConceptGraph,
) -> PortResult<()> {
    delete_of::<D>(
        conn,
        "DELETE FROM material_graph_nodes WHERE material_id = $1",
        id,
    )
    .await?;
    delete_of::<D>(
        conn,
        "DELETE FROM material_graph_edges WHERE material_id = $1",
        id,
    )
    .await?;
    let nodes: Vec<(usize, &GraphNode)> = graph.nodes.iter().enumerate().collect();
    for part in nodes.chunks(ROWS_PER_INSERT) {
        let mut q = SqlBuilder::<D>::new(
            "INSERT INTO material_graph_nodes (material_id, node_id, rank, label, weight) ",
        );
        q.push_values(part, |row, (rank, node)| {
            row.bind(id)
                .bind(&node.id)
                .bind(i64::try_from(*rank).unwrap_or(i64::MAX))
                .bind(&node.label)
                .bind(f64::from(node.weight));
        });
        q.build().execute(conn).await?;
    }
    let edges: Vec<(usize, &GraphEdge)> = graph.edges.iter().enumerate().collect();
    for part in edges.chunks(ROWS_PER_INSERT) {
        let mut q = SqlBuilder::<D>::new(
            "INSERT INTO material_graph_edges (material_id, source, target, rank, weight, \
             count) ",
        );
        q.push_values(part, |row, (rank, edge)| {
            row.bind(id)
                .bind(&edge.source)
                .bind(&edge.target)
                .bind(i64::try_from(*rank).unwrap_or(i64::MAX))
                .bind(f64::from(edge.weight))
                .bind(int(edge.count));
        });
        q.build().execute(conn).await?;
    }
    Ok(())
}

async fn store_embedding<D: Dialect>(
    conn: &mut Conn<D>,
    id: Uuid,
    embedding: &EmbeddingOutput,
) -> PortResult<()> {
    Stmt::<D>::new("UPDATE material_chunks SET vector = $2 WHERE material_id = $1")
        .bind(id)
        .bind(AsJson(&Option::<Vec<f32>>::None))
        .execute(conn)
        .await?;
    for vector in &embedding.vectors {
        Stmt::<D>::new("UPDATE material_chunks SET vector = $3 WHERE material_id = $1 AND id = $2")
            .bind(id)
            .bind(vector.chunk_id)
            .bind(AsJson(&vector.vector))
            .execute(conn)
            .await?;
    }
    Stmt::<D>::new("UPDATE materials SET embedding_kind = $2, embedding_model = $3 WHERE id = $1")
        .bind(id)
        .bind(embedding.kind.as_str())
        .bind(&embedding.model)
        .execute(conn)
        .await
        .map(|_| ())
}

fn chunk<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Chunk> {
    Ok(Chunk {
        id: c.id()?,
        ordinal: c.small("ordinal")?,
        section: c.get()?,
        text: c.get()?,
        tokens: c.small("tokens")?,
        overlap_tokens: c.small("overlap tokens")?,
    })
}

/// Every chunk of material `id`, by ordinal.
pub(super) async fn chunks<D: Dialect>(store: &SqlStore<D>, id: Uuid) -> PortResult<Vec<Chunk>> {
    let q = Stmt::new(
        "SELECT id, ordinal, section, text, tokens, overlap_tokens FROM material_chunks \
         WHERE material_id = $1 ORDER BY ordinal",
    )
    .bind(id);
    store.all(q, "material chunk", chunk::<D>).await
}

fn concept<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Concept> {
    Ok(Concept {
        key: c.get()?,
        label: c.get()?,
        score: c.get::<f64>()? as f32,
        occurrences: c.small("occurrences")?,
        chunks: c.small("chunks")?,
    })
}

/// The concepts (by rank) and tags of material `id`.
pub(super) async fn taxonomy<D: Dialect>(store: &SqlStore<D>, id: Uuid) -> PortResult<Taxonomy> {
    let concepts = Stmt::new(
        "SELECT key, label, score, occurrences, chunks FROM material_concepts \
         WHERE material_id = $1 ORDER BY rank",
    )
    .bind(id);
    let concepts = store
        .all(concepts, "material concept", concept::<D>)
        .await?;
    let tags = Stmt::new("SELECT tags FROM materials WHERE id = $1").bind(id);
    let tags = store
        .optional(tags, "material", |c| c.texts())
        .await?
        .unwrap_or_default();
    Ok(Taxonomy { concepts, tags })
}

fn node<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<GraphNode> {
    Ok(GraphNode {
        id: c.get()?,
        label: c.get()?,
        weight: c.get::<f64>()? as f32,
    })
}

fn edge<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<GraphEdge> {
    Ok(GraphEdge {
        source: c.get()?,
        target: c.get()?,
        weight: c.get::<f64>()? as f32,
        count: c.small("count")?,
    })
}

/// The concept graph of material `id` (nodes and edges by rank).
pub(super) async fn graph<D: Dialect>(store: &SqlStore<D>, id: Uuid) -> PortResult<ConceptGraph> {
    let nodes = Stmt::new(
        "SELECT node_id, label, weight FROM material_graph_nodes WHERE material_id = $1 \
         ORDER BY rank",
    )
    .bind(id);
    let edges = Stmt::new(
        "SELECT source, target, weight, count FROM material_graph_edges WHERE material_id = $1 \
         ORDER BY rank",
    )
    .bind(id);
    Ok(ConceptGraph {
        nodes: store.all(nodes, "graph node", node::<D>).await?,
        edges: store.all(edges, "graph edge", edge::<D>).await?,
    })
}
