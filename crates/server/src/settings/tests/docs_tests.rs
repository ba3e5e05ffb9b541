//! `.env.example` and docs/configuration.md agree with the settings table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::super::{docs, vars};

const REGENERATE: &str = "regenerate with `cargo run -q -- config-docs` at the repository root";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn declared() -> BTreeSet<String> {
    vars::TABLE.iter().map(|s| s.display_name()).collect()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn generated_files_are_current() {
    for (path, wanted) in docs::render(&root(), vars::TABLE).unwrap() {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == wanted,
            "{} differs from what the settings table generates; {REGENERATE}",
            path.display()
        );
    }
}

#[test]
fn env_example_lists_exactly_the_declared_variables() {
    let listed: BTreeSet<String> = read(".env.example")
        .lines()
        .map(|l| l.trim_start_matches("# "))
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_<>".contains(c))
        })
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, declared(), "{REGENERATE}");
}

#[test]
fn the_docs_list_exactly_the_declared_variables() {
    let doc = read("docs/configuration.md");
    let start = doc.find(docs::BEGIN).expect("begin marker");
    let end = doc.find(docs::END).expect("end marker");
    let listed: BTreeSet<String> = doc[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .collect();
    assert_eq!(listed, declared(), "{REGENERATE}");
}
