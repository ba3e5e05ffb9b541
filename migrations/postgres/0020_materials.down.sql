-- Reverts 0020_materials.up.sql.

ALTER TABLE interactions DROP COLUMN sources;
DROP TABLE material_graph_edges;
DROP TABLE material_graph_nodes;
DROP TABLE material_concepts;
DROP TABLE material_chunks;
DROP TABLE material_stages;
DROP TABLE materials;
